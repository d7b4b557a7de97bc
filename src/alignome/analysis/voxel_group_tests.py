"""Voxel-wise Mann–Whitney U tests between two groups of maps, with the rank-biserial correlation (paper 001, Fig. 4).

For groups ``a`` (e.g. HC, ``n_a`` maps) and ``b`` (e.g. AD, ``n_b`` maps) of ``V``
voxels, every voxel is tested at once (ranks along the subject axis, ties averaged):

* ``u`` — the U statistic of group ``a``, ``R_a − n_a(n_a + 1)/2`` (as
  ``scipy.stats.mannwhitneyu(a, b)`` returns it);
* ``p`` — two-sided, normal approximation with tie and continuity correction
  (``scipy.stats.mannwhitneyu(..., method="asymptotic")``); 1 where every value ties;
* ``mean_difference`` — mean of b minus mean of a;
* ``rbc`` — rank-biserial correlation ``1 − 2u / (n_a n_b)`` in ``[−1, 1]``: **positive
  where group b's values tend to be larger** (+1: every b above every a).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata

from alignome.errors import DataError

#: Voxels ranked at once (bounds the memory of the ranks to n × 65,536 values).
_BLOCK = 65_536


@dataclass(frozen=True)
class VoxelGroupTest:
    """Per-voxel results, each shaped like one map."""

    u: np.ndarray
    p: np.ndarray
    rbc: np.ndarray
    mean_difference: np.ndarray
    n_a: int
    n_b: int

    def peak(self) -> tuple[int, ...]:
        """Index of the voxel of largest ``|rbc|`` (the paper's slice coordinates); of voxels that tie
        (``|rbc|`` saturates at 1 once the groups separate), the one of largest ``|mean_difference|``."""
        size = np.nan_to_num(np.abs(self.rbc), nan=-1.0)
        top = np.flatnonzero(size.ravel() >= size.max() - 1e-12)
        best = top[int(np.argmax(np.abs(self.mean_difference.ravel()[top])))]
        return tuple(int(i) for i in np.unravel_index(int(best), self.rbc.shape))


def mann_whitney_maps(group_a: np.ndarray, group_b: np.ndarray) -> VoxelGroupTest:
    """Mann–Whitney U, p-value and rank-biserial correlation at every voxel.

    Parameters
    ----------
    group_a, group_b
        ``(n_a, ...)`` and ``(n_b, ...)`` maps of the same shape after the first axis.
    """
    a = np.asarray(group_a, dtype=np.float64)
    b = np.asarray(group_b, dtype=np.float64)
    if a.shape[1:] != b.shape[1:] or a.ndim < 2:
        raise DataError(f"group maps of shapes {a.shape} and {b.shape} do not match", field="maps",
                        fix="give (subjects, ...) arrays of maps on the same grid")
    n_a, n_b = len(a), len(b)
    if n_a < 1 or n_b < 1:
        raise DataError(f"each group needs a map, got {n_a} and {n_b}", field="maps", fix="give both groups' maps")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise DataError("maps hold NaN or infinite values", field="maps", fix="replace them (e.g. by 0) first")
    shape = a.shape[1:]
    a, b = a.reshape(n_a, -1), b.reshape(n_b, -1)
    parts = [_block(a[:, i:i + _BLOCK], b[:, i:i + _BLOCK]) for i in range(0, a.shape[1], _BLOCK)]
    u, p, rbc = (np.concatenate([part[k] for part in parts]).reshape(shape) for k in range(3))
    return VoxelGroupTest(u=u, p=p, rbc=rbc, mean_difference=(b.mean(0) - a.mean(0)).reshape(shape), n_a=n_a, n_b=n_b)


def _block(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U, p and RBC of ``(n_a, k)`` against ``(n_b, k)`` values."""
    n_a, n_b = len(a), len(b)
    n = n_a + n_b
    ranks = rankdata(np.concatenate([a, b]), axis=0)
    u = ranks[:n_a].sum(0) - n_a * (n_a + 1) / 2.0
    # Σ(t³ − t) over tie groups, from the ranks: Σ r² = n(n+1)(2n+1)/6 − Σ(t³ − t)/12
    ties = np.maximum(12.0 * (n * (n + 1) * (2 * n + 1) / 6.0 - (ranks**2).sum(0)), 0.0)
    mean = n_a * n_b / 2.0
    sd = np.sqrt(np.maximum(n_a * n_b / 12.0 * ((n + 1) - ties / (n * (n - 1))), 0.0)) if n > 1 else np.zeros_like(u)
    big = np.maximum(u, n_a * n_b - u)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (big - mean - 0.5) / sd
    p = np.where(sd > 1e-12, np.clip(2.0 * norm.sf(z), 0.0, 1.0), 1.0)
    return u, p, 1.0 - 2.0 * u / (n_a * n_b)
