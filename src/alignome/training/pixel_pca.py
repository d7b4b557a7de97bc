"""The simplest strong image baseline: PCA of the raw pixels, fitted on the training images only.

Each image is flattened to its pixel values (uint8 divided by 255, as the CNN embedders read
them); sklearn's :class:`~sklearn.decomposition.PCA` (``svd_solver="auto"``, seeded) is fitted
on ``images[train_rows]`` and maps any image to its top ``dim`` component scores. It has the
attribute surface of :class:`alignome.training.image_embedders.FittedEmbedder` that callers read
(``embed``, ``curve``, ``images_per_s``, ``data_share``, ``seconds``, ``temperature``,
``best_epoch``), so a study treats it as one more embedder.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.decomposition import PCA

from alignome.errors import ConfigError
from alignome.training.training_speed import TrainingSpeed


def flat_pixels(images: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``images[rows]`` as ``(len(rows), pixels)`` float64 in [0, 1] (uint8 divided by 255)."""
    x = np.asarray(images[np.asarray(rows)])
    x = x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)
    return x.reshape(len(x), -1)


@dataclass
class PixelPCA(TrainingSpeed):
    """A PCA of training images' pixels, used as an embedder."""

    pca: PCA
    seconds: float
    images_seen: int
    curve: list[dict[str, float]] = field(default_factory=list)
    data_seconds: float = 0.0
    temperature: float | None = None
    best_epoch: int | None = None

    def embed(self, images: np.ndarray, rows: np.ndarray | None = None, batch_size: int = 4096) -> np.ndarray:
        """Component scores of ``images[rows]`` (float32), read in batches."""
        rows = np.arange(len(images)) if rows is None else np.asarray(rows)
        out = [self.pca.transform(flat_pixels(images, rows[s:s + batch_size])) for s in range(0, len(rows), batch_size)]
        return (np.concatenate(out) if out else np.zeros((0, self.pca.n_components_))).astype(np.float32)


def fit_pixel_pca(images: np.ndarray, train_rows: np.ndarray, dim: int, seed: int) -> PixelPCA:
    """PCA of the pixels of ``images[train_rows]``; no other row is read.

    It keeps ``dim`` components, or as many as the centred training pixels span (one fewer than the
    training images, at most the pixels) when that is fewer, and logs the cut.
    """
    train_rows = np.asarray(train_rows)
    t0 = time.perf_counter()
    x = flat_pixels(images, train_rows)
    t1 = time.perf_counter()
    if x.shape[0] < 2 or dim < 1:
        raise ConfigError(f"a pixel PCA needs at least 2 training images and 1 component, got {x.shape[0]} images "
                          f"and embedding_dim {dim}", field="method.embedding_dim",
                          fix="give the split at least 2 training subjects and embedding_dim ≥ 1")
    kept = min(dim, x.shape[0] - 1, x.shape[1])
    if kept < dim:
        logging.getLogger(__name__).warning(
            "pixels-pca: %d components instead of embedding_dim %d (%d training images of %d pixels span no more)",
            kept, dim, x.shape[0], x.shape[1])
    pca = PCA(n_components=kept, svd_solver="auto", random_state=seed).fit(x)
    return PixelPCA(pca=pca, seconds=time.perf_counter() - t0, images_seen=len(train_rows), data_seconds=t1 - t0)
