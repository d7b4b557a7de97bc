"""Embed every scan with each encoder and evaluate on the test subjects, every figure with a bootstrap interval."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from torch import nn

from alignome.evaluation.atrophy_tracking import TASK as ATROPHY_TASK
from alignome.evaluation.atrophy_tracking import atrophy_tracking
from alignome.evaluation.conversion import conversion_probe
from alignome.evaluation.subject_bootstrap import (
    SubjectResamples,
    atrophy_draws,
    consistency_draws,
    probe_draws,
    reidentification_draws,
)
from alignome.evaluation.visit_metrics import reidentification, temporal_consistency
from alignome.evaluation.visit_probes import ProbeOutcome, probe_outcomes
from alignome.recipes.longitudinal_mri.methods import ORACLE
from alignome.report.intervals import DEFAULT_BOOTSTRAPS
from alignome.report.summary import RESULT_COLUMNS
from alignome.training.volume_batches import embed_volumes

#: Scan-table columns copied into ``embeddings.parquet``.
SCAN_COLUMNS = ("scan_id", "subject", "session", "visit", "age", "diagnosis")
#: Re-identification figures kept in the results table.
REID_METRICS = ("top1", "top5", "chance_top1", "chance_top5", "mean_rank")
#: Temporal-consistency figures kept in the results table.
CONSISTENCY_METRICS = ("consecutive_distance", "between_subject_distance", "ratio")
#: Columns of ``results.csv``: the shared ones and the 95 % bootstrap interval over test subjects.
EVALUATION_COLUMNS = (*RESULT_COLUMNS, "ci_low", "ci_high")
#: Ground-truth volumes of a simulated cohort that the oracle probes see.
TRUTH_FEATURES = ("ventricle_ml", "hippocampus_ml", "entorhinal_ml", "brain_ml")


@dataclass
class Evaluation:
    """Long results table (method, task, metric, fold, value, ci_low, ci_high), embeddings, speed, notes.

    ``unavailable`` maps a task that no method could report to the reason; ``penalties`` holds
    each probe's penalty chosen on training subjects, ``{method: {task: {C or alpha, inner_folds}}}``.
    """

    results: pd.DataFrame
    embeddings: pd.DataFrame
    inference_volumes_per_s: float
    notes: list[str]
    unavailable: dict[str, str] = field(default_factory=dict)
    penalties: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)


def last_diagnosis(scans: pd.DataFrame) -> pd.Series:
    """Each subject's last known diagnosis (NaN when none): the stratum of the split and of the bootstrap."""
    known = scans.dropna(subset=["diagnosis"]).sort_values(["subject", "visit"])
    last = known.groupby("subject")["diagnosis"].last()
    return last.reindex(sorted(scans["subject"].unique()))


def _rows(method: str, task: str, values: dict, draws: dict[str, np.ndarray],
          resamples: SubjectResamples) -> list[tuple]:
    """Result rows of the scalar ``values``, each with the interval of its draws (NaN without)."""
    out = []
    for metric, value in values.items():
        if not np.isscalar(value):
            continue
        low, high = resamples.interval(draws[metric]) if metric in draws else (np.nan, np.nan)
        out.append((method, task, metric, "test", float(value), low, high))
    return out


def _probe_rows(method: str, outcomes: list[ProbeOutcome], scans_test: pd.DataFrame,
                resamples: SubjectResamples, notes: list[str], penalties: dict) -> list[tuple]:
    out = []
    for outcome in outcomes:
        if outcome.skipped:
            notes.append(f"{method}: {outcome.task} probe skipped — {outcome.rows[0]['note']}")
            continue
        penalties.setdefault(method, {})[outcome.task] = outcome.chosen
        values = {r["metric"]: r["value"] for r in outcome.rows}
        out += _rows(method, f"{outcome.task} probe", values, probe_draws(outcome, scans_test, resamples), resamples)
    return out


def _all_probes(features: np.ndarray, scans: pd.DataFrame, rows: dict[str, np.ndarray], seed: int) -> list[ProbeOutcome]:
    """Diagnosis, AD-vs-CN, age and conversion probes fitted on the training rows, scored on the test rows."""
    train, test = rows["train"], rows["test"]
    parts = (features[train], scans.iloc[train].reset_index(drop=True),
             features[test], scans.iloc[test].reset_index(drop=True))
    return [*probe_outcomes(*parts, seed=seed), conversion_probe(*parts, seed=seed)]


def oracle_probe_rows(truth: pd.DataFrame, scans: pd.DataFrame, rows: dict[str, np.ndarray], seed: int,
                      resamples: SubjectResamples, notes: list[str], penalties: dict) -> list[tuple]:
    """Every probe on the true regional volumes of a simulated cohort, with intervals.

    The ceiling an image encoder can approach: the same probes, fitted on the training
    subjects, given the volumes the simulation changed with age and disease; a skipped
    probe's reason joins ``notes``, a chosen penalty ``penalties``. Returns no rows when ``truth`` holds none of :data:`TRUTH_FEATURES`.
    """
    columns = [c for c in TRUTH_FEATURES if c in truth.columns]
    if not columns:
        return []
    outcomes = _all_probes(truth[columns].to_numpy(dtype=float), scans, rows, seed)
    return _probe_rows(ORACLE, outcomes, scans.iloc[rows["test"]].reset_index(drop=True), resamples, notes,
                       penalties)


def evaluate_encoders(
    models: dict[str, nn.Module],
    volumes: np.ndarray,
    scans: pd.DataFrame,
    rows: dict[str, np.ndarray],
    seed: int,
    truth: pd.DataFrame | None = None,
    n_boot: int = DEFAULT_BOOTSTRAPS,
    baselines: dict[str, np.ndarray] | None = None,
) -> Evaluation:
    """Evaluate each encoder's frozen embeddings on held-out subjects.

    ``baselines`` holds the embeddings of methods that are no network (the voxel-PCA baseline),
    row ``i`` for scan ``i``: they go through the same evaluation after the encoders.

    Temporal consistency, re-identification and atrophy tracking (against ``truth``, the
    simulated cohort's true volumes aligned to ``scans``; unavailable without it) are computed
    on the test subjects; probes (diagnosis, AD vs CN, age, MCI-to-AD conversion) are fitted on
    the training subjects' embeddings and scored on the test subjects (no subject is on both
    sides); with ``truth`` the oracle's probes on the true volumes follow. Every figure has a
    95 % interval from ``n_boot`` resamples of the test subjects, stratified by last
    diagnosis and shared by all methods (seeded by ``seed``).
    """
    results: list[tuple] = []
    notes: list[str] = []
    unavailable: dict[str, str] = {}
    penalties: dict[str, dict[str, dict[str, float]]] = {}
    tables = []
    split = np.full(len(scans), "", dtype=object)
    for part, idx in rows.items():
        split[idx] = part
    seconds, embedded = 0.0, 0
    test = rows["test"]
    scans_test = scans.iloc[test].reset_index(drop=True)
    truth_test = truth.iloc[test].reset_index(drop=True) if truth is not None else None
    resamples = SubjectResamples.draw(last_diagnosis(scans_test), n_boot, seed)
    for method, model in {**models, **(baselines or {})}.items():
        if isinstance(model, np.ndarray):
            emb = model
        else:
            t0 = time.perf_counter()
            emb = embed_volumes(model, volumes)
            seconds += time.perf_counter() - t0
            embedded += len(volumes)
        consistency = temporal_consistency(emb[test], scans_test)
        results += _rows(method, "temporal consistency", {k: consistency[k] for k in CONSISTENCY_METRICS},
                         consistency_draws(emb[test], scans_test, consistency["per_subject"], resamples), resamples)
        reid = reidentification(emb[test], scans_test)
        results += _rows(method, "re-identification", {k: reid[k] for k in REID_METRICS if k in reid},
                         reidentification_draws(reid["per_query"], resamples), resamples)
        tracking = atrophy_tracking(emb[test], scans_test, truth_test)
        if tracking.unavailable is not None:
            unavailable[ATROPHY_TASK] = tracking.unavailable
        results += _rows(method, ATROPHY_TASK, tracking.figures, atrophy_draws(tracking, resamples), resamples)
        results += _probe_rows(method, _all_probes(emb, scans, rows, seed), scans_test, resamples, notes, penalties)
        table = scans.loc[:, [c for c in SCAN_COLUMNS if c in scans.columns]].copy()
        table.insert(0, "method", method)
        table["split"] = split
        z = pd.DataFrame(emb, columns=[f"z_{i:03d}" for i in range(emb.shape[1])])
        tables.append(pd.concat([table.reset_index(drop=True), z], axis=1))
    if truth is not None:  # simulated cohort: the probes on the true volumes are the ceiling
        results += oracle_probe_rows(truth, scans, rows, seed, resamples, notes, penalties)
    for task, reason in unavailable.items():
        notes.append(f"{task} unavailable — {reason}")
    return Evaluation(
        results=pd.DataFrame(results, columns=list(EVALUATION_COLUMNS)),
        embeddings=pd.concat(tables, ignore_index=True),
        inference_volumes_per_s=embedded / seconds if seconds > 0 else float("nan"),
        notes=notes,
        unavailable=unavailable,
        penalties=penalties,
    )
