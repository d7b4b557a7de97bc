"""One walk along a flow read off at many distances (alignome.simulate.flow_walk) against following each alone."""

from __future__ import annotations

import numpy as np
import pytest

from alignome.simulate.brain3d import Flow, Grid
from alignome.simulate.flow_walk import FlowWalk


def _swirl_flow() -> Flow:
    """A smooth, non-uniform field on a 1 mm grid, so that Euler steps of different lengths disagree."""
    grid = Grid(shape=(20, 22, 18), spacing=1.0, origin=np.array([-10.0, -11.0, -9.0]))
    p = grid.points()
    field = np.stack([np.sin(p[1] / 5.0), np.cos(p[0] / 4.0), 0.5 * np.sin((p[0] + p[2]) / 6.0)])
    return Flow(grid=grid, field=(field / np.abs(field).max()).astype(np.float32))


def test_walk_gives_follow_to_the_bit_at_every_distance_and_for_chosen_points() -> None:
    flow = _swirl_flow()
    pts = np.random.default_rng(0).uniform(-12.0, 12.0, size=(3, 300))  # some outside the field's box
    walk = FlowWalk.walk(flow, pts, step_mm=2.0, lowest_mm=-6.0, highest_mm=7.0)
    columns = np.array([5, 0, 17, 299, 120])
    for distance in (0.0, -0.0, 1.3, 2.0, 5.7, 7.0, -1.0, -4.0, -5.999, -6.0, float(np.float64(-2.141708461646015))):
        alone = flow.follow(pts, distance, step_mm=2.0)
        assert np.array_equal(walk.at(distance), alone), distance
        assert np.array_equal(walk.at(distance, columns), alone[:, columns]), distance
    assert not np.array_equal(walk.at(5.7), pts)  # the points do move
    assert np.array_equal(walk.points, pts)  # and reading them off leaves the walk as it was


def test_distances_beyond_the_walk_are_refused() -> None:
    walk = FlowWalk.walk(_swirl_flow(), np.zeros((3, 4)), step_mm=2.0, lowest_mm=-2.0, highest_mm=4.0)
    with pytest.raises(ValueError, match="beyond the walked span"):
        walk.at(4.5)
    with pytest.raises(ValueError, match="spans 0"):
        FlowWalk.walk(_swirl_flow(), np.zeros((3, 4)), step_mm=2.0, lowest_mm=1.0, highest_mm=4.0)
