"""Tests of the TorchIO histogram standardisation + z-normalisation (alignome.imaging.histogram_standardisation)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from alignome.errors import DataError
from alignome.imaging.histogram_standardisation import HistogramStandardiser

PERCENTILES = np.array([1, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 99])
USED = [0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12]  # TorchIO maps through all but the quartiles


def _volume(rng: np.random.Generator, gain: float = 1.0, offset: float = 0.0, side: int = 16) -> np.ndarray:
    """A 'skull-stripped' volume: a ball of gamma-distributed intensities in zeros."""
    idx = np.indices((side,) * 3) - (side - 1) / 2
    ball = (idx**2).sum(0) <= (side / 2 - 1) ** 2
    vol = np.zeros((side,) * 3, dtype=np.float32)
    vol[ball] = offset + gain * rng.gamma(3.0, 1.0, ball.sum())
    return vol


def _reference(volume: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Slow reference: piecewise-linear percentile → landmark map (end segments extended), then z-score."""
    brain = volume != 0
    perc = np.percentile(volume[brain], PERCENTILES)[USED]
    marks = landmarks[USED]
    out = np.zeros_like(volume, dtype=np.float64)
    for idx in zip(*np.nonzero(brain)):
        x = volume[idx]
        seg = int(np.clip(np.searchsorted(perc[1:-1], x, side="right"), 0, len(perc) - 2))
        slope = (marks[seg + 1] - marks[seg]) / (perc[seg + 1] - perc[seg])
        out[idx] = marks[seg] + slope * (x - perc[seg])
    out[brain] = (out[brain] - out[brain].mean()) / out[brain].std(ddof=1)  # TorchIO: torch.std, unbiased
    return out


def test_array_fit_equals_torchio_train_on_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vols = [_volume(rng, gain=g) for g in (0.5, 1.0, 3.0)]
    paths = []
    for i, v in enumerate(vols):
        paths.append(tmp_path / f"v{i}.nii.gz")
        nib.save(nib.Nifti1Image(v, np.eye(4)), paths[-1])
    from_arrays = HistogramStandardiser().fit(vols).landmarks
    from_files = HistogramStandardiser().fit_paths(paths).landmarks
    np.testing.assert_allclose(from_arrays, from_files, rtol=1e-6)
    assert from_arrays[0] == pytest.approx(0.0, abs=1e-9) and from_arrays[-1] == pytest.approx(100.0)


def test_transform_matches_a_slow_reference_and_keeps_the_background() -> None:
    rng = np.random.default_rng(1)
    std = HistogramStandardiser().fit([_volume(rng, gain=g) for g in (1.0, 2.0)])
    vol = _volume(rng, gain=5.0, offset=2.0)
    out = std.transform(vol)
    np.testing.assert_allclose(out, _reference(vol, std.landmarks), atol=1e-4)
    assert (out[vol == 0] == 0).all()
    assert out[vol != 0].mean() == pytest.approx(0.0, abs=1e-5)
    assert out[vol != 0].std(ddof=1) == pytest.approx(1.0, abs=1e-4)


def test_a_scanner_gain_and_offset_are_standardised_away() -> None:
    rng = np.random.default_rng(2)
    std = HistogramStandardiser().fit([_volume(rng) for _ in range(3)])
    vol = _volume(rng)
    brain = vol != 0
    other = np.where(brain, 7.0 * vol + 3.0, 0.0)
    np.testing.assert_allclose(std.transform(other), std.transform(vol), atol=1e-4)


def test_fit_training_never_reads_test_subjects() -> None:
    """Landmarks equal those fitted on the training subset alone and move when test volumes are added."""
    rng = np.random.default_rng(3)
    subjects = ["a", "a", "b", "c", "d"]
    vols = [_volume(rng, gain=1.0), _volume(rng, gain=1.2), _volume(rng, gain=0.9),
            _volume(rng, gain=1.0, offset=30.0), _volume(rng, gain=20.0)]  # c, d: test subjects, unlike the rest

    class Recording(list):
        read: list[int] = []

        def __getitem__(self, i):
            self.read.append(i)
            return super().__getitem__(i)

    rows = Recording(vols)
    fitted = HistogramStandardiser().fit_training(rows, subjects, {"a", "b"}).landmarks
    assert sorted(rows.read) == [0, 1, 2]
    np.testing.assert_allclose(fitted, HistogramStandardiser().fit(vols[:3]).landmarks)
    leaky = HistogramStandardiser().fit(vols).landmarks
    assert np.abs(leaky - fitted).max() > 1.0


def test_bad_input_is_a_data_error() -> None:
    with pytest.raises(DataError, match="not fitted"):
        HistogramStandardiser().transform(np.ones((4, 4, 4)))
    with pytest.raises(DataError, match="3D"):
        HistogramStandardiser().fit([np.ones((4, 4))])
    with pytest.raises(DataError, match="no training"):
        HistogramStandardiser().fit([])
    with pytest.raises(DataError, match="NaN"):
        HistogramStandardiser().fit([np.full((4, 4, 4), np.nan)])
