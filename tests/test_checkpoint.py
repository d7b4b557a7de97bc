"""Atomic checkpoints: a value comes back only when its bytes are the ones written."""

from __future__ import annotations

import numpy as np

from alignome.checkpoint import load_checkpoint, save_checkpoint


def test_a_checkpoint_round_trips_under_its_key(tmp_path):
    path = tmp_path / "fold0.pkl"
    save_checkpoint(path, "k1", {"a": np.arange(5.0)})
    assert np.array_equal(load_checkpoint(path, "k1")["a"], np.arange(5.0))
    assert load_checkpoint(path, "other") is None


def test_a_checkpoint_changed_in_place_is_recomputed_not_trusted(tmp_path):
    path = tmp_path / "fold0.pkl"
    save_checkpoint(path, "k1", np.arange(1000.0))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # inside the array's bytes: still a valid pickle, another value
    path.write_bytes(bytes(raw))
    assert load_checkpoint(path, "k1") is None
    path.write_bytes(bytes(len(raw)))  # same size, zeros
    assert load_checkpoint(path, "k1") is None
