"""Longitudinal pairing (paper 000): scans get the nearest diagnosis within a window;
the downstream classifier uses each subject's final labelled visit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from alignome.cohort.ages import DAYS_PER_YEAR
from alignome.cohort.model import Cohort

PAIR_COLUMNS = ["subject", "age", "scan_row", "diagnosis", "mmse", "sex", "education"]
_SLACK_DAYS = 1e-3  # float slack so that exactly ``window_days`` apart still pairs


def _demographics(frame: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    subjects = cohort.subjects
    frame = frame.copy()
    frame["sex"] = frame["subject"].map(subjects["sex"]).astype(float)
    frame["education"] = frame["subject"].map(subjects["education"]).astype(float)
    return frame


def pair_scans(cohort: Cohort, window_days: float = 90.0) -> pd.DataFrame:
    """One row per scan with the diagnosis of the nearest labelled assessment.

    Parameters
    ----------
    cohort
        The cohort.
    window_days
        A diagnosis (and that assessment's MMSE) is attached when the nearest
        assessment with a diagnosis lies within this many days
        (``|Δage| · 365.25 ≤ window_days``); otherwise diagnosis and MMSE are
        missing and the scan is kept (it still serves contrastive pretraining).
        Of two equally near assessments the earlier is taken.

    Returns
    -------
    pandas.DataFrame
        Columns ``subject, age, scan_row, diagnosis, mmse, sex, education``;
        ``scan_row`` is the position of the scan in ``cohort.scans``; rows in
        the order of ``cohort.scans``.
    """
    scans = pd.DataFrame(
        {"subject": cohort.scans["subject"].astype(object).to_numpy(),
         "age": cohort.scans["age"].to_numpy(dtype=float),
         "scan_row": np.arange(len(cohort.scans), dtype=np.int64)}
    )
    assessments = cohort.assessments
    labelled = assessments.loc[assessments["diagnosis"].notna(), ["subject", "age", "diagnosis", "mmse"]]
    labelled = pd.DataFrame(
        {"subject": labelled["subject"].astype(object).to_numpy(),
         "assessment_age": labelled["age"].to_numpy(dtype=float),
         "diagnosis": labelled["diagnosis"].astype(object).to_numpy(),
         "mmse": labelled["mmse"].to_numpy(dtype=float)}
    )
    merged = pd.merge_asof(
        scans.sort_values("age", kind="stable"),
        labelled.sort_values("assessment_age", kind="stable"),
        left_on="age",
        right_on="assessment_age",
        by="subject",
        direction="nearest",
        tolerance=(window_days + _SLACK_DAYS) / DAYS_PER_YEAR,
    )
    merged = merged.sort_values("scan_row").reset_index(drop=True)
    merged["diagnosis"] = merged["diagnosis"].astype(object).where(merged["diagnosis"].notna(), None)
    return _demographics(merged, cohort)[PAIR_COLUMNS]


def final_visits(cohort: Cohort, pairs: pd.DataFrame) -> pd.DataFrame:
    """Each labelled subject's final visit: the classification set of paper 000.

    Parameters
    ----------
    cohort
        The cohort.
    pairs
        Output of :func:`pair_scans`.

    Returns
    -------
    pandas.DataFrame
        One row per subject with at least one diagnosis, sorted by subject,
        columns as in :func:`pair_scans`: the latest scan that carries a
        diagnosis; for a subject without such a scan, its last assessment with
        a diagnosis and ``scan_row = -1``.
    """
    scans = pairs[pairs["diagnosis"].notna()].sort_values(["subject", "age"], kind="stable")
    last_scans = scans.groupby("subject", sort=False).tail(1)
    assessments = cohort.assessments
    labelled = assessments[assessments["diagnosis"].notna()].sort_values(["subject", "age"], kind="stable")
    fallback = labelled[~labelled["subject"].isin(last_scans["subject"])].groupby("subject", sort=False).tail(1)
    fallback = _demographics(fallback[["subject", "age", "diagnosis", "mmse"]].assign(scan_row=-1), cohort)
    out = pd.concat([last_scans[PAIR_COLUMNS], fallback[PAIR_COLUMNS]], ignore_index=True)
    out["scan_row"] = out["scan_row"].astype(np.int64)
    out["diagnosis"] = out["diagnosis"].astype(object)
    return out.sort_values("subject", kind="stable").reset_index(drop=True)
