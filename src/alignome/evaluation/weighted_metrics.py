"""Figures of merit under integer weights, for many weightings at once.

A bootstrap resample of subjects is a weighting of the rows (how often each row's subject
was drawn); each function takes a weight matrix ``w`` (B, n), one weighting per row, and
returns the figure of every weighting, (B,), equal to the figure computed on the rows
repeated as often as their weight. All-ones weights give the plain figure. A weighting that
leaves a figure undefined (no positive, no variance) gives NaN.
"""

from __future__ import annotations

import numpy as np


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_mean(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted mean of ``values`` (n,)."""
    return _ratio(w @ np.asarray(values, dtype=np.float64), w.sum(axis=1))


def weighted_auc(positive: np.ndarray, scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    """ROC-AUC of ``scores`` for the boolean ``positive`` (ties count one half)."""
    positive = np.asarray(positive, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    s_pos, s_neg = scores[positive], scores[~positive]
    wins = (s_pos[:, None] > s_neg[None, :]) + 0.5 * (s_pos[:, None] == s_neg[None, :])
    w_pos, w_neg = w[:, positive], w[:, ~positive]
    return _ratio(((w_pos @ wins) * w_neg).sum(axis=1), w_pos.sum(axis=1) * w_neg.sum(axis=1))


def weighted_class_auc(y: np.ndarray, proba: np.ndarray, w: np.ndarray) -> np.ndarray:
    """AUC of ``proba[:, 1]`` for two classes; else the mean one-vs-rest AUC over the classes present in ``y``."""
    y = np.asarray(y)
    if proba.shape[1] == 2:
        return weighted_auc(y == 1, proba[:, 1], w)
    per_class = [weighted_auc(y == c, proba[:, c], w) for c in range(proba.shape[1]) if 0 < (y == c).sum() < y.size]
    return np.nanmean(per_class, axis=0) if per_class else np.full(w.shape[0], np.nan)


def weighted_balanced_accuracy(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mean recall over the classes that have weight."""
    y, pred = np.asarray(y), np.asarray(pred)
    recalls = np.stack([_ratio(w @ ((y == c) & (pred == c)).astype(float), w @ (y == c).astype(float))
                        for c in np.unique(y)])
    with np.errstate(invalid="ignore"):
        return np.nanmean(recalls, axis=0) if recalls.size else np.full(w.shape[0], np.nan)


def weighted_mae(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mean absolute error."""
    return weighted_mean(np.abs(np.asarray(y, float) - np.asarray(pred, float)), w)


def weighted_r2(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Coefficient of determination, 1 − SS_res / SS_tot, around the weighted mean of ``y``."""
    y, pred = np.asarray(y, float), np.asarray(pred, float)
    total = w.sum(axis=1)
    mean = _ratio(w @ y, total)
    ss_tot = w @ (y * y) - total * mean * mean
    ss_res = w @ ((y - pred) ** 2)
    return np.where(ss_tot > 1e-12 * np.maximum(w @ (y * y), 1e-300), 1.0 - _ratio(ss_res, ss_tot), np.nan)


def _weighted_midranks(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rank of each row's value among the rows repeated by weight (ties: their mean rank)."""
    below = (x[None, :] < x[:, None]).astype(float)  # below[i, j]: x_j < x_i
    tied = (x[None, :] == x[:, None]).astype(float)
    return w @ below.T + (w @ tied.T + 1.0) / 2.0


def weighted_pearson(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pearson correlation of the row-wise ``a`` and ``b`` (both (B, n)) under weights ``w``."""
    total = w.sum(axis=1, keepdims=True)
    ma = _ratio((w * a).sum(axis=1, keepdims=True), total)
    mb = _ratio((w * b).sum(axis=1, keepdims=True), total)
    cov = (w * (a - ma) * (b - mb)).sum(axis=1)
    var_a = (w * (a - ma) ** 2).sum(axis=1)
    var_b = (w * (b - mb) ** 2).sum(axis=1)
    return _ratio(cov, np.sqrt(var_a * var_b))


def weighted_spearman(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation: Pearson of the weighted mid-ranks."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return weighted_pearson(_weighted_midranks(x, w), _weighted_midranks(y, w), w)


def weighted_between_distance(unit: np.ndarray, codes: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mean cosine distance over pairs of rows of different subjects (``codes``); ``unit`` rows have norm 1."""
    other = (codes[:, None] != codes[None, :]).astype(float)
    distance = (1.0 - unit @ unit.T) * other
    return _ratio(((w @ distance) * w).sum(axis=1), ((w @ other) * w).sum(axis=1))
