"""Voxel PCA through the Gram matrix: the numbers of scikit-learn's PCA fitted on the same rows, and no leak."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from alignome.errors import DataError
from alignome.evaluation import voxel_pca as module
from alignome.evaluation.voxel_pca import voxel_pca
from alignome.imaging.cached_volumes import CachedVolumes


def _volumes(n: int = 30, size: int = 6, seed: int = 0) -> np.ndarray:
    """Low-rank volumes plus noise around a large mean, as MRI intensities are."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n, 4)) * np.array([5.0, 3.0, 2.0, 1.0])
    loadings = rng.normal(size=(4, size**3))
    flat = 10.0 + factors @ loadings + 0.3 * rng.normal(size=(n, size**3))
    return flat.reshape(n, size, size, size)


def _matches_up_to_sign(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape
    for j in range(got.shape[1]):
        sign = np.sign(got[:, j] @ expected[:, j])
        np.testing.assert_allclose(sign * got[:, j], expected[:, j], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("slab_bytes", [module.SLAB_BYTES, 8 * 30 * 7])  # one slab, and slabs of 7 voxels
def test_scores_equal_sklearn_pca_fitted_on_the_fit_rows(monkeypatch, slab_bytes):
    monkeypatch.setattr(module, "SLAB_BYTES", slab_bytes)
    x = _volumes()
    fit = np.arange(0, 30, 2)
    got = voxel_pca(x, fit, components=5)
    reference = PCA(n_components=5, svd_solver="full").fit(x.reshape(30, -1)[fit])
    _matches_up_to_sign(got.scores, reference.transform(x.reshape(30, -1)))
    np.testing.assert_allclose(got.explained_variance_ratio, reference.explained_variance_ratio_, rtol=1e-7)
    assert got.describe() == {"components": 5, "fit_scans": 15,
                              "explained_variance": pytest.approx(reference.explained_variance_ratio_.sum())}


def test_rows_outside_the_fit_change_nothing_but_their_own_scores():
    x = _volumes()
    fit = np.arange(15)
    base = voxel_pca(x, fit, components=4).scores
    spoiled = x.copy()
    spoiled[15:20] = np.nan  # a leak into the fit would turn every score NaN
    spoiled[20:] *= 50.0     # and outliers would turn the axes
    got = voxel_pca(spoiled, fit, components=4).scores
    np.testing.assert_array_equal(got[:15], base[:15])
    assert np.isnan(got[15:20]).all() and np.isfinite(got[20:]).all()


def test_components_are_capped_by_the_rank_of_the_fitted_rows():
    x = _volumes(n=10)
    assert voxel_pca(x, [0, 1, 2, 3], components=128).scores.shape == (10, 3)


def test_a_nan_in_a_fitted_scan_is_a_clear_error():
    x = _volumes(n=8)
    x[1, 0, 0, 0] = np.nan
    with pytest.raises(DataError, match="fitted on hold NaN"):
        voxel_pca(x, [0, 1, 2], components=2)


def test_the_memory_mapped_cache_gives_the_same_scores_as_the_array(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "SLAB_BYTES", 8 * 12 * 50)  # several slabs of the files
    x = _volumes(n=12).astype(np.float16)
    files = []
    for i, volume in enumerate(x):
        files.append(tmp_path / f"v{i}.npy")
        np.save(files[-1], volume)
    view = CachedVolumes(files, 6)
    np.testing.assert_array_equal(view.flat_voxels([3, 0], 10, 60), x.reshape(12, -1)[[3, 0], 10:60])
    np.testing.assert_allclose(voxel_pca(view, np.arange(8), 3).scores, voxel_pca(x, np.arange(8), 3).scores,
                               rtol=1e-10, atol=1e-10)
