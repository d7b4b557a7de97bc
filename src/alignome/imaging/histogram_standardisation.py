"""Histogram standardisation (Nyúl & Udupa 2000) fitted on training volumes, then z-normalisation (paper 001).

Paper 001 standardises each image's intensity histogram to landmarks averaged over the
training subset, then z-normalises it, with TorchIO (Pérez-García et al. 2021). This is
TorchIO 1.2.1's :class:`torchio.HistogramStandardization` and :class:`torchio.ZNormalization`
as a scikit-learn-style estimator:

* :meth:`HistogramStandardiser.fit` sees training volumes only (arrays, or files through
  ``HistogramStandardization.train``): for each, the percentiles 1, 10, 20, 25, …, 75, 80,
  90, 99 of its **brain voxels** (non-zero: the inputs are skull-stripped), mapped to
  the standard range [0, 100] and averaged — the landmarks;
* :meth:`HistogramStandardiser.transform` maps a volume's own percentiles piecewise
  linearly onto the landmarks, then z-normalises its brain voxels (mean 0, SD 1);
  voxels outside the brain stay 0 (TorchIO divides by the unbiased SD, ``torch.std``).

Anything fitted sees training subjects only: fit it inside each fold, on that fold's
training subjects' volumes, and keep :attr:`HistogramStandardiser.landmarks` in the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from alignome.errors import DataError

_IMAGE = "image"
_MASK = "brain"


def brain_mask(volume: np.ndarray) -> np.ndarray:
    """The voxels used for the statistics: non-zero (skull-stripped inputs are 0 outside the brain)."""
    return np.asarray(volume) != 0


def _check_volume(volume: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(volume, dtype=np.float32)
    if arr.ndim != 3:
        raise DataError(f"{what} has shape {arr.shape}, not a 3D volume", field="volumes",
                        fix="pass volumes as (X, Y, Z) arrays, one per image")
    if not np.isfinite(arr).all():
        raise DataError(f"{what} holds NaN or infinite values", field="volumes",
                        fix="replace them (e.g. by 0 outside the brain) before standardising")
    if brain_mask(arr).sum() < 16:
        raise DataError(f"{what} has fewer than 16 non-zero voxels", field="volumes",
                        fix="standardise skull-stripped volumes whose brain voxels are non-zero")
    return arr


class HistogramStandardiser:
    """TorchIO histogram standardisation + z-normalisation, fitted on training volumes only.

    Attributes
    ----------
    landmarks
        The averaged landmarks (13 values on the standard scale), after :meth:`fit`.
    fitted_on
        How many volumes the landmarks were fitted on.
    """

    def __init__(self) -> None:
        self.landmarks: np.ndarray | None = None
        self.fitted_on = 0

    def fit(self, volumes: Iterable[np.ndarray]) -> HistogramStandardiser:
        """Fit the landmarks on training volumes (each ``(X, Y, Z)``; read one at a time)."""
        from torchio.transforms.preprocessing.intensity.histogram_standardization import (
            DEFAULT_CUTOFF,
            _get_average_mapping,
            _get_percentiles,
        )

        # the percentiles and averaging of ``HistogramStandardization.train``, on arrays instead of
        # files (a test checks both give the same landmarks)
        percentiles = _get_percentiles(tuple(100 * np.array(DEFAULT_CUTOFF)))
        table = []
        for i, volume in enumerate(volumes):
            arr = _check_volume(volume, f"training volume {i}")
            table.append(np.percentile(arr[brain_mask(arr)], percentiles))
        if not table:
            raise DataError("no training volume to fit the histogram landmarks on", field="volumes",
                            fix="fit on the training subjects' volumes")
        self.landmarks = _get_average_mapping(np.vstack(table))
        self.fitted_on = len(table)
        return self

    def fit_training(self, volumes: Sequence[np.ndarray], subjects: Sequence[str],
                     training_subjects: Iterable[str]) -> HistogramStandardiser:
        """Fit on the rows of ``volumes`` whose subject is a training subject; the other rows are never read.

        ``volumes`` is any indexable of ``(X, Y, Z)`` arrays (e.g. a
        :class:`~alignome.imaging.cached_volumes.CachedVolumes`), row ``i`` belonging to ``subjects[i]``.
        """
        if len(volumes) != len(subjects):
            raise DataError(f"{len(volumes)} volumes but {len(subjects)} subject ids", field="subjects",
                            fix="give one subject id per volume")
        keep = set(training_subjects)
        return self.fit(volumes[i] for i, s in enumerate(subjects) if s in keep)

    def fit_paths(self, paths: Sequence[str | Path]) -> HistogramStandardiser:
        """Fit the landmarks on training NIfTI files with ``torchio.HistogramStandardization.train``."""
        from torchio import HistogramStandardization

        if not paths:
            raise DataError("no training file to fit the histogram landmarks on", field="paths",
                            fix="fit on the training subjects' images")
        self.landmarks = HistogramStandardization.train(
            [str(p) for p in paths], masking_function=lambda t: brain_mask(t.numpy()), progress=False)
        self.fitted_on = len(paths)
        return self

    def transform(self, volume: np.ndarray) -> np.ndarray:
        """Standardise one volume's histogram to the landmarks, then z-normalise its brain voxels (float32)."""
        import torchio as tio

        if self.landmarks is None:
            raise DataError("the histogram standardiser is not fitted", field="landmarks",
                            fix="call fit() on the training volumes first")
        arr = _check_volume(volume, "volume")
        mask = brain_mask(arr)
        subject = tio.Subject({_IMAGE: tio.ScalarImage(tensor=torch.from_numpy(arr[None].copy())),
                               _MASK: tio.LabelMap(tensor=torch.from_numpy(mask[None].astype(np.uint8)))})
        pipeline = tio.Compose([
            tio.HistogramStandardization({_IMAGE: self.landmarks}, masking_method=_MASK, include=[_IMAGE]),
            tio.ZNormalization(masking_method=_MASK, include=[_IMAGE]),
        ])
        out = pipeline(subject)[_IMAGE].data[0].numpy()
        return np.where(mask, out, 0.0).astype(np.float32)
