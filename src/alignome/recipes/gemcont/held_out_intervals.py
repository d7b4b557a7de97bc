"""95 % intervals of the study's split-averaged figures: bootstrap over held-out subjects, Wilson over variants.

* R² of z and disease AUC: the held-out subjects are resampled with replacement
  (:func:`alignome.report.bootstrap.stratified_resamples`; by disease status for the AUC) and
  the figure is recomputed from the cross-fitted predictions already made, without refitting
  (:func:`~alignome.report.bootstrap.resampled_r2`, :func:`~alignome.report.bootstrap.resampled_auc`);
  a draw is the mean over training splits of each split's figure on its resample, and every
  method of a split is scored on the same resamples. The rotation study's splits share their
  test subjects, so one set of resamples serves all its splits; the spirometry study's
  held-out halves differ, so each split has its own. The interval says how much the figure
  would move with another test sample, not with another training sample (the sd over
  splits shows that).
* Shares of causal variants or disease loci found: a Wilson interval of the split-averaged
  share over the variants (loci) themselves, each counted once: the splits scan the same
  variants (and the rotation study the same subjects), so pooling them adds no independent trials.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alignome.report.bootstrap import resampled_auc, stratified_resamples
from alignome.report.intervals import DEFAULT_BOOTSTRAPS, percentile_interval, resample_seed, wilson_interval

#: Columns the intervals add to ``results.csv``.
INTERVAL_COLUMNS = ("ci_low", "ci_high")


def held_out_resamples(strata: np.ndarray, seed: int, task: str, split: int,
                       n_boot: int = DEFAULT_BOOTSTRAPS) -> np.ndarray:
    """Resamples ``(n_boot, n)`` of the held-out subjects within ``strata``, fixed by (seed, task, split)."""
    return stratified_resamples(np.asarray(strata), n_boot, np.random.default_rng(resample_seed(seed, task, split)))


def auc_draws(disease: np.ndarray, score: np.ndarray, index: np.ndarray) -> np.ndarray:
    """AUC of the cross-fitted ``score`` (higher: case) on each resample."""
    score = np.asarray(score, dtype=np.float64)
    return resampled_auc(np.asarray(disease, dtype=np.int64), np.column_stack([-score, score]), index)


@dataclass
class SplitDraws:
    """Bootstrap draws of each (method, task, metric), one array per training split."""

    parts: dict[tuple[str, str, str], list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))

    def add(self, method: str, task: str, metric: str, draws: np.ndarray) -> None:
        """Record one split's draws."""
        self.parts[(method, task, metric)].append(np.asarray(draws, dtype=np.float64))

    def intervals(self) -> dict[tuple[str, str, str], tuple[float, float]]:
        """Percentile interval of the split-mean of each (method, task, metric)."""
        return {key: percentile_interval(np.mean(draws, axis=0)) for key, draws in self.parts.items()}


def with_intervals(results: pd.DataFrame, draws: SplitDraws, share_trials: dict[str, int]) -> pd.DataFrame:
    """``results`` with ``ci_low``/``ci_high``: the interval of its (method, task, metric)'s split-mean, NaN without.

    ``share_trials`` maps a share metric to the number of variants (loci) it is a share of: those
    rows get the Wilson interval of the split-mean share.
    """
    boot = draws.intervals()
    low, high = np.full(len(results), np.nan), np.full(len(results), np.nan)
    values = pd.to_numeric(results["value"], errors="coerce")
    for (method, task, metric), rows in results.groupby(["method", "task", "metric"], sort=False).groups.items():
        if (method, task, metric) in boot:
            bounds = boot[(method, task, metric)]
        elif metric in share_trials:
            bounds = wilson_interval(float(values.loc[rows].mean()), share_trials[metric])
        else:
            continue
        at = results.index.get_indexer(rows)
        low[at], high[at] = bounds
    return results.assign(ci_low=low, ci_high=high)
