"""Tests of voxel-wise Mann–Whitney U with rank-biserial correlation (alignome.analysis.voxel_group_tests)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from alignome.analysis.saliency import postprocess_saliency
from alignome.analysis.voxel_group_tests import mann_whitney_maps
from alignome.errors import DataError


def test_matches_scipy_at_every_voxel_with_and_without_ties() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, (9, 6))
    b = rng.normal(0.7, 1.0, (12, 6))
    a[:, 4] = np.round(a[:, 4])  # heavy ties
    b[:, 4] = np.round(b[:, 4])
    a[:, 5] = 1.0  # all tied
    b[:, 5] = 1.0
    res = mann_whitney_maps(a, b)
    for v in range(6):
        ref = mannwhitneyu(a[:, v], b[:, v], method="asymptotic")
        assert res.u[v] == pytest.approx(ref.statistic)
        assert res.p[v] == pytest.approx(ref.pvalue, rel=1e-9)
        assert res.rbc[v] == pytest.approx(1 - 2 * ref.statistic / (9 * 12))


def test_rbc_is_plus_one_when_every_b_is_larger_and_shapes_are_kept() -> None:
    a = np.zeros((4, 2, 3))
    b = np.ones((5, 2, 3))
    res = mann_whitney_maps(a, b)
    assert res.rbc.shape == (2, 3)
    np.testing.assert_allclose(res.rbc, 1.0)
    np.testing.assert_allclose(mann_whitney_maps(b, a).rbc, -1.0)


def test_the_peak_falls_in_the_planted_region_of_smoothed_saliency_maps() -> None:
    rng = np.random.default_rng(1)
    side = 16
    idx = np.indices((side,) * 3)
    brain = ((idx - 7.5) ** 2).sum(0) <= 7.5**2
    planted = ((idx - np.reshape([10, 5, 8], (3, 1, 1, 1))) ** 2).sum(0) <= 2.5**2
    # both groups' maps share a bright focus elsewhere (as an encoder's saliency does), so the
    # per-map rescaling to [0, 1] is alike and only the planted region differs
    common = 3.0 * (((idx - np.reshape([5, 10, 7], (3, 1, 1, 1))) ** 2).sum(0) <= 2.0**2)

    def maps(n: int, signal: float) -> np.ndarray:
        raw = rng.random((n, side, side, side)) + common + signal * planted
        return np.stack([postprocess_saliency(r, brain, 1.5) for r in raw])

    res = mann_whitney_maps(maps(15, 0.0), maps(15, 0.6))  # HC, then AD
    assert planted[res.peak()]
    assert res.rbc[res.peak()] > 0.6 and res.p[res.peak()] < 1e-3


def test_mismatched_maps_are_a_data_error() -> None:
    with pytest.raises(DataError, match="do not match"):
        mann_whitney_maps(np.zeros((3, 4)), np.zeros((3, 5)))
