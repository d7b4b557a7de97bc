"""Binary AUC: the share of (positive, negative) pairs ranked right, NaN without both classes."""

from __future__ import annotations

import math

import numpy as np

from alignome.evaluation.tasks import binary_auc


def _pairs_ranked_right(y: np.ndarray, score: np.ndarray) -> float:
    wins = [1.0 if p > n else 0.5 if p == n else 0.0 for p in score[y == 1] for n in score[y == 0]]
    return float(np.mean(wins))


def test_binary_auc_counts_pairs_ranked_right() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=40)
    score = np.round(rng.normal(size=40) + y, 1)  # rounding makes ties
    assert math.isclose(binary_auc(y, score), _pairs_ranked_right(y, score), rel_tol=1e-12)


def test_binary_auc_is_nan_with_one_class() -> None:
    assert math.isnan(binary_auc(np.ones(5, dtype=int), np.arange(5.0)))
