"""Scan-diagnosis pairing within a window and the final-visit classification set."""

from __future__ import annotations

import numpy as np
import pandas as pd

from alignome.cohort import final_visits, pair_scans
from alignome.cohort.model import Cohort

DAY = 1 / 365.25


def _cohort(assessments: list[tuple], scans: list[tuple]) -> Cohort:
    a = pd.DataFrame(assessments, columns=["subject", "age", "diagnosis", "mmse"]).sort_values(["subject", "age"])
    s = pd.DataFrame(scans, columns=["subject", "age", "vol"]).sort_values(["subject", "age"]).reset_index(drop=True)
    ids = sorted(set(a["subject"]))
    subjects = pd.DataFrame({"sex": [float(i % 2) for i in range(len(ids))], "education": 12.0}, index=pd.Index(ids, name="subject"))
    return Cohort(
        assessments=a.reset_index(drop=True), subjects=subjects, scans=s, regions=["vol"],
        genotypes=pd.DataFrame(index=subjects.index), variants=pd.DataFrame(),
    )


def test_window_is_inclusive_at_90_days_and_excludes_91():
    cohort = _cohort(
        [("A", 70.0, "CN", 29.0), ("B", 70.0, "MCI", 26.0)],
        [("A", 70.0 + 90 * DAY, 1.0), ("B", 70.0 - 91 * DAY, 2.0)],
    )
    pairs = pair_scans(cohort)
    assert pairs.loc[0, "diagnosis"] == "CN" and pairs.loc[0, "mmse"] == 29.0
    assert pd.isna(pairs.loc[1, "diagnosis"]) and np.isnan(pairs.loc[1, "mmse"])
    assert len(pairs) == 2  # unlabelled scan kept for pretraining
    assert pd.isna(pair_scans(cohort, window_days=89).loc[0, "diagnosis"])


def test_nearest_labelled_assessment_wins_and_missing_mmse_stays_nan():
    cohort = _cohort(
        [("A", 70.0, "CN", 29.0), ("A", 70.0 + 60 * DAY, "MCI", np.nan), ("A", 70.0 + 29 * DAY, None, 10.0)],
        [("A", 70.0 + 40 * DAY, 1.0), ("A", 70.0 + 10 * DAY, 1.0)],
    )
    pairs = pair_scans(cohort)
    assert pairs["scan_row"].tolist() == [0, 1]
    assert pairs["diagnosis"].tolist() == ["CN", "MCI"]  # the unlabelled assessment at day 29 is ignored
    assert pairs.loc[0, "mmse"] == 29.0 and np.isnan(pairs.loc[1, "mmse"])
    assert list(pairs.columns) == ["subject", "age", "scan_row", "diagnosis", "mmse", "sex", "education"]


def test_final_visit_is_latest_labelled_scan_or_last_assessment():
    cohort = _cohort(
        [("A", 70.0, "CN", 29.0), ("A", 72.0, "MCI", 26.0), ("B", 60.0, "AD", 18.0), ("B", 61.0, "AD", 17.0),
         ("C", 50.0, None, 30.0)],
        [("A", 70.0, 1.0), ("A", 72.0, 1.0), ("A", 74.0, 1.0), ("B", 58.0, 1.0)],
    )
    final = final_visits(cohort, pair_scans(cohort))
    assert final["subject"].tolist() == ["A", "B"]  # C has no diagnosis at all
    a, b = final.iloc[0], final.iloc[1]
    assert a["scan_row"] == 1 and a["diagnosis"] == "MCI" and a["age"] == 72.0  # scan at 74 is unlabelled
    assert b["scan_row"] == -1 and b["age"] == 61.0 and b["mmse"] == 17.0  # no labelled scan for B
    assert b["sex"] == 1.0 and a["education"] == 12.0


def test_pairing_a_thousand_subjects_gives_one_final_visit_each():
    # its wall time is measured by benchmarks/cohort_speed.py, not asserted here
    rng = np.random.default_rng(0)
    subjects = [f"S{i:04d}" for i in range(1000)]
    assessments = [(s, 60 + k + rng.normal(0, 0.05), "CN", 28.0) for s in subjects for k in range(4)]
    scans = [(s, 60 + k + rng.normal(0, 0.2), 1.0) for s in subjects for k in range(4)]
    cohort = _cohort(assessments, scans)
    final = final_visits(cohort, pair_scans(cohort))
    assert final["subject"].tolist() == subjects
