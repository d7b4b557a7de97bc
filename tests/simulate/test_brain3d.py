"""Flows of the simulated brain (alignome.simulate.brain3d): walking many distances at once."""

from __future__ import annotations

import numpy as np

from alignome.simulate.brain3d import Flow, Grid


def _swirl_flow() -> Flow:
    """A smooth, non-uniform field on a 1 mm grid, so that Euler steps of different lengths disagree."""
    grid = Grid(shape=(20, 22, 18), spacing=1.0, origin=np.array([-10.0, -11.0, -9.0]))
    p = grid.points()
    field = np.stack([np.sin(p[1] / 5.0), np.cos(p[0] / 4.0), 0.5 * np.sin((p[0] + p[2]) / 6.0)])
    return Flow(grid=grid, field=(field / np.abs(field).max()).astype(np.float32))


def test_follow_each_equals_following_each_distance_alone() -> None:
    flow = _swirl_flow()
    pts = np.random.default_rng(0).uniform(-12.0, 12.0, size=(3, 200))  # some outside the field's box
    distances = np.array([3.0, -1.5, 0.0, 2.5, 6.0, -4.0, 0.5])
    seen = set()
    for i, moved in flow.follow_each(pts, distances, step_mm=1.0):
        seen.add(i)
        np.testing.assert_allclose(moved, flow.follow(pts, float(distances[i]), step_mm=1.0), rtol=0, atol=1e-12)
    assert seen == set(range(len(distances)))


def test_lattice_steps_are_equal_steps_when_the_distance_is_a_multiple() -> None:
    flow = _swirl_flow()
    pts = np.random.default_rng(1).uniform(-8.0, 8.0, size=(3, 100))
    same = flow.follow(pts, -6.0, step_mm=2.0)
    np.testing.assert_allclose(same, flow.follow(pts, -6.0, steps=3), rtol=0, atol=1e-12)
    # a remainder step makes it differ from equal steps, which it must on a non-uniform field
    assert np.abs(flow.follow(pts, 5.0, step_mm=2.0) - flow.follow(pts, 5.0, steps=3)).max() > 1e-6
    # and points outside the field's box never move
    far = np.array([[50.0], [0.0], [0.0]])
    assert np.array_equal(flow.follow(far, 5.0, step_mm=2.0), far)


def test_moves_looks_only_near_the_box_and_misses_nothing() -> None:
    from scipy import ndimage as ndi

    flow = _swirl_flow()
    # points inside, within one voxel outside (where interpolation still reads the edge) and far outside
    pts = np.random.default_rng(2).uniform(-14.0, 14.0, size=(3, 4000))
    idx = flow.grid.to_index(pts)
    norm2 = sum(ndi.map_coordinates(f, idx, order=1, mode="constant", cval=0.0) ** 2 for f in flow.field)
    assert np.array_equal(flow.moves(pts), norm2 > 1e-8)
    assert 0 < (norm2 > 1e-8).sum() < len(norm2)
    grid_pts = flow.grid.points()
    assert np.array_equal(flow.moves(grid_pts), flow.moves(grid_pts.reshape(3, -1)).reshape(flow.grid.shape))
