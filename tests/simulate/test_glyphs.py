"""Rendered glyphs: seeded, class-balanced, upright, and their classes tell apart by shape."""

from __future__ import annotations

import numpy as np

from alignome.imaging.glyph_set import BYCLASS, stratified_subsample
from alignome.simulate.glyphs import render_glyphs
from alignome.simulate.image_warp import rotate_images


def test_same_seed_same_glyphs_other_seed_other_glyphs():
    a, b, c = render_glyphs(124, seed=3), render_glyphs(124, seed=3), render_glyphs(124, seed=4)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)
    assert a.images.dtype == np.uint8 and a.images.shape == (124, 28, 28)
    assert a.classes == list(BYCLASS) and len(a.classes) == 62
    assert np.all(np.bincount(a.labels, minlength=62) == 2)


def test_glyphs_are_centred_ink_on_black():
    glyphs = render_glyphs(620, seed=0)
    ink = glyphs.images.astype(float)
    assert ink[:, :2, :].mean() < 5 and ink[:, :, :2].mean() < 5  # borders stay background
    rows = (ink.sum(axis=2) * np.arange(28)).sum(axis=1) / ink.sum(axis=(1, 2))
    assert abs(rows.mean() - 13.5) < 1.5


def test_classes_are_told_apart_by_a_nearest_centroid_rule():
    train, test = render_glyphs(62 * 20, seed=1), render_glyphs(62 * 5, seed=2)
    x = train.images.reshape(len(train), -1).astype(float)
    centroids = np.stack([x[train.labels == k].mean(axis=0) for k in range(62)])
    y = test.images.reshape(len(test), -1).astype(float)
    predicted = np.argmin(((y[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
    # chance is 1/62; case pairs (o/O, s/S, ...) are the same shape, so perfection is impossible
    assert (predicted == test.labels).mean() > 0.25


def test_rotation_by_90_degrees_matches_numpy_rot90():
    images = render_glyphs(8, seed=5).images.astype(np.float32) / 255
    turned = rotate_images(images, np.full(8, 90.0))
    np.testing.assert_allclose(turned, np.rot90(images, k=1, axes=(1, 2)), atol=1e-5)


def test_stratified_subsample_keeps_class_shares():
    glyphs = render_glyphs(62 * 4, seed=6)
    half = stratified_subsample(glyphs, 124, seed=0)
    assert np.all(np.bincount(half.labels, minlength=62) == 2)
    assert len(np.unique(half.images.reshape(124, -1), axis=0)) == 124
