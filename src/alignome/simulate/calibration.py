"""How hard is a simulated cohort? Random-forest AUCs as in paper 000, Table 1.

:func:`calibration_report` reads a cohort written by
:func:`alignome.simulate.simulate_ad_cohort`, pairs each scan with the
nearest assessment within 90 days, keeps each subject's final paired scan,
and cross-validates a 300-tree random forest (5-fold stratified) on

* ``volumes+snps``: all regional volumes, the top SNPs by external p, sex, education;
* ``volumes``: volumes, sex, education;
* ``snps``: the top SNPs only;
* ``oracle``: the true latent severity at the scan (an upper bound).

It is self-contained (reads the files directly) so that it can check the
simulator independently of alignome's own cohort readers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignome.diagnoses import DIAGNOSES, TASK_CLASSES, TASKS



def final_paired_visits(out: Path, window_days: float = 90.0) -> pd.DataFrame:
    """Each subject's last scan with an assessment (with diagnosis) within the window.

    Returns
    -------
    pandas.DataFrame
        The volume row plus ``diagnosis``, ``sex`` (0 = F, 1 = M),
        ``education`` and the true ``latent_severity``.
    """
    out = Path(out)
    visits = pd.read_csv(out / "visits.csv").dropna(subset=["diagnosis"])
    vols = pd.read_csv(out / "volumes.csv").copy()
    truth = pd.read_csv(out / "truth.csv")
    vols = vols.assign(latent_severity=truth["latent_severity"].to_numpy(), _scan=np.arange(len(vols)))
    pairs = vols[["subject", "age", "_scan"]].merge(
        visits[["subject", "age", "diagnosis", "sex", "education"]], on="subject", suffixes=("", "_visit")
    )
    pairs["gap_days"] = (pairs["age"] - pairs["age_visit"]).abs() * 365.25
    pairs = pairs[pairs["gap_days"] <= window_days]
    pairs = pairs.sort_values(["_scan", "gap_days"], kind="stable").drop_duplicates("_scan")
    last = pairs.sort_values(["subject", "age"], kind="stable").drop_duplicates("subject", keep="last")
    final = vols.loc[last["_scan"].to_numpy()].reset_index(drop=True)
    final = final.assign(
        diagnosis=last["diagnosis"].to_numpy(),
        sex=(last["sex"].to_numpy() == "M").astype(int),
        education=last["education"].to_numpy(),
    )
    return final.drop(columns="_scan")


def _genotypes(out: Path, subjects: pd.Series, variants: list[str]) -> np.ndarray:
    from bed_reader import open_bed

    with open_bed(Path(out) / "genotypes.bed", count_A1=True, num_threads=1) as bed:
        sid = pd.Index(bed.sid)
        iid = pd.Index(bed.iid)
        val = bed.read(index=(iid.get_indexer(subjects), sid.get_indexer(variants)), dtype="float32")
    return np.nan_to_num(val, nan=0.0)


def _cv_auc(x: np.ndarray, y: np.ndarray, seed: int, n_trees: int, folds: int) -> tuple[float, float]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    aucs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        rf = RandomForestClassifier(n_estimators=n_trees, random_state=seed, n_jobs=2)
        rf.fit(x[train], y[train])
        prob = rf.predict_proba(x[test])
        if prob.shape[1] == 2:
            aucs.append(roc_auc_score(y[test], prob[:, 1]))
        else:
            aucs.append(roc_auc_score(y[test], prob, multi_class="ovr", average="macro"))
    return float(np.mean(aucs)), float(np.std(aucs))


def calibration_report(
    out: Path,
    *,
    n_snps: int = 500,
    n_trees: int = 300,
    folds: int = 5,
    seed: int = 0,
    feature_sets: tuple[str, ...] = ("volumes+snps", "volumes", "snps", "oracle"),
    tasks: tuple[str, ...] = TASKS,
) -> dict[str, Any]:
    """Random-forest AUCs of a simulated cohort on final visits.

    Parameters
    ----------
    out
        Directory written by :func:`~alignome.simulate.simulate_ad_cohort`.
    n_snps
        Number of top SNPs (ascending external p) used as features.
    n_trees, folds, seed
        Random forest size, number of stratified folds and seed.
    feature_sets, tasks
        Which feature sets and tasks to evaluate. 3-class AUC is macro
        one-vs-rest.

    Returns
    -------
    dict
        ``counts`` (final-visit diagnoses), ``n_scans``, ``n_assessments``,
        ``unpaired_scans`` (share of scans with no assessment within 90 days),
        and ``auc[feature_set][task] = (mean, sd)`` over folds.
    """
    out = Path(out)
    final = final_paired_visits(out)
    vols = pd.read_csv(out / "volumes.csv", nrows=1)
    regions = [c for c in vols.columns if c not in ("subject", "age")]
    sumstats = pd.read_csv(out / "sumstats.tsv", sep="\t")
    top = sumstats.sort_values("p", kind="stable")["variant"].head(n_snps).tolist()
    snps = _genotypes(out, final["subject"], top)
    demo = final[["sex", "education"]].to_numpy(float)
    features = {
        "volumes+snps": np.hstack([final[regions].to_numpy(float), snps, demo]),
        "volumes": np.hstack([final[regions].to_numpy(float), demo]),
        "snps": snps,
        "oracle": final[["latent_severity"]].to_numpy(float),
    }
    report: dict[str, Any] = {
        "counts": final["diagnosis"].value_counts().reindex(list(DIAGNOSES), fill_value=0).to_dict(),
        "n_scans": int(len(pd.read_csv(out / "volumes.csv", usecols=["subject"]))),
        "n_assessments": int(len(pd.read_csv(out / "visits.csv", usecols=["subject"]))),
        "unpaired_scans": _unpaired_share(out),
        "auc": {},
    }
    for name in feature_sets:
        report["auc"][name] = {}
        for task in tasks:
            keep = final["diagnosis"].isin(TASK_CLASSES[task]).to_numpy()
            y = pd.Categorical(final.loc[keep, "diagnosis"], categories=TASK_CLASSES[task]).codes
            report["auc"][name][task] = _cv_auc(features[name][keep], np.asarray(y), seed, n_trees, folds)
    return report


def _unpaired_share(out: Path, window_days: float = 90.0) -> float:
    visits = pd.read_csv(out / "visits.csv", usecols=["subject", "age"])
    scans = pd.read_csv(out / "volumes.csv", usecols=["subject", "age"])
    scans["_scan"] = np.arange(len(scans))
    pairs = scans.merge(visits, on="subject", suffixes=("", "_visit"))
    gap = ((pairs["age"] - pairs["age_visit"]).abs() * 365.25).groupby(pairs["_scan"]).min()
    return float((gap > window_days).mean())


def format_report(report: dict[str, Any]) -> str:
    """A small Markdown table of :func:`calibration_report`'s AUCs."""
    tasks = list(next(iter(report["auc"].values())))
    lines = [f"final-visit counts: {report['counts']}; scans: {report['n_scans']}; "
             f"assessments: {report['n_assessments']}; unpaired scans: {report['unpaired_scans']:.3f}", "",
             "| features | " + " | ".join(tasks) + " |", "|---|" + "---|" * len(tasks)]
    for name, row in report["auc"].items():
        lines.append(f"| {name} | " + " | ".join(f"{m:.3f} ± {s:.3f}" for m, s in row.values()) + " |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    print(format_report(calibration_report(Path(sys.argv[1]))))
