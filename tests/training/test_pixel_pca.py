"""The pixel-PCA baseline: fitted on the training images alone, equal to sklearn's PCA of those pixels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from alignome.errors import ConfigError
from alignome.training.image_embedders import EmbedderSettings, fit_embedder
from alignome.training.pixel_pca import fit_pixel_pca


def _images(n: int = 120, size: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, size, size), dtype=np.uint8)


def test_pixel_pca_reads_training_images_only() -> None:
    images = _images()
    train = np.arange(20, 100)
    honest = fit_pixel_pca(images, train, dim=5, seed=0)
    poisoned = images.astype(np.float64) / 255.0
    poisoned[np.setdiff1d(np.arange(len(images)), train)] = np.nan  # any held-out image read would spread NaN
    spied = fit_pixel_pca(poisoned, train, dim=5, seed=0)
    assert np.array_equal(spied.pca.components_, honest.pca.components_)
    assert np.array_equal(spied.pca.mean_, honest.pca.mean_)


def test_pixel_pca_is_sklearns_pca_of_the_training_pixels_scaled_to_unit_range() -> None:
    images = _images()
    train, held_out = np.arange(30, 120), np.arange(30)
    fitted = fit_embedder(EmbedderSettings(kind="pixels-pca", embedding_dim=6, seed=3), images, train)
    x = images.reshape(len(images), -1) / 255.0
    reference = PCA(n_components=6, svd_solver="full").fit(x[train])
    got = fitted.embed(images, held_out)
    want = (x[held_out] - reference.mean_) @ reference.components_.T
    signs = np.sign(np.sum(got * want, axis=0))  # a component's sign is arbitrary
    assert got.shape == (30, 6)
    assert np.allclose(got * signs, want, atol=1e-4)
    assert fitted.curve == [] and fitted.images_per_s > 0


def test_pixel_pca_keeps_no_more_components_than_the_training_images_span(caplog) -> None:
    images = _images()
    with caplog.at_level("WARNING"):
        fitted = fit_pixel_pca(images, np.arange(4), dim=5, seed=0)
    assert fitted.pca.n_components_ == 3  # 4 centred images span 3 directions
    assert fitted.embed(images, np.arange(10, 20)).shape == (10, 3)
    assert "3 components instead of embedding_dim 5" in caplog.text


def test_pixel_pca_refuses_a_single_training_image() -> None:
    with pytest.raises(ConfigError, match="embedding_dim"):
        fit_pixel_pca(_images(), np.arange(1), dim=5, seed=0)
