"""Embed every scan with each encoder and evaluate on the test subjects."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import nn

from alignome.evaluation.visit_metrics import linear_probes, reidentification, temporal_consistency
from alignome.recipes.longitudinal_mri.methods import ORACLE
from alignome.report.summary import RESULT_COLUMNS
from alignome.training.volume_batches import embed_volumes

#: Scan-table columns copied into ``embeddings.parquet``.
SCAN_COLUMNS = ("scan_id", "subject", "session", "visit", "age", "diagnosis")
#: Re-identification figures kept in the results table.
REID_METRICS = ("top1", "top5", "chance_top1", "chance_top5", "mean_rank")


@dataclass
class Evaluation:
    """Long results table (method, task, metric, fold, value), embeddings, inference speed, notes."""

    results: pd.DataFrame
    embeddings: pd.DataFrame
    inference_volumes_per_s: float
    notes: list[str]


def _rows(method: str, task: str, values: dict, fold: str = "test") -> list[tuple]:
    return [(method, task, k, fold, float(v)) for k, v in values.items() if np.isscalar(v)]


#: Ground-truth volumes of a simulated cohort that the oracle probes see.
TRUTH_FEATURES = ("ventricle_ml", "hippocampus_ml", "brain_ml")


def oracle_probe_rows(truth: pd.DataFrame, scans: pd.DataFrame, rows: dict[str, np.ndarray], seed: int) -> list[tuple]:
    """Diagnosis and age probes on the true regional volumes of a simulated cohort.

    The ceiling an image encoder can approach: the same probes, fitted on the
    training subjects, given the volumes the simulation changed with age and disease.
    Returns no rows when ``truth`` holds none of :data:`TRUTH_FEATURES`.
    """
    columns = [c for c in TRUTH_FEATURES if c in truth.columns]
    if not columns:
        return []
    features = truth[columns].to_numpy(dtype=float)
    train, test = rows["train"], rows["test"]
    out = []
    probes = linear_probes(features[train], scans.iloc[train].reset_index(drop=True),
                           features[test], scans.iloc[test].reset_index(drop=True), seed=seed)
    for probe in probes:
        if probe["metric"] != "skipped":
            out.append((ORACLE, f"{probe['task']} probe", probe["metric"], "test", float(probe["value"])))
    return out


def evaluate_encoders(
    models: dict[str, nn.Module],
    volumes: np.ndarray,
    scans: pd.DataFrame,
    rows: dict[str, np.ndarray],
    seed: int,
) -> Evaluation:
    """Evaluate each encoder's frozen embeddings on held-out subjects.

    Temporal consistency and re-identification are computed on the test subjects;
    linear probes for diagnosis and age are fitted on the training subjects'
    embeddings and scored on the test subjects (no subject is on both sides).
    """
    results: list[tuple] = []
    notes: list[str] = []
    tables = []
    split = np.full(len(scans), "", dtype=object)
    for part, idx in rows.items():
        split[idx] = part
    seconds, embedded = 0.0, 0
    test, train = rows["test"], rows["train"]
    scans_test = scans.iloc[test].reset_index(drop=True)
    scans_train = scans.iloc[train].reset_index(drop=True)
    for method, model in models.items():
        t0 = time.perf_counter()
        emb = embed_volumes(model, volumes)
        seconds += time.perf_counter() - t0
        embedded += len(volumes)
        consistency = temporal_consistency(emb[test], scans_test)
        results += _rows(method, "temporal consistency", {k: consistency[k] for k in
                                                           ("consecutive_distance", "between_subject_distance", "ratio")})
        reid = reidentification(emb[test], scans_test)
        results += _rows(method, "re-identification", {k: reid[k] for k in REID_METRICS if k in reid})
        for probe in linear_probes(emb[train], scans_train, emb[test], scans_test, seed=seed):
            if probe["metric"] == "skipped":
                notes.append(f"{method}: {probe['task']} probe skipped — {probe.get('note')}")
                continue
            results.append((method, f"{probe['task']} probe", probe["metric"], "test", float(probe["value"])))
        table = scans.loc[:, [c for c in SCAN_COLUMNS if c in scans.columns]].copy()
        table.insert(0, "method", method)
        table["split"] = split
        z = pd.DataFrame(emb, columns=[f"z_{i:03d}" for i in range(emb.shape[1])])
        tables.append(pd.concat([table.reset_index(drop=True), z], axis=1))
    return Evaluation(
        results=pd.DataFrame(results, columns=list(RESULT_COLUMNS)),
        embeddings=pd.concat(tables, ignore_index=True),
        inference_volumes_per_s=embedded / seconds if seconds > 0 else float("nan"),
        notes=notes,
    )
