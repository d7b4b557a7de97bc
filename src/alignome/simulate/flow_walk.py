"""Points walked once along an atrophy flow, then read off at any distance for the price of one step.

A subject's head is shrunk from its surface once per visit and measured at several distances
to solve for its true brain volume; every one of these maps starts from the same points and
takes the same whole Euler steps. :class:`FlowWalk` takes them once, in both directions, and
keeps the points after each whole step; :meth:`FlowWalk.at` adds the one shorter step a
distance off that lattice needs, as :meth:`~alignome.simulate.brain3d.Flow.follow` does with
``step_mm``, so both give the same points to the bit (every point moves on its own).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignome.simulate.brain3d import Flow

#: slack on the whole-step count, as in Flow.follow_each (distances on the lattice take no short step)
LATTICE_SLACK = 1e-9


@dataclass(frozen=True)
class FlowWalk:
    """``flow.follow(points, d, step_mm=step_mm)`` for every ``d`` within ``[lowest_mm, highest_mm]``.

    Attributes
    ----------
    flow
        The flow walked.
    points
        ``(3, n)`` start points.
    inside
        ``(n,)`` points inside the flow's box (the others never move).
    step_mm
        Length of a whole step.
    states
        Signed number of whole steps → ``(3, inside.sum())`` points after them.
    state_index
        ``(n,)`` position of each inside point among the walked ones.
    span_mm
        The distances it can give, ``(lowest_mm, highest_mm)``.
    """

    flow: Flow
    points: np.ndarray
    inside: np.ndarray
    step_mm: float
    states: dict[int, np.ndarray]
    state_index: np.ndarray
    span_mm: tuple[float, float]

    @classmethod
    def walk(cls, flow: Flow, points: np.ndarray, step_mm: float, lowest_mm: float, highest_mm: float) -> FlowWalk:
        """Walk ``points`` (``(3, n)`` MNI mm) from ``lowest_mm`` (≤ 0, against the flow) to ``highest_mm`` (≥ 0)."""
        if lowest_mm > 0 or highest_mm < 0:
            raise ValueError(f"a walk spans 0: got {lowest_mm} to {highest_mm} mm")
        start = np.array(points, dtype=np.float64, copy=True)
        inside = flow.inside_box(start)
        states = {0: start[:, inside]}
        for sign, reach in ((1, highest_mm), (-1, -lowest_mm)):
            pts = start[:, inside]
            for k in range(1, int(np.floor(reach / step_mm + LATTICE_SLACK)) + 1):
                flow.step(pts, sign * step_mm)
                states[sign * k] = pts.copy()
        return cls(flow=flow, points=start, inside=inside, step_mm=float(step_mm), states=states,
                   state_index=np.cumsum(inside) - 1, span_mm=(float(lowest_mm), float(highest_mm)))

    def at(self, distance_mm: float, columns: np.ndarray | None = None) -> np.ndarray:
        """``(3, n)`` points followed by ``distance_mm`` (a copy), within the walked span.

        ``columns`` (indices into the points) follows those points alone, in that order.
        """
        sign = 1 if distance_mm >= 0 else -1
        full = int(np.floor(abs(distance_mm) / self.step_mm + LATTICE_SLACK))
        if not self.span_mm[0] <= distance_mm <= self.span_mm[1]:
            raise ValueError(f"{distance_mm} mm lies beyond the walked span {self.span_mm} mm")
        if columns is None:
            out, inside, moved = self.points.copy(), self.inside, self.states[sign * full]
        else:
            out, inside = self.points[:, columns], self.inside[columns]
            moved = self.states[sign * full][:, self.state_index[columns][inside]]
        if distance_mm == 0.0:
            return out
        # a NumPy float64, as Flow.follow_each's, so the short step is taken in float64 as there
        rest = np.abs(np.float64(distance_mm)) - full * self.step_mm
        if rest > LATTICE_SLACK:
            moved = moved.copy()
            self.flow.step(moved, sign * rest)
        out[:, inside] = moved
        return out
