"""The ``voxels-pca`` row: principal components of the preprocessed voxels, fitted on training subjects."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from alignome.evaluation.voxel_pca import voxel_pca
from alignome.recipes.longitudinal_mri.methods import VOXEL_PCA


def voxel_pca_embeddings(volumes: Any, rows: dict[str, np.ndarray], components: int,
                         log: logging.Logger) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Embeddings of every scan by a PCA of its voxels, and the fit's description for ``metrics.json``.

    Fitted on every visit of the training subjects (the scans the encoders train on; validation
    and test scans are only projected), with ``components`` dimensions, the projection size of
    the other methods (fewer when the training scans are fewer). The Gram-matrix PCA reads the
    memory-mapped cache in voxel slabs, so no array of all scans at full resolution is built.
    """
    fit = voxel_pca(volumes, rows["train"], components, progress=True)
    description = {**fit.describe(), "fitted_on": "every visit of the training subjects"}
    log.info("voxels-pca: %d components fitted on %d training scans hold %.0f %% of their voxel variance",
             description["components"], description["fit_scans"], 100 * description["explained_variance"])
    return {VOXEL_PCA: fit.scores}, description
