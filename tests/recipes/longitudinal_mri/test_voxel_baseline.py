"""The voxels-pca row of longitudinal-mri: fitted on the training subjects' scans only."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.decomposition import PCA

from alignome.recipes.longitudinal_mri.methods import VOXEL_PCA
from alignome.recipes.longitudinal_mri.voxel_baseline import voxel_pca_embeddings


def test_validation_and_test_scans_are_projected_never_fitted():
    rng = np.random.default_rng(3)
    volumes = (0.5 + 0.1 * rng.normal(size=(24, 5, 5, 5))).astype(np.float16)
    rows = {"train": np.arange(0, 24, 2), "val": np.array([1, 3, 5]), "test": np.arange(7, 24, 2)}
    clean, description = voxel_pca_embeddings(volumes, rows, components=128, log=logging.getLogger("test"))
    assert description["fit_scans"] == 12 and description["components"] == 11  # rank of 12 centred scans

    spoiled = volumes.copy()
    spoiled[rows["val"]] = np.nan     # a validation scan in the fit would make every score NaN
    spoiled[rows["test"]] *= 40.0     # a test scan in the fit would turn the axes
    got, _ = voxel_pca_embeddings(spoiled, rows, components=128, log=logging.getLogger("test"))
    np.testing.assert_array_equal(got[VOXEL_PCA][rows["train"]], clean[VOXEL_PCA][rows["train"]])
    assert np.isnan(got[VOXEL_PCA][rows["val"]]).all()

    flat = volumes.reshape(24, -1).astype(np.float64)
    reference = PCA(n_components=11, svd_solver="full").fit(flat[rows["train"]]).transform(flat)
    signs = np.sign((clean[VOXEL_PCA] * reference).sum(axis=0))
    np.testing.assert_allclose(clean[VOXEL_PCA] * signs, reference, atol=1e-8)
