"""Bootstrap 95 % intervals of each objective's fold-averaged hold-out AUC.

Every fold's probe scores the same hold-out subjects, so one set of stratified resamples of
those subjects per modality serves every fold and every objective: a draw is the mean over folds
of the AUC on the same resample. Objectives are thus compared on paired resamples, and the
interval reflects the hold-out set's size (resampling each fold apart would shrink it by
averaging independent resamples of the same subjects).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alignome.errors import DataError
from alignome.report.bootstrap import resampled_auc, stratified_resamples
from alignome.report.intervals import DEFAULT_BOOTSTRAPS, DEFAULT_SEED, AucBootstrap, resample_seed

#: Columns of ``predictions.csv``.
PREDICTION_COLUMNS = ("objective", "modality", "fold", "subject", "y_true", "prob_1")
#: Fold number in the resample seed: one set of resamples serves every fold.
SHARED_FOLD = 0


def holdout_bootstrap(predictions: pd.DataFrame, n_boot: int = DEFAULT_BOOTSTRAPS,
                      seed: int = DEFAULT_SEED) -> AucBootstrap:
    """Draws of the fold-averaged hold-out AUC of every (objective, modality) in ``predictions``.

    ``predictions``: one row per objective, modality, fold and hold-out subject with ``y_true``
    (0 HC, 1 AD) and ``prob_1``. An (objective, modality) lacking a prediction for a hold-out
    subject of its modality gets no draws (a note says so).
    """
    missing = [c for c in PREDICTION_COLUMNS if c not in predictions.columns]
    if missing:
        raise DataError(f"predictions table lacks column(s) {', '.join(missing)}", file="predictions.csv",
                        field=missing[0], fix="rerun `alignome run`; it writes one row per hold-out subject")
    result = AucBootstrap(n_boot=n_boot, seed=seed)
    for modality, rows in predictions.groupby("modality", sort=False):
        labels = rows.drop_duplicates("subject").set_index("subject")["y_true"].sort_index()
        y = labels.to_numpy(dtype=np.int64)
        if len(np.unique(y)) < 2:
            result.notes.append(f"{modality}: the hold-out subjects lack a class; no interval.")
            continue
        index = stratified_resamples(y, n_boot, np.random.default_rng(resample_seed(seed, str(modality), SHARED_FOLD)))
        for objective, own in rows.groupby("objective", sort=False):
            per_fold = []
            for fold, one in own.groupby("fold"):
                p = one.set_index("subject")["prob_1"].reindex(labels.index).to_numpy(dtype=np.float64)
                if not np.isfinite(p).all():
                    result.notes.append(f"{objective} {modality} fold {fold}: a hold-out subject lacks a prediction.")
                    break
                per_fold.append(resampled_auc(y, np.column_stack([1.0 - p, p]), index))
            else:
                result.draws[(str(objective), str(modality))] = np.mean(per_fold, axis=0)
    return result
