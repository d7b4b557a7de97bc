"""95 % intervals: fold-averaged AUCs (bootstrap of test subjects, or t over folds); Wilson for shares."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

from alignome.errors import DataError
from alignome.report.bootstrap import resampled_auc, stratified_resamples
from alignome.report.ordering import task_classes

#: Resamples per interval unless asked otherwise.
DEFAULT_BOOTSTRAPS = 1000
#: Seed of the resamples unless asked otherwise; the same seed gives the same intervals.
DEFAULT_SEED = 0
#: Coverage of every interval.
LEVEL = 0.95
#: Columns of ``predictions.csv`` the bootstrap reads (plus ``prob_2`` … for more classes).
PREDICTION_COLUMNS = ("method", "task", "fold", "subject", "y_true", "prob_0", "prob_1")


@dataclass
class AucBootstrap:
    """Bootstrap distribution of each (method, task)'s fold-averaged AUC.

    Every method of a task is scored on the same resamples of each fold's test subjects,
    so the difference of two methods' draws is a paired bootstrap of their difference.

    Attributes
    ----------
    draws
        ``(method, task)`` → array ``(n_boot,)``: per resample, the mean over outer folds of
        the fold's AUC on its resampled test subjects.
    n_boot, seed, level
        Resamples, seed and coverage used.
    notes
        Why a (method, task) or a fold has no draws.
    """

    draws: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    n_boot: int = DEFAULT_BOOTSTRAPS
    seed: int = DEFAULT_SEED
    level: float = LEVEL
    notes: list[str] = field(default_factory=list)

    def interval(self, method: str, task: str) -> tuple[float, float] | None:
        """Percentile interval of a (method, task)'s AUC; None without draws."""
        draws = self.draws.get((method, task))
        return None if draws is None else self._percentiles(draws)

    def difference(self, method: str, other: str, task: str) -> tuple[float, float] | None:
        """Paired percentile interval of AUC(method) − AUC(other); None unless both have draws."""
        a, b = self.draws.get((method, task)), self.draws.get((other, task))
        return None if a is None or b is None else self._percentiles(a - b)

    def _percentiles(self, draws: np.ndarray) -> tuple[float, float]:
        return percentile_interval(draws, self.level)


def percentile_interval(draws: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of bootstrap draws at coverage ``level``; draws that are NaN (undefined) are left out."""
    tail = (1.0 - level) / 2.0
    draws = np.asarray(draws, dtype=np.float64)
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(draws, [tail, 1.0 - tail])
    return float(low), float(high)


def fold_interval(values: np.ndarray, bounds: tuple[float, float], level: float = LEVEL) -> tuple[float, float] | None:
    """Student-t interval of the mean of per-fold values (folds taken as independent); None under 2 folds.

    The interval is clipped to ``bounds``, the range the quantity can take (0–1 for an AUC,
    −1–1 for a difference of AUCs): with few folds t is large and the raw interval overshoots.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return None
    half = student_t.ppf((1.0 + level) / 2.0, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    low, high = np.clip([values.mean() - half, values.mean() + half], *bounds)
    return float(low), float(high)


def wilson_interval(share: float, n: float, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion ``share`` observed over ``n`` trials (``share · n`` need not be whole).

    Stays inside [0, 1] and is not degenerate at 0 or 1, unlike the Wald interval; NaN when ``n`` is 0.
    """
    if not n > 0 or not np.isfinite(share):
        return float("nan"), float("nan")
    z = norm.ppf((1.0 + level) / 2.0)
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def resample_seed(seed: int, task: str, fold: int) -> list[int]:
    """Seed of one fold's resamples: fixed by (seed, task, fold), whichever methods are present."""
    return [int(seed), zlib.crc32(task.encode("utf-8")), int(fold)]


def _check(predictions: pd.DataFrame) -> None:
    missing = [c for c in PREDICTION_COLUMNS if c not in predictions.columns]
    if missing:
        raise DataError(f"predictions table lacks column(s) {', '.join(missing)}", file="predictions.csv",
                        field=missing[0], fix="rerun `alignome run`; it writes one row per test subject and method")
    duplicated = predictions.duplicated(["method", "task", "fold", "subject"])
    if duplicated.any():
        first = predictions[duplicated].iloc[0]
        raise DataError(
            f"{int(duplicated.sum())} repeated (method, task, fold, subject) rows, first {first['method']} "
            f"{first['task']} fold {first['fold']} subject {first['subject']}",
            file="predictions.csv", field="subject", row=int(np.flatnonzero(duplicated)[0]) + 2,
            fix="each test subject appears once per method, task and fold; rerun `alignome run`")


def _fold_draws(rows: pd.DataFrame, task: str, fold: int, n_classes: int, n_boot: int, seed: int,
                notes: list[str]) -> dict[str, np.ndarray]:
    """AUC per resample of each method in one fold of one task, all on the same resamples."""
    reference = rows.drop_duplicates("subject").sort_values("subject")
    subjects = reference["subject"].to_numpy()
    y = pd.to_numeric(reference["y_true"], errors="coerce").to_numpy()
    if np.isnan(y).any() or len(np.unique(y)) < n_classes:
        notes.append(f"{task} fold {fold}: test subjects lack a class; the fold has no AUC and is left out.")
        return {}
    y = y.astype(np.int64)
    index = stratified_resamples(y, n_boot, np.random.default_rng(resample_seed(seed, task, fold)))
    prob_columns = [f"prob_{c}" for c in range(n_classes)]
    out = {}
    for method, own in rows.groupby("method", sort=False):
        own = own.set_index("subject").reindex(subjects)
        if own["y_true"].isna().any():
            notes.append(f"{method} {task} fold {fold}: not every test subject has a prediction; no interval.")
            continue
        if not np.array_equal(own["y_true"].to_numpy(dtype=np.int64), y):
            raise DataError(f"{method} {task} fold {fold}: y_true of a subject differs from the other methods'",
                            file="predictions.csv", field="y_true",
                            fix="every method of a fold is scored on the same labelled test subjects; "
                                "rerun `alignome run`")
        proba = own.reindex(columns=prob_columns).to_numpy(dtype=np.float64)
        if not np.isfinite(proba).all():
            notes.append(f"{method} {task} fold {fold}: missing probabilities; no interval.")
            continue
        out[str(method)] = resampled_auc(y, proba, index)
    return out


def bootstrap_auc(predictions: pd.DataFrame, n_boot: int = DEFAULT_BOOTSTRAPS, seed: int = DEFAULT_SEED,
                  level: float = LEVEL) -> AucBootstrap:
    """Stratified bootstrap of each outer fold's test subjects for every (method, task) AUC.

    Within each outer fold, the test subjects are resampled with replacement inside each
    class (every resample keeps all classes, so its AUC is defined); each fold's AUC is
    recomputed on the resample as :func:`alignome.evaluation.tasks.task_auc` does and averaged
    over folds, matching the point estimate (the mean over outer folds of the fold AUCs).
    Resamples depend on ``seed``, the task and the fold only, and are shared by all methods.

    Parameters
    ----------
    predictions
        ``predictions.csv``: one row per method, task, fold and test subject with ``y_true``
        and ``prob_0`` … ``prob_{k-1}``.
    n_boot, seed, level
        Resamples, seed and coverage.

    Returns
    -------
    AucBootstrap
        Draws of every (method, task) with a prediction for each test subject of each fold
        that has all classes; notes on what was left out.

    Raises
    ------
    DataError
        If a column is missing, a subject repeats within a method, task and fold, or methods
        disagree on a subject's label.
    """
    _check(predictions)
    result = AucBootstrap(n_boot=n_boot, seed=seed, level=level)
    table = predictions.assign(method=predictions["method"].astype(str), task=predictions["task"].astype(str))
    for task, task_rows in table.groupby("task", sort=False):
        n_classes = len(task_classes(task))
        per_fold = [_fold_draws(rows, task, int(fold), n_classes, n_boot, seed, result.notes)
                    for fold, rows in task_rows.groupby("fold")]
        per_fold = [draws for draws in per_fold if draws]
        for method in task_rows["method"].unique():
            folds = [draws[method] for draws in per_fold if method in draws]
            if folds and len(folds) == len(per_fold):
                result.draws[(method, task)] = np.mean(folds, axis=0)
            elif folds:
                result.notes.append(f"{method} {task}: predictions for {len(folds)} of {len(per_fold)} folds; "
                                    "no interval.")
    return result
