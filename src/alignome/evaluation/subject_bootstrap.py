"""Bootstrap intervals over test subjects for every longitudinal figure of merit.

Test subjects are resampled with replacement, within each stratum (their last diagnosis),
:data:`~alignome.report.intervals.DEFAULT_BOOTSTRAPS` times
(:func:`alignome.report.bootstrap.stratified_resamples`); a resample weights each scan by how
often its subject was drawn, and every figure is recomputed under those weights
(:mod:`alignome.evaluation.weighted_metrics`), all encoders on the same resamples. What is
fitted (probes) stays fitted; re-identification keeps its gallery and resamples its queries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alignome.evaluation.atrophy_tracking import AtrophyTracking
from alignome.evaluation.visit_metrics import _unit_rows
from alignome.evaluation.visit_probes import ProbeOutcome
from alignome.evaluation.weighted_metrics import (
    weighted_balanced_accuracy,
    weighted_between_distance,
    weighted_class_auc,
    weighted_mae,
    weighted_mean,
    weighted_r2,
    weighted_spearman,
)
from alignome.report.bootstrap import stratified_resamples
from alignome.report.intervals import DEFAULT_BOOTSTRAPS, LEVEL, percentile_interval


@dataclass
class SubjectResamples:
    """Bootstrap resamples of the test subjects as counts: ``counts[b, j]`` draws of ``subjects[j]`` in resample b."""

    subjects: np.ndarray
    counts: np.ndarray
    level: float = LEVEL

    @classmethod
    def draw(cls, strata: pd.Series, n_boot: int = DEFAULT_BOOTSTRAPS, seed: int = 0) -> "SubjectResamples":
        """Resample the subjects of ``strata`` (index subject, value stratum; NaN is a stratum of its own)."""
        subjects = strata.index.astype(str).to_numpy()
        codes = pd.factorize(strata.astype(str).to_numpy(), sort=True)[0]
        index = stratified_resamples(codes, n_boot, np.random.default_rng([int(seed), 14]))
        counts = np.zeros((n_boot, subjects.size))
        np.add.at(counts, (np.repeat(np.arange(n_boot), index.shape[1]), index.ravel()), 1.0)
        return cls(subjects, counts)

    def weights(self, row_subjects: pd.Series | np.ndarray) -> np.ndarray:
        """Weights (B, n) of rows that belong to the given subjects (every one among :attr:`subjects`)."""
        lookup = {s: j for j, s in enumerate(self.subjects)}
        return self.counts[:, [lookup[str(s)] for s in np.asarray(row_subjects)]]

    def interval(self, draws: np.ndarray) -> tuple[float, float]:
        """Percentile interval of a figure's draws."""
        return percentile_interval(draws, self.level)


def reidentification_draws(per_query: pd.DataFrame, resamples: SubjectResamples) -> dict[str, np.ndarray]:
    """Top-k rates and mean rank of each resample: its queries' hits, gallery unchanged."""
    w = resamples.weights(per_query["subject"])
    out = {c.removeprefix("hit_"): weighted_mean(per_query[c].to_numpy(), w)
           for c in per_query.columns if c.startswith("hit_")}
    out["mean_rank"] = weighted_mean(per_query["rank"].to_numpy(), w)
    return out


def consistency_draws(emb: np.ndarray, scans: pd.DataFrame, per_subject: pd.DataFrame,
                      resamples: SubjectResamples) -> dict[str, np.ndarray]:
    """Consecutive-visit distance (mean over subjects), between-subject distance (over pairs) and their ratio."""
    consecutive = weighted_mean(per_subject["mean_consecutive_distance"].to_numpy(),
                                resamples.weights(per_subject["subject"]))
    subjects = scans["subject"].astype(str).to_numpy()
    between = weighted_between_distance(_unit_rows(np.asarray(emb, dtype=np.float64)),
                                        pd.factorize(subjects)[0], resamples.weights(subjects))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(between > 1e-12, consecutive / between, np.nan)
    return {"consecutive_distance": consecutive, "between_subject_distance": between, "ratio": ratio}


def probe_draws(outcome: ProbeOutcome, scans: pd.DataFrame, resamples: SubjectResamples) -> dict[str, np.ndarray]:
    """Each figure of a probe on each resample of its scored test rows (``scans`` is the test table)."""
    if outcome.skipped or outcome.positions.size == 0:
        return {}
    w = resamples.weights(scans["subject"].astype(str).to_numpy()[outcome.positions])
    out = {}
    for row in outcome.rows:
        metric = row["metric"]
        if not np.isfinite(row["value"]):
            continue
        if metric in ("auc", "auc_macro_ovr"):
            out[metric] = weighted_class_auc(outcome.y, outcome.scores, w)
        elif metric == "balanced_accuracy":
            out[metric] = weighted_balanced_accuracy(outcome.y, outcome.scores.argmax(axis=1), w)
        elif metric == "mae":
            out[metric] = weighted_mae(outcome.y, outcome.scores, w)
        elif metric == "r2":
            out[metric] = weighted_r2(outcome.y, outcome.scores, w)
    return out


def atrophy_draws(tracking: AtrophyTracking, resamples: SubjectResamples) -> dict[str, np.ndarray]:
    """Spearman per structure on each resample of the subjects with a first-to-last change."""
    if tracking.unavailable is not None:
        return {}
    table = tracking.per_subject
    w = resamples.weights(table["subject"])
    return {metric: weighted_spearman(table["distance"].to_numpy(),
                                      table["change_" + metric.removeprefix("spearman_")].to_numpy(), w)
            for metric in tracking.figures}

