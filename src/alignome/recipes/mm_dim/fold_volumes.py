"""A fold's input volumes: intensity standardisation fitted on the fold's pretraining images only, then z-scores."""

from __future__ import annotations

import numpy as np
import pandas as pd


def zscore(volume: np.ndarray) -> np.ndarray:
    """The volume minus its mean over its standard deviation (TorchIO's ZNormalization without a mask)."""
    sd = float(volume.std())
    return ((volume - volume.mean()) / (sd if sd > 0 else 1.0)).astype(np.float32)


def fold_volumes(volumes: dict[int, np.ndarray], images: pd.DataFrame, fit_ids: set[int],
                 histogram: bool) -> dict[int, np.ndarray]:
    """Every volume standardised with landmarks learned from the images ``fit_ids`` of its own modality.

    ``histogram`` applies histogram standardisation (Nyúl–Udupa, TorchIO's) before the z-score.
    """
    out: dict[int, np.ndarray] = {}
    for _, ids in images.loc[sorted(volumes)].groupby("modality").groups.items():
        ids = [int(i) for i in ids]
        transform = _fit_standardisation([volumes[i] for i in ids if i in fit_ids]) if histogram else None
        for i in ids:
            v = np.asarray(volumes[i], dtype=np.float32)
            out[i] = zscore(transform(v) if transform is not None else v)
    return out


def _fit_standardisation(training: list[np.ndarray]):
    from alignome.imaging.histogram_standardisation import fit_landmarks, apply_landmarks  # h16intro's module

    landmarks = fit_landmarks(training)
    return lambda v: apply_landmarks(v, landmarks)
