"""Is the simulated 3D MRI cohort realistic? Checks computed from its truth table alone.

:func:`mri3d_calibration` takes a truth table (``truth.csv`` of
:func:`~alignome.simulate.mri3d.simulate_mri3d`, or one drawn without images by
:func:`truth_without_images`) and reports

* the **oracle's AD-vs-CN AUC**: 5-fold cross-validated logistic regression on each
  subject's baseline log true volumes (hippocampus, lateral ventricles, brain, entorhinal cortex) with
  age and log head scale as covariates, as volumetry adjusts for age and head size;
* baseline AD/CN and MCI/CN ratios of mean volumes and the hippocampal CV among CN;
* the **annual change** (%/yr) of each structure per diagnosis: the mean over
  intervals whose two visits share that diagnosis of ``100 · ((V₁/V₀)^(1/Δt) − 1)``;
* the share of baseline-MCI subjects seen converting to AD.

Run it as ``alignome simulate mri3d-calibration`` (or ``python -m
alignome.simulate.mri3d_calibration``). The ranges it is tested against, and
their sources, are in :data:`PUBLISHED_RANGES` and the README.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignome.diagnoses import DIAGNOSES

VOLUMES = {"hippocampus": "hippocampus_ml", "ventricle": "ventricle_ml", "brain": "brain_ml",
           "entorhinal": "entorhinal_ml"}

#: Published ranges the calibrated simulator must fall in (README, "The simulated brain").
PUBLISHED_RANGES: dict[str, tuple[float, float]] = {
    "oracle AD-vs-CN AUC": (0.85, 0.95),
    "hippocampus AD/CN": (0.74, 0.82),
    "ventricle AD/CN": (1.35, 1.60),
    "hippocampus CV among CN": (0.08, 0.12),
    "hippocampus %/yr CN": (-2.30, -0.52),
    "hippocampus %/yr MCI": (-3.5, -2.2),
    "hippocampus %/yr AD": (-5.40, -3.92),
    "brain %/yr CN": (-0.7, -0.2),
    "brain %/yr AD": (-2.0, -1.0),
    "ventricle %/yr CN": (1.0, 5.0),
    "ventricle %/yr AD": (5.0, 12.0),
    "entorhinal AD/CN": (0.72, 0.82),
    "entorhinal %/yr CN": (-1.5, -0.4),
    "entorhinal %/yr AD": (-5.5, -3.0),
}


#: Columns a truth table needs for the calibration report.
TRUTH_COLUMNS = ("subject", "age", "diagnosis", "head_scale", "converts_to_ad")


def read_truth(path: Path) -> pd.DataFrame:
    """A ``truth.csv`` written by ``simulate mri3d``, checked for the columns the report needs."""
    from alignome.errors import DataError

    if not Path(path).is_file():
        raise DataError("file not found", file=path, fix="give the truth.csv that `alignome simulate mri3d` wrote")
    try:
        table = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"not a readable CSV table ({err})", file=path,
                        fix="give the truth.csv that `alignome simulate mri3d` wrote") from None
    needed = [*TRUTH_COLUMNS, *VOLUMES.values()]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(f"lacks column(s) {', '.join(missing)}", file=path, field=missing[0],
                        fix="give a truth.csv from this version's `alignome simulate mri3d` (older ones lack these)")
    if table.empty:
        raise DataError("has a header and no rows", file=path, fix="give a truth.csv with its rows")
    return table


def truth_without_images(subjects: int = 1000, visits: tuple[int, int] = (2, 4), seed: int = 0) -> pd.DataFrame:
    """The truth table :func:`~alignome.simulate.mri3d.simulate_mri3d` would write, without rendering images."""
    from alignome.simulate.mri3d import design_cohort, design_truth_rows

    designs = design_cohort(subjects, visits, seed)
    return pd.DataFrame([row for d in designs for row in design_truth_rows(d)])


def t1_oracle_features(rows: pd.DataFrame) -> np.ndarray:
    """What a perfect reader of a T1 scan knows: log true volumes, age and log head scale, one row per scan."""
    return np.column_stack([np.log(rows[list(VOLUMES.values())].to_numpy(float)), rows["age"],
                            np.log(rows["head_scale"].to_numpy(float))])


def cross_validated_auc(x: np.ndarray, is_ad: np.ndarray, seed: int, folds: int) -> float:
    """``folds``-fold AD-vs-CN AUC of :func:`~alignome.evaluation.disease_probe.probe_auc`; NaN when a class
    has fewer than ``folds`` subjects (no CV possible)."""
    from alignome.evaluation.disease_probe import probe_auc

    is_ad = np.asarray(is_ad, dtype=bool)
    if min(int(is_ad.sum()), int((~is_ad).sum())) < folds:
        return float("nan")
    return probe_auc(x, is_ad, seed=seed, folds=folds)


def oracle_auc(truth: pd.DataFrame, seed: int = 0, folds: int = 5) -> float:
    """Cross-validated AD-vs-CN AUC of logistic regression on baseline true volumes, age and head scale.

    NaN when the cohort has fewer than ``folds`` subjects of CN or of AD at baseline (no CV possible).
    """
    base = truth.sort_values(["subject", "age"], kind="stable").drop_duplicates("subject")
    base = base[base["diagnosis"].isin(["CN", "AD"])]
    return cross_validated_auc(t1_oracle_features(base), (base["diagnosis"] == "AD").to_numpy(), seed, folds)


def annual_change(truth: pd.DataFrame) -> pd.DataFrame:
    """Mean annualised % change per structure (columns) and diagnosis (rows), over same-diagnosis intervals."""
    t = truth.sort_values(["subject", "age"], kind="stable")
    prev = t.groupby("subject").shift(1)
    keep = prev["diagnosis"].eq(t["diagnosis"])
    years = (t["age"] - prev["age"])[keep]
    table = {}
    for name, col in VOLUMES.items():
        ratio = (t[col] / prev[col])[keep]
        table[name] = (100.0 * (ratio ** (1.0 / years) - 1.0)).groupby(t.loc[keep, "diagnosis"]).mean()
    return pd.DataFrame(table).reindex(list(DIAGNOSES))


def mri3d_calibration(truth: pd.DataFrame, seed: int = 0) -> dict[str, Any]:
    """Every calibration figure of a truth table, keyed as in :data:`PUBLISHED_RANGES` (plus extras)."""
    base = truth.sort_values(["subject", "age"], kind="stable").drop_duplicates("subject")
    means = base.groupby("diagnosis")[list(VOLUMES.values())].mean()
    cn = base[base["diagnosis"] == "CN"]["hippocampus_ml"]
    out: dict[str, Any] = {"oracle AD-vs-CN AUC": oracle_auc(truth, seed)}
    for name, col in VOLUMES.items():
        out[f"{name} AD/CN"] = float(means.loc["AD", col] / means.loc["CN", col])
        out[f"{name} MCI/CN"] = float(means.loc["MCI", col] / means.loc["CN", col])
    out["hippocampus CV among CN"] = float(cn.std() / cn.mean())
    change = annual_change(truth)
    for dx in DIAGNOSES:
        for name in VOLUMES:
            out[f"{name} %/yr {dx}"] = float(change.loc[dx, name])
    mci = base[base["diagnosis"] == "MCI"]
    out["MCI->AD converters"] = float(mci["converts_to_ad"].mean()) if len(mci) else float("nan")
    out["subjects"] = int(base["subject"].nunique())
    out["annual change"] = change
    return out


def format_calibration(report: dict[str, Any]) -> str:
    """The report as text: the annual-change table, then every figure with its published range."""
    lines = [f"subjects: {report['subjects']}", "", "annual change, %/yr (same-diagnosis intervals):",
             report["annual change"].round(2).to_string(), "", "figure | simulated | published range"]
    for key, value in report.items():
        if key in ("annual change", "subjects"):
            continue
        lo_hi = PUBLISHED_RANGES.get(key)
        rng = f"{lo_hi[0]:g} to {lo_hi[1]:g}" if lo_hi else "-"
        lines.append(f"{key} | {value:.3f} | {rng}")
    return "\n".join(lines)


def outside_ranges(report: dict[str, Any]) -> list[str]:
    """The figures that fall outside :data:`PUBLISHED_RANGES`."""
    return [k for k, (lo, hi) in PUBLISHED_RANGES.items() if not lo <= report[k] <= hi]

