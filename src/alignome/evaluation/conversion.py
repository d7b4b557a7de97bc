"""MCI-to-AD conversion from the baseline scan: which subjects convert, and a probe that predicts it.

A subject is at risk when their first visit is diagnosed MCI and a later visit exists;
they convert when a later visit is diagnosed AD (progressive MCI) and are stable otherwise
(within their follow-up). Read from the scan table's diagnoses, so a real cohort with
follow-up diagnoses supports it as well as the simulator (whose truth records the same).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from alignome.evaluation.feasibility import holdout_problem
from alignome.evaluation.inner_cv import fit_logistic_probe
from alignome.evaluation.visit_metrics import subject_trajectories
from alignome.evaluation.visit_probes import ProbeOutcome, check_probe_inputs, probe_row, skipped_probe

TASK = "MCI-to-AD conversion"
#: Class names of the probe, negative first.
CLASSES = ("stable MCI", "converter")


def conversion_labels(scans: pd.DataFrame) -> pd.DataFrame:
    """Subjects at risk of MCI-to-AD conversion: their baseline scan's row and whether they convert.

    Returns
    -------
    pandas.DataFrame
        One row per subject whose first visit (in time order) is MCI and who has a later visit:
        ``subject``, ``position`` (row of the baseline scan in ``scans``), ``converts`` (bool:
        a later visit is AD). Empty without a ``diagnosis`` column.
    """
    columns = ["subject", "position", "converts"]
    if "diagnosis" not in scans.columns:
        return pd.DataFrame(columns=columns)
    diagnosis = scans["diagnosis"].astype(str).str.strip().to_numpy()
    rows = []
    for subject, pos in subject_trajectories(scans).items():
        if pos.size >= 2 and diagnosis[pos[0]] == "MCI":
            rows.append((subject, int(pos[0]), bool((diagnosis[pos[1:]] == "AD").any())))
    return pd.DataFrame(rows, columns=columns)


def conversion_probe(emb_train: np.ndarray, scans_train: pd.DataFrame, emb_test: np.ndarray,
                     scans_test: pd.DataFrame, seed: int = 0) -> ProbeOutcome:
    """Converter or stable, from the baseline scan's embedding of subjects at risk (AUC).

    Fitted on the training subjects at risk (logistic regression, C by inner CV on them),
    scored on the test subjects at risk, one row per subject. Skipped with the reason when
    either side lacks converters or stable subjects (two of each in training, one in test).
    ``positions`` are the baseline scans' rows of ``scans_test``.
    """
    emb_train, emb_test = check_probe_inputs(emb_train, scans_train, emb_test, scans_test)
    train, test = conversion_labels(scans_train), conversion_labels(scans_test)
    if "diagnosis" not in scans_train.columns or "diagnosis" not in scans_test.columns:
        return skipped_probe(TASK, "no 'diagnosis' column in the scan table")

    def counts(table: pd.DataFrame) -> dict[str, int]:
        return {CLASSES[1]: int(table["converts"].sum()), CLASSES[0]: int((~table["converts"].astype(bool)).sum())}

    problem = holdout_problem(counts(train), counts(test), CLASSES)
    if problem:
        return skipped_probe(TASK, f"{problem} (baseline-MCI subjects with a follow-up visit)", len(train), len(test))
    ytr = train["converts"].to_numpy(dtype=np.int64)
    yte = test["converts"].to_numpy(dtype=np.int64)
    positions = test["position"].to_numpy(dtype=np.int64)
    fitted = fit_logistic_probe(emb_train[train["position"].to_numpy(dtype=np.int64)], ytr,
                                train["subject"].to_numpy(), seed)
    proba = fitted.model.predict_proba(emb_test[positions])
    note = (f"{int(yte.sum())} converters, {int(len(yte) - yte.sum())} stable MCI among test subjects; "
            f"{fitted.note}")
    rows = [probe_row(TASK, "auc", roc_auc_score(yte, proba[:, 1]), len(train), len(test), note)]
    return ProbeOutcome(TASK, rows, positions, yte, proba, fitted.chosen)
