"""Bootstrap intervals of fold-averaged AUCs against a plain-loop sklearn reference and simulation truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from scipy.stats import t as student_t
from scipy.stats import binomtest
from sklearn.metrics import r2_score, roc_auc_score

from alignome.errors import DataError
from alignome.evaluation.tasks import task_auc
from alignome.report.bootstrap import resampled_auc, resampled_r2, stratified_resamples
from alignome.report.intervals import bootstrap_auc, fold_interval, resample_seed, wilson_interval
from tests.helpers.predictions import CLASSES, simulated_predictions


def _slow_draws(predictions: pd.DataFrame, method: str, task: str, n_boot: int, seed: int) -> np.ndarray:
    """Fold-averaged AUC per resample, one sklearn call per fold and resample."""
    k = CLASSES[task]
    per_fold = []
    for fold, rows in predictions[predictions["task"] == task].groupby("fold"):
        reference = rows.drop_duplicates("subject").sort_values("subject")
        y = reference["y_true"].to_numpy()
        index = stratified_resamples(y, n_boot, np.random.default_rng(resample_seed(seed, task, fold)))
        own = rows[rows["method"] == method].set_index("subject").loc[reference["subject"]]
        proba = own[[f"prob_{c}" for c in range(k)]].to_numpy()
        aucs = []
        for b in range(n_boot):
            yb, pb = y[index[b]], proba[index[b]]
            if k == 2:
                aucs.append(roc_auc_score(yb, pb[:, 1]))
            else:
                aucs.append(roc_auc_score(yb, pb, multi_class="ovr", average="macro", labels=list(range(k))))
        per_fold.append(aucs)
    return np.mean(per_fold, axis=0)


def test_rank_auc_equals_task_auc_with_ties() -> None:
    rng = np.random.default_rng(1)
    for k in (2, 3):
        y = np.repeat(np.arange(k), 9)
        proba = rng.dirichlet(np.ones(k), size=y.size).round(1)  # rounding makes ties
        proba[:, -1] = 1.0 - proba[:, :-1].sum(axis=1)
        got = resampled_auc(y, proba, np.arange(y.size)[None])
        assert got[0] == pytest.approx(task_auc(y, proba), abs=1e-12)


def test_resamples_keep_each_class_size_and_draw_within_class() -> None:
    y = np.array([2, 0, 1, 0, 2, 2, 1, 0, 0])
    index = stratified_resamples(y, 50, np.random.default_rng(0))
    assert index.shape == (50, y.size)
    for row in index:
        assert np.array_equal(np.bincount(y[row], minlength=3), np.bincount(y))
    assert np.array_equal(y[index], np.broadcast_to(np.sort(y), index.shape))


def test_vectorised_bootstrap_equals_plain_loop() -> None:
    predictions = simulated_predictions({"a": 1.0, "b": 0.6}, folds=3, per_class=6, seed=3, shared=0.5)
    fast = bootstrap_auc(predictions, n_boot=60, seed=11)
    for task in ("CN/AD", "CN/MCI/AD"):
        slow = {m: _slow_draws(predictions, m, task, 60, 11) for m in ("a", "b")}
        np.testing.assert_allclose(fast.draws[("a", task)], slow["a"], rtol=0, atol=1e-12)
        expected = tuple(np.percentile(slow["a"], [2.5, 97.5]))
        assert fast.interval("a", task) == pytest.approx(expected, abs=1e-12)
        paired = tuple(np.percentile(slow["a"] - slow["b"], [2.5, 97.5]))
        assert fast.difference("a", "b", task) == pytest.approx(paired, abs=1e-12)


def test_same_seed_same_interval_and_resamples_do_not_depend_on_other_methods() -> None:
    predictions = simulated_predictions({"a": 1.0, "b": 0.5}, folds=2, per_class=10, seed=4)
    first = bootstrap_auc(predictions, n_boot=200, seed=5)
    assert first.interval("a", "CN/AD") == bootstrap_auc(predictions, n_boot=200, seed=5).interval("a", "CN/AD")
    assert first.interval("a", "CN/AD") != bootstrap_auc(predictions, n_boot=200, seed=6).interval("a", "CN/AD")
    alone = bootstrap_auc(predictions[predictions["method"] == "a"], n_boot=200, seed=5)
    np.testing.assert_array_equal(alone.draws[("a", "CN/AD")], first.draws[("a", "CN/AD")])


def test_identical_methods_have_a_zero_paired_difference() -> None:
    predictions = simulated_predictions({"a": 1.0}, folds=2, per_class=10, seed=2)
    twin = predictions.assign(method="twin")
    boot = bootstrap_auc(pd.concat([predictions, twin]), n_boot=100)
    assert boot.difference("a", "twin", "CN/MCI/AD") == (0.0, 0.0)
    low, high = boot.interval("a", "CN/MCI/AD")
    assert high - low > 0.05


def test_interval_covers_the_true_auc_about_95_percent() -> None:
    # Binormal scores: positives N(d, 1), negatives N(0, 1), so the true AUC is Phi(d / sqrt(2)).
    d, n, folds, repeats, n_boot = 1.0, 30, 2, 200, 200
    truth = norm.cdf(d / np.sqrt(2.0))
    rng = np.random.default_rng(20240613)
    y = np.repeat([0, 1], n)
    covered = 0
    for _ in range(repeats):
        draws = []
        for _fold in range(folds):
            score = rng.normal(size=2 * n) + d * y
            index = stratified_resamples(y, n_boot, rng)
            draws.append(resampled_auc(y, np.column_stack([1 - score, score]), index))
        low, high = np.quantile(np.mean(draws, axis=0), [0.025, 0.975])
        covered += low <= truth <= high
    assert 0.88 <= covered / repeats <= 0.99


def test_fold_lacking_a_class_is_left_out_with_a_note() -> None:
    predictions = simulated_predictions({"a": 1.0}, tasks=("CN/AD",), folds=3, per_class=8, seed=1)
    one_class = (predictions["fold"] == 2) & (predictions["y_true"] == 1)
    boot = bootstrap_auc(predictions[~one_class], n_boot=50)
    kept = bootstrap_auc(predictions[predictions["fold"] < 2], n_boot=50)
    np.testing.assert_array_equal(boot.draws[("a", "CN/AD")], kept.draws[("a", "CN/AD")])
    assert any("fold 2" in note and "lack a class" in note for note in boot.notes)


def test_method_missing_a_subject_gets_no_interval() -> None:
    predictions = simulated_predictions({"a": 1.0, "b": 1.0}, tasks=("CN/AD",), folds=2, per_class=8)
    dropped = predictions.drop(index=predictions[predictions["method"] == "b"].index[0])
    boot = bootstrap_auc(dropped, n_boot=50)
    assert ("b", "CN/AD") not in boot.draws and ("a", "CN/AD") in boot.draws
    assert any(note.startswith("b CN/AD fold 0") for note in boot.notes)


def test_bad_predictions_raise_data_error() -> None:
    predictions = simulated_predictions({"a": 1.0}, tasks=("CN/AD",), folds=1, per_class=4)
    with pytest.raises(DataError, match="y_true"):
        bootstrap_auc(predictions.drop(columns="y_true"))
    with pytest.raises(DataError, match="repeated") as info:
        bootstrap_auc(pd.concat([predictions, predictions.iloc[[3]]], ignore_index=True))
    assert info.value.row == len(predictions) + 2  # the repeat's line in the CSV


def test_fold_interval_is_the_clipped_t_interval() -> None:
    values = np.array([0.70, 0.74, 0.78, 0.72, 0.76])
    half = student_t.ppf(0.975, 4) * values.std(ddof=1) / np.sqrt(5)
    assert fold_interval(values, (0.0, 1.0)) == pytest.approx((0.74 - half, 0.74 + half))
    assert fold_interval(np.array([0.9, 1.0]), (0.0, 1.0))[1] == 1.0
    assert fold_interval(np.array([0.9]), (0.0, 1.0)) is None


def test_resampled_r2_equals_sklearn_on_each_resample() -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(size=60)
    pred = 0.7 * y + rng.normal(scale=0.5, size=60)
    index = stratified_resamples(np.zeros(60), 30, rng)
    expected = [r2_score(y[row], pred[row]) for row in index]
    assert np.allclose(resampled_r2(y, pred, index), expected)
    assert resampled_r2(y, pred, np.arange(60)[None])[0] == pytest.approx(r2_score(y, pred))
    assert np.isnan(resampled_r2(y, pred, np.zeros((1, 60), dtype=int))[0])  # one subject drawn: y does not vary


@pytest.mark.parametrize(("k", "n"), [(0, 20), (7, 20), (20, 20), (3, 5), (40, 100)])
def test_wilson_interval_equals_scipy_for_whole_counts(k: int, n: int) -> None:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(k / n, n) == pytest.approx((ci.low, ci.high))


def test_wilson_interval_narrows_with_trials_and_contains_the_share() -> None:
    narrow, wide = wilson_interval(0.3, 400), wilson_interval(0.3, 20)
    assert wide[0] < narrow[0] < 0.3 < narrow[1] < wide[1]
    assert np.isnan(wilson_interval(0.3, 0)).all()
