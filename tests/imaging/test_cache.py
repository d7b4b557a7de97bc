"""MONAI preprocessing of one volume, and the content-keyed on-disk volume cache."""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from pydantic import ValidationError

import alignome.imaging.cache as cache_module
from alignome.imaging import CacheStats, PreprocessSettings, VolumeCache, preprocess_volume
from alignome.imaging.preprocess import foreground_mask

SMALL = PreprocessSettings(size=16, spacing=None)


def brain(shape: tuple[int, int, int] = (20, 24, 18), seed: int = 0) -> np.ndarray:
    """A textured, asymmetric ellipsoid on a zero background."""
    grid = np.stack(np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij"))
    inside = ((grid[0] / 0.8) ** 2 + (grid[1] / 0.9) ** 2 + (grid[2] / 0.8) ** 2) < 1
    texture = 2 + grid[0] + 0.5 * np.sin(5 * grid[1]) * grid[2] + 0.3 * grid[2] ** 2
    texture += 0.05 * np.random.default_rng(seed).standard_normal(shape)
    return (inside * texture).astype(np.float32)


def save(path: Path, data: np.ndarray, affine: np.ndarray | None = None) -> Path:
    nib.save(nib.Nifti1Image(data, np.diag([1.5, 1.5, 1.5, 1.0]) if affine is None else affine), str(path))
    return path


# ----------------------------------------------------------------------------- settings


def test_settings_are_strict_and_frozen():
    assert PreprocessSettings().model_dump() == {
        "orientation": "RAS", "spacing": (2.0, 2.0, 2.0), "intensity": "minmax", "crop_foreground": True, "size": 96,
        "steps": (), "registration": "affine"}
    with pytest.raises(ValidationError):
        PreprocessSettings(sizes=96)
    with pytest.raises(ValidationError):
        PreprocessSettings(size=4)
    with pytest.raises(ValidationError):
        PreprocessSettings(orientation="RRS")
    with pytest.raises(ValidationError):
        PreprocessSettings(intensity="histogram")
    with pytest.raises(ValidationError):
        SMALL.size = 32  # type: ignore[misc]
    assert PreprocessSettings(orientation="las").orientation == "LAS"


# ----------------------------------------------------------------------------- preprocessing


def test_minmax_output_shape_dtype_and_range(tmp_path):
    path = save(tmp_path / "a.nii.gz", brain() * 300 + 20)
    out = preprocess_volume(path, PreprocessSettings(size=16, spacing=(2.0, 2.0, 2.0)))
    assert out.shape == (16, 16, 16) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0.5


def test_zscore_standardises_the_foreground(tmp_path):
    path = save(tmp_path / "a.nii.gz", brain() * 300)
    out = preprocess_volume(path, PreprocessSettings(size=16, spacing=None, intensity="zscore", crop_foreground=False))
    native = np.asarray(nib.load(path).dataobj)
    assert out.min() < -0.5 and out.max() > 0.5        # not a [0, 1] scaling
    assert abs(out[out != 0].mean()) < 0.3              # roughly centred (after resampling)
    assert native.max() > 100                           # the input was far from standardised


def test_orientation_reorients_lps_to_the_same_ras_array(tmp_path):
    data = brain()
    ras = np.diag([1.5, 1.5, 1.5, 1.0])
    lps = ras.copy()
    lps[0, 0] = lps[1, 1] = -1.5
    lps[0, 3] = 1.5 * (data.shape[0] - 1)
    lps[1, 3] = 1.5 * (data.shape[1] - 1)
    a = save(tmp_path / "ras.nii.gz", data, ras)
    b = save(tmp_path / "lps.nii.gz", np.ascontiguousarray(data[::-1, ::-1]), lps)
    assert not np.allclose(np.asarray(nib.load(a).dataobj), np.asarray(nib.load(b).dataobj))
    for settings in (SMALL, PreprocessSettings(size=16, spacing=(2.0, 2.0, 2.0))):
        out_a, out_b = preprocess_volume(a, settings), preprocess_volume(b, settings)
        np.testing.assert_allclose(out_a, out_b, atol=1e-5)
        assert np.abs(out_a - out_a[::-1, ::-1]).max() > 0.05   # a flip would have been seen


def test_foreground_crop_removes_zero_padding(tmp_path):
    data = brain()
    boxed = np.zeros((44, 40, 50), np.float32)
    boxed[3:23, 12:36, 25:43] = data                      # off-centre in a big zero box
    alone = save(tmp_path / "alone.nii.gz", data)
    big = save(tmp_path / "box.nii.gz", boxed)
    out_alone, out_box = preprocess_volume(alone, SMALL), preprocess_volume(big, SMALL)
    np.testing.assert_allclose(out_box, out_alone, atol=1e-4)
    uncropped = SMALL.model_copy(update={"crop_foreground": False})
    assert np.abs(preprocess_volume(big, uncropped) - out_alone).max() > 0.3


def test_foreground_ignores_background_noise_and_a_bright_outlier():
    data = brain((24, 28, 22))
    boxed = np.zeros((50, 48, 40), np.float32)
    boxed[10:34, 6:34, 9:31] = data
    noisy = boxed + np.abs(np.random.default_rng(1).normal(0, 0.08, boxed.shape)).astype(np.float32)
    noisy[45, 45, 2] = 40.0                                  # one hot voxel far outside the head
    mask = foreground_mask(torch.from_numpy(noisy)[None]).numpy()[0]
    box = [np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != axis))) for axis in range(3)]
    truth = [(10, 33), (6, 33), (9, 30)]
    edges = [np.flatnonzero(data.any(axis=tuple(a for a in range(3) if a != axis))) for axis in range(3)]
    for axis, (got, (start, _), inside) in enumerate(zip(box, truth, edges)):
        assert abs(got[0] - (start + inside[0])) <= 1 and abs(got[-1] - (start + inside[-1])) <= 1, axis
    assert (noisy > noisy.min()).mean() > 0.9                # a plain "above the minimum" mask keeps everything


def test_four_d_with_last_axis_one_is_one_volume(tmp_path):
    data = brain()
    three = save(tmp_path / "three.nii.gz", data)
    four = save(tmp_path / "four.nii.gz", data[..., None])
    np.testing.assert_array_equal(preprocess_volume(three, SMALL), preprocess_volume(four, SMALL))


# ----------------------------------------------------------------------------- cache


@pytest.fixture
def volumes(tmp_path) -> list[Path]:
    folder = tmp_path / "nifti"
    folder.mkdir()
    return [save(folder / f"v{i}.nii", brain(seed=i) * (i + 1)) for i in range(3)]


class Counter:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, path, settings):
        self.calls.append(Path(path).name)
        return preprocess_volume(path, settings)


def test_second_build_is_all_hits_and_preprocesses_nothing(tmp_path, volumes, monkeypatch):
    counter = Counter()
    monkeypatch.setattr(cache_module, "preprocess_volume", counter)
    cache = VolumeCache(tmp_path / "cache", SMALL)
    first = cache.build(volumes, jobs=1, progress=False)
    assert isinstance(first, CacheStats) and (first.hits, first.built) == (0, 3)
    assert sorted(counter.calls) == ["v0.nii", "v1.nii", "v2.nii"]
    again = VolumeCache(tmp_path / "cache", SMALL).build(volumes + volumes[:1], jobs=1, progress=True)
    assert (again.hits, again.built) == (3, 0) and len(counter.calls) == 3
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(files) == 6 and sorted({Path(f).suffix for f in files}) == [".npy", ".sha256"]  # no temporary file left


def test_changed_byte_or_setting_gives_a_new_key_and_a_rebuild(tmp_path, volumes, monkeypatch):
    counter = Counter()
    monkeypatch.setattr(cache_module, "preprocess_volume", counter)
    cache = VolumeCache(tmp_path / "cache", SMALL)
    cache.build(volumes, jobs=1, progress=False)
    before = cache.key(volumes[1])
    assert len({cache.key(v) for v in volumes}) == 3 and len(before) == 64
    raw = bytearray(volumes[1].read_bytes())
    raw[-5] ^= 0x01                                          # one byte of the voxel data
    volumes[1].write_bytes(bytes(raw))
    stat = os.stat(volumes[1])
    os.utime(volumes[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cache.key(volumes[1]) != before
    assert VolumeCache(tmp_path / "cache", SMALL).key(volumes[1]) == cache.key(volumes[1])
    stats = cache.build(volumes, jobs=1, progress=False)
    assert (stats.hits, stats.built) == (2, 1) and counter.calls[-1] == "v1.nii"
    other = VolumeCache(tmp_path / "cache", SMALL.model_copy(update={"intensity": "zscore"}))
    assert other.key(volumes[0]) != cache.key(volumes[0])
    assert other.build(volumes, jobs=1, progress=False).built == 3


def test_file_hash_is_computed_once_per_unchanged_file(tmp_path, volumes, monkeypatch):
    calls: list[str] = []
    real = cache_module.file_sha256

    def counting(path):
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(cache_module, "file_sha256", counting)
    cache = VolumeCache(tmp_path / "cache", SMALL)
    for _ in range(3):
        cache.key(volumes[0])
    cache.build(volumes, jobs=1, progress=False)
    cache.stack(volumes)
    assert len(calls) == 3


def test_stack_equals_direct_preprocessing_in_float16(tmp_path, volumes):
    cache = VolumeCache(tmp_path / "cache", SMALL)
    order = [volumes[2], volumes[0], volumes[1], volumes[0]]
    stacked = cache.stack(order)
    assert stacked.shape == (4, 16, 16, 16) and stacked.dtype == np.float16
    for row, path in zip(stacked, order):
        direct = preprocess_volume(path, SMALL)
        np.testing.assert_allclose(row.astype(np.float32), direct, rtol=1e-3, atol=1e-3)
    loaded = cache.load(volumes[1])
    assert isinstance(loaded, np.memmap) and loaded.dtype == np.float16 and loaded.shape == (16, 16, 16)


def test_parallel_build_matches_serial_build(tmp_path, volumes):
    serial = VolumeCache(tmp_path / "serial", SMALL)
    parallel = VolumeCache(tmp_path / "parallel", SMALL)
    stats = parallel.build(volumes, jobs=2, progress=True)
    assert (stats.hits, stats.built) == (0, 3)
    np.testing.assert_array_equal(parallel.stack(volumes), serial.stack(volumes))


def test_unreadable_cache_entry_is_rebuilt(tmp_path, volumes):
    cache = VolumeCache(tmp_path / "cache", SMALL)
    good = np.array(cache.load(volumes[0]))
    cache.file(volumes[0]).write_bytes(b"garbage")
    np.testing.assert_array_equal(np.array(cache.load(volumes[0])), good)


def test_an_entry_overwritten_in_place_is_rebuilt_and_counted_as_rebuilt(tmp_path, volumes, monkeypatch):
    counter = Counter()
    monkeypatch.setattr(cache_module, "preprocess_volume", counter)
    cache = VolumeCache(tmp_path / "cache", SMALL)
    good = cache.stack(volumes)
    entry = cache.file(volumes[1])
    entry.write_bytes(entry.read_bytes()[:128] + bytes(entry.stat().st_size - 128))  # same size, header kept, zeros
    fresh = VolumeCache(tmp_path / "cache", SMALL)  # a later run
    stats = fresh.build(volumes, jobs=1, progress=False)
    assert (stats.hits, stats.built, stats.rebuilt) == (2, 1, 1)
    assert counter.calls[-1] == "v1.nii"
    np.testing.assert_array_equal(fresh.stack(volumes), good)
    # within a run, a load notices it too
    entry.write_bytes(entry.read_bytes()[:128] + bytes(entry.stat().st_size - 128))
    np.testing.assert_array_equal(np.array(fresh.load(volumes[1])), good[1])
