"""Weighted figures of merit against the same figures computed on rows repeated by their weight."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import balanced_accuracy_score, mean_absolute_error, r2_score, roc_auc_score

from alignome.evaluation.weighted_metrics import (
    weighted_auc,
    weighted_balanced_accuracy,
    weighted_between_distance,
    weighted_class_auc,
    weighted_mae,
    weighted_r2,
    weighted_spearman,
)


def _weights(n: int, seed: int, rows: int = 6) -> np.ndarray:
    w = np.random.default_rng(seed).integers(0, 4, size=(rows, n)).astype(float)
    w[0] = 1.0  # the plain figure
    return w


def _expanded(w_row: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    reps = w_row.astype(int)
    return [np.repeat(a, reps, axis=0) for a in arrays]


def test_auc_equals_sklearn_on_repeated_rows_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=40).astype(bool)
    scores = np.round(rng.normal(size=40) + y, 1)  # rounded: ties between classes
    w = _weights(40, 1)
    got = weighted_auc(y, scores, w)
    for b in range(w.shape[0]):
        yy, ss = _expanded(w[b], y, scores)
        assert got[b] == pytest.approx(roc_auc_score(yy, ss))


def test_macro_auc_and_balanced_accuracy_equal_sklearn_on_repeated_rows():
    rng = np.random.default_rng(2)
    y = np.tile([0, 1, 2], 15)
    proba = rng.dirichlet([1, 1, 1], size=y.size)
    proba[np.arange(y.size), y] += 0.3
    proba /= proba.sum(axis=1, keepdims=True)
    w = _weights(y.size, 3)
    auc, bacc = weighted_class_auc(y, proba, w), weighted_balanced_accuracy(y, proba.argmax(axis=1), w)
    for b in range(w.shape[0]):
        yy, pp = _expanded(w[b], y, proba)
        assert auc[b] == pytest.approx(roc_auc_score(yy, pp, multi_class="ovr", average="macro"))
        assert bacc[b] == pytest.approx(balanced_accuracy_score(yy, pp.argmax(axis=1)))


def test_mae_r2_and_spearman_equal_their_references_on_repeated_rows():
    rng = np.random.default_rng(4)
    y = rng.normal(70, 6, size=30)
    pred = y + rng.normal(0, 4, size=30)
    x_tied = np.round(rng.normal(size=30), 1)
    w = _weights(30, 5)
    mae, r2, rho = weighted_mae(y, pred, w), weighted_r2(y, pred, w), weighted_spearman(x_tied, y, w)
    for b in range(w.shape[0]):
        yy, pp, xx = _expanded(w[b], y, pred, x_tied)
        assert mae[b] == pytest.approx(mean_absolute_error(yy, pp))
        assert r2[b] == pytest.approx(r2_score(yy, pp))
        assert rho[b] == pytest.approx(spearmanr(xx, yy).statistic)


def test_between_subject_distance_equals_the_mean_over_pairs_of_different_subjects():
    rng = np.random.default_rng(6)
    codes = np.repeat(np.arange(8), 3)
    unit = rng.normal(size=(codes.size, 5))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    w = _weights(codes.size, 7)
    got = weighted_between_distance(unit, codes, w)
    for b in range(w.shape[0]):
        uu, cc = _expanded(w[b], unit, codes)
        i, j = np.triu_indices(len(cc), k=1)
        keep = cc[i] != cc[j]
        assert got[b] == pytest.approx(np.mean(1 - np.einsum("ij,ij->i", uu[i[keep]], uu[j[keep]])))


def test_a_weighting_without_a_class_gives_nan_not_a_number():
    y = np.array([True, True, False, False])
    w = np.array([[1.0, 1.0, 0.0, 0.0]])
    assert np.isnan(weighted_auc(y, np.array([0.9, 0.8, 0.1, 0.2]), w)).all()
