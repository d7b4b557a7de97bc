"""Principal components of raw voxels, fitted on some rows only: the simplest strong imaging baseline.

Exact PCA through the Gram matrix of the fitted rows (as kernel PCA with a linear kernel):
one pass over the voxels in slabs accumulates ``K = X Xfit^T`` (every row against every fitted
row) in float64; centring on the fitted rows' mean is done on ``K`` itself, the top
eigenvectors of the fitted rows' block give the components, and every row's scores are
``Kc U / s``. Memory is ``N × n_fit`` plus one slab of ``N`` rows, never the ``k × voxels``
component matrix nor all scans at full resolution, so a cohort of thousands of 96³ scans fits;
the same numbers as :class:`sklearn.decomposition.PCA` fitted on the fitted rows (up to each
component's sign, fixed here so that its largest loading on the fitted rows is positive).

A row outside the fitted ones enters only its own scores: NaN there stays there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from alignome.errors import DataError

#: Bytes of float64 one slab of all rows may take (the slab's width follows from the row count).
SLAB_BYTES = 128 * 2**20


@dataclass
class VoxelPCA:
    """Scores of every row, and what the fit saw.

    ``scores`` is ``(N, k)``; ``explained_variance_ratio`` the share of the fitted rows' total
    variance each component holds; ``fit_rows`` the rows the components were fitted on.
    """

    scores: np.ndarray
    explained_variance_ratio: np.ndarray
    fit_rows: np.ndarray

    def describe(self) -> dict[str, Any]:
        """Summary for ``metrics.json``: components, fitted rows, variance explained."""
        return {"components": int(self.scores.shape[1]), "fit_scans": int(len(self.fit_rows)),
                "explained_variance": float(self.explained_variance_ratio.sum())}


def _slab(volumes: Any, start: int, stop: int) -> np.ndarray:
    """Voxels ``start:stop`` of every row, flattened: memory-mapped cache views read only that range."""
    if hasattr(volumes, "flat_voxels"):
        return volumes.flat_voxels(np.arange(len(volumes)), start, stop)
    return np.asarray(volumes).reshape(len(volumes), -1)[:, start:stop]


def voxel_pca(volumes: Any, fit_rows: np.ndarray, components: int, progress: bool = False) -> VoxelPCA:
    """PCA of the flattened voxels fitted on ``fit_rows`` only, applied to every row.

    Parameters
    ----------
    volumes
        ``(N, ...)`` array, or a :class:`~alignome.imaging.cached_volumes.CachedVolumes` (read in voxel slabs).
    fit_rows
        Rows the components are fitted on (e.g. the training subjects' scans); no other row
        changes them.
    components
        Wanted number of components; at most ``len(fit_rows) - 1`` (the rank of centred data) and
        the number of voxels are returned.
    progress
        Show a progress bar over the voxel slabs.
    """
    fit_rows = np.unique(np.asarray(fit_rows, dtype=np.int64))
    n, n_fit = len(volumes), len(fit_rows)
    if n_fit < 2:
        raise DataError(f"voxel PCA needs at least 2 fitted scans, got {n_fit}", field="fit_rows",
                        fix="give the baseline more training subjects")
    voxels = int(np.prod(volumes.shape[1:]))
    width = max(1, SLAB_BYTES // (8 * n))
    gram = np.zeros((n, n_fit))
    for start in tqdm(range(0, voxels, width), desc="voxel PCA", disable=not progress, leave=False):
        block = _slab(volumes, start, min(start + width, voxels)).astype(np.float64)
        gram += block @ block[fit_rows].T
    # centre on the fitted rows' mean, in place: (x - m)·(f - m) = x·f - x·m - m·f + m·m
    mean_dot_fit = gram[fit_rows].mean(axis=0)
    mean_dot_mean = mean_dot_fit.mean()
    centred = gram
    centred -= gram.mean(axis=1, keepdims=True)
    centred -= mean_dot_fit
    centred += mean_dot_mean
    fit_gram = centred[fit_rows]
    if not np.isfinite(fit_gram).all():
        raise DataError("the scans the voxel PCA is fitted on hold NaN or infinite voxels", field="volumes",
                        fix="rebuild the volume cache (a damaged entry is rebuilt) or drop the bad scans")
    eigenvalues, vectors = np.linalg.eigh((fit_gram + fit_gram.T) / 2)
    order = np.argsort(eigenvalues)[::-1]
    total = max(float(eigenvalues.clip(min=0).sum()), np.finfo(float).tiny)
    k = min(components, n_fit - 1, voxels)
    keep = order[:k]
    keep = keep[eigenvalues[keep] > total * 1e-12]  # drop directions without variance
    values, vectors = eigenvalues[keep], vectors[:, keep]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    scores = centred @ vectors / np.sqrt(values)
    return VoxelPCA(scores=scores, explained_variance_ratio=values / total, fit_rows=fit_rows)
