"""The memory-mapped view of the volume cache: same rows as a stacked array, one batch in RAM at a time."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from alignome.errors import DataError
from alignome.imaging.cached_volumes import CachedVolumes

SIZE = 8


def write_entries(folder, n: int, seed: int = 0) -> list:
    """``n`` random float16 cache entries of ``SIZE``³, as the cache stores them."""
    rng = np.random.default_rng(seed)
    files = []
    for i in range(n):
        path = folder / f"entry{i}.npy"
        np.save(path, rng.normal(size=(SIZE,) * 3).astype(np.float16))
        files.append(path)
    return files


@pytest.fixture
def entries(tmp_path):
    files = write_entries(tmp_path, 6)
    return files, np.stack([np.load(f) for f in files])


@pytest.mark.parametrize("index", [2, -1, slice(None), slice(1, 5, 2), [4, 0, 4], np.array([5, 1], dtype=np.int32), []])
def test_rows_equal_the_stacked_array(entries, index):
    files, stacked = entries
    view = CachedVolumes(files, SIZE)
    assert view.shape == stacked.shape and view.ndim == 4 and len(view) == 6 and view.dtype == np.float16
    got = view[index]
    expected = stacked[np.asarray(index, dtype=np.int64)] if isinstance(index, list) else stacked[index]
    assert type(got) is np.ndarray and got.dtype == np.float16  # a copy in RAM, never a mapped file
    np.testing.assert_array_equal(got, expected)


def test_only_the_rows_asked_for_are_read_and_pickling_sends_paths(entries, monkeypatch):
    files, stacked = entries
    view = CachedVolumes(files, SIZE)
    read: list[int] = []
    original = CachedVolumes._read_into
    monkeypatch.setattr(CachedVolumes, "_read_into", lambda self, out, row: (read.append(row), original(self, out, row)))
    view[[3, 1]]
    assert read == [3, 1]
    payload = pickle.dumps(view)
    assert len(payload) < stacked[0].nbytes  # less than one volume: the paths, not the arrays
    np.testing.assert_array_equal(pickle.loads(payload)[:], stacked)
    with pytest.raises(TypeError, match="index the rows"):
        np.asarray(view)


def test_bad_entries_name_the_file(tmp_path, entries):
    files, _ = entries
    odd = tmp_path / "odd.npy"
    np.save(odd, np.zeros((SIZE, SIZE, SIZE + 1), dtype=np.float16))
    with pytest.raises(DataError, match="odd.npy"):
        CachedVolumes([files[0], odd], SIZE)[:]
    with pytest.raises(DataError, match="gone.npy"):
        CachedVolumes([tmp_path / "gone.npy"], SIZE)[0]
    with pytest.raises(IndexError):
        CachedVolumes(files, SIZE)[[6]]
    with pytest.raises(TypeError):
        CachedVolumes(files, SIZE)[np.ones(6, dtype=bool)]
