"""EMNIST read from IDX files the test writes in EMNIST's own (transposed) layout."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from alignome.errors import DataError
from alignome.imaging.emnist import load_emnist
from tests.io.test_idx import idx_bytes


def write_emnist(tmp_path, upright: np.ndarray, labels: np.ndarray):
    images = tmp_path / "emnist-byclass-train-images-idx3-ubyte.gz"
    label_file = tmp_path / "emnist-byclass-train-labels-idx1-ubyte.gz"
    images.write_bytes(gzip.compress(idx_bytes(upright.transpose(0, 2, 1), 0x08, ">u1")))
    label_file.write_bytes(gzip.compress(idx_bytes(labels, 0x08, ">u1")))
    return images, label_file


def test_emnist_images_come_back_upright_with_byclass_classes(tmp_path):
    upright = np.zeros((2, 28, 28), dtype=np.uint8)
    upright[0, 2:26, 13:15] = 255  # a vertical bar: "1"
    upright[1, 4, 4:24] = 255  # a top bar
    images, labels = write_emnist(tmp_path, upright, np.array([1, 36], dtype=np.uint8))
    glyphs = load_emnist(images, labels)
    np.testing.assert_array_equal(glyphs.images, upright)
    assert [glyphs.classes[k] for k in glyphs.labels] == ["1", "a"]


def test_a_mapping_file_reindexes_the_labels(tmp_path):
    upright = np.zeros((3, 28, 28), dtype=np.uint8)
    images, labels = write_emnist(tmp_path, upright, np.array([1, 26, 1], dtype=np.uint8))
    mapping = tmp_path / "emnist-letters-mapping.txt"
    mapping.write_text("\n".join(f"{k} {65 + k - 1} {97 + k - 1}" for k in range(1, 27)) + "\n")
    glyphs = load_emnist(images, labels, mapping)
    assert glyphs.classes[:2] == ["A", "B"] and len(glyphs.classes) == 26
    assert [glyphs.classes[k] for k in glyphs.labels] == ["A", "Z", "A"]


def test_labels_outside_the_classes_are_refused(tmp_path):
    images, labels = write_emnist(tmp_path, np.zeros((1, 28, 28), dtype=np.uint8), np.array([70], dtype=np.uint8))
    with pytest.raises(DataError, match="62 classes"):
        load_emnist(images, labels)
