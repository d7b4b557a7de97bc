"""A fold's input volumes: intensity standardisation fitted on the fold's pretraining images only, then z-scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from alignome.imaging.histogram_standardisation import HistogramStandardiser


def zscore(volume: np.ndarray) -> np.ndarray:
    """The volume minus its mean over its standard deviation (TorchIO's ZNormalization without a mask)."""
    sd = float(volume.std())
    return ((volume - volume.mean()) / (sd if sd > 0 else 1.0)).astype(np.float32)


def fold_volumes(volumes: dict[int, np.ndarray], images: pd.DataFrame, fit_ids: set[int],
                 histogram: bool) -> dict[int, np.ndarray]:
    """Every volume standardised with landmarks learned from the images ``fit_ids`` of its own modality.

    ``histogram``: histogram standardisation to landmarks fitted on ``fit_ids`` (TorchIO's, then
    z-scores of the brain voxels, :class:`~alignome.imaging.histogram_standardisation.HistogramStandardiser`);
    otherwise each volume's own z-score.
    """
    out: dict[int, np.ndarray] = {}
    for _, ids in images.loc[sorted(volumes)].groupby("modality").groups.items():
        ids = [int(i) for i in ids]
        if histogram:
            standardiser = HistogramStandardiser().fit(volumes[i] for i in ids if i in fit_ids)
            out.update({i: standardiser.transform(volumes[i]) for i in ids})
        else:
            out.update({i: zscore(np.asarray(volumes[i], dtype=np.float32)) for i in ids})
    return out
