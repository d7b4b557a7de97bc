"""Intervals of the gemcont tables: bootstrap over held-out subjects for R² and AUC, Wilson over variants for shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score, roc_auc_score

from alignome.recipes.gemcont.held_out_intervals import SplitDraws, auc_draws, held_out_resamples, with_intervals
from alignome.report.bootstrap import resampled_r2
from alignome.report.intervals import wilson_interval


def _r2_interval(n: int, seed: int = 0) -> tuple[float, tuple[float, float]]:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    pred = 0.6 * y + rng.normal(scale=0.6, size=n)
    draws = SplitDraws()
    draws.add("m", "t", "r2", resampled_r2(y, pred, held_out_resamples(np.zeros(n), 0, "t", 0)))
    return r2_score(y, pred), draws.intervals()[("m", "t", "r2")]


def test_r2_interval_covers_the_estimate_and_narrows_with_the_test_size() -> None:
    small_r2, (small_low, small_high) = _r2_interval(200)
    large_r2, (large_low, large_high) = _r2_interval(3200)
    assert small_low < small_r2 < small_high and large_low < large_r2 < large_high
    ratio = (small_high - small_low) / (large_high - large_low)
    assert 2.5 < ratio < 6.5  # about sqrt(16) = 4: the width scales as 1/sqrt(n)
    assert large_low < 0.48 < large_high  # the model's R²: 1 − E(y − pred)² = 1 − (0.4² + 0.6²)


def test_auc_draws_are_stratified_and_the_first_is_the_auc_of_the_resample() -> None:
    rng = np.random.default_rng(2)
    disease = rng.random(300) < 0.2
    score = rng.normal(size=300) + disease
    index = held_out_resamples(disease, 0, "spirometry", 0, n_boot=50)
    assert (disease[index].sum(axis=1) == disease.sum()).all()  # every resample keeps the case count
    want = [roc_auc_score(disease[row], score[row]) for row in index]
    assert np.allclose(auc_draws(disease, score, index), want)


def test_split_mean_draws_and_the_wilson_share_reach_results() -> None:
    results = pd.DataFrame({"method": ["a", "a", "a", "a", "a"], "task": "t",
                            "metric": ["r2", "r2", "recovered_fraction", "recovered_fraction", "lambda_gc_null"],
                            "fold": [0, 1, 0, 1, 0], "value": [0.3, 0.5, 0.25, 0.35, 1.0]})
    draws = SplitDraws()
    draws.add("a", "t", "r2", np.linspace(0.2, 0.4, 101))
    draws.add("a", "t", "r2", np.linspace(0.4, 0.6, 101))
    out = with_intervals(results, draws, {"recovered_fraction": 20})
    r2 = out[out["metric"] == "r2"]
    assert r2["ci_low"].tolist() == pytest.approx([0.305, 0.305]) and r2["ci_high"].tolist() == pytest.approx([0.495] * 2)
    share = out[out["metric"] == "recovered_fraction"].iloc[0]
    assert (share["ci_low"], share["ci_high"]) == pytest.approx(wilson_interval(0.3, 20))
    assert out.loc[out["metric"] == "lambda_gc_null", ["ci_low", "ci_high"]].isna().all(axis=None)
