"""Stratified bootstrap of test subjects; the AUC (rank formula) or R² of every resample at once (an index matrix)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def stratified_resamples(y: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n_boot`` bootstrap resamples of the subjects, drawn within each class.

    Each resample keeps every class's size: for each class in ascending order, as many
    subjects as the class has are drawn with replacement from that class. Every resample
    therefore holds every class, so its AUC is always defined.

    Parameters
    ----------
    y
        Class index of each subject, shape ``(n,)``.
    n_boot
        Number of resamples.
    rng
        Source of the draws; the same generator state gives the same resamples.

    Returns
    -------
    numpy.ndarray
        Integer array ``(n_boot, n)`` of indices into ``y``, columns grouped by class.
    """
    y = np.asarray(y)
    blocks = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        blocks.append(members[rng.integers(0, members.size, size=(n_boot, members.size))])
    return np.concatenate(blocks, axis=1) if blocks else np.empty((n_boot, 0), dtype=np.int64)


def _one_vs_rest_auc(positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Row-wise ROC-AUC of ``scores`` (m, n) for the boolean ``positive`` (m, n); ties count one half."""
    ranks = rankdata(scores, axis=1, method="average")
    n_pos = positive.sum(axis=1)
    n_neg = positive.shape[1] - n_pos
    rank_sum = np.where(positive, ranks, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def resampled_auc(y: np.ndarray, proba: np.ndarray, index: np.ndarray) -> np.ndarray:
    """AUC of each resample, as :func:`alignome.evaluation.tasks.task_auc` computes it.

    Two classes: ROC-AUC of ``proba[:, 1]`` for class 1. More classes: the unweighted mean
    over classes of the one-vs-rest ROC-AUC of ``proba[:, c]`` (macro OvR).

    Parameters
    ----------
    y
        Class index of each subject, shape ``(n,)``.
    proba
        Class probabilities, shape ``(n, k)``.
    index
        Resamples as rows of indices into ``y``, shape ``(n_boot, m)``; ``np.arange(n)[None]``
        gives the AUC of the subjects themselves.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_boot,)``; NaN for a resample that lacks a class.
    """
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    y_rows = y[index]
    classes = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    per_class = [_one_vs_rest_auc(y_rows == c, proba[index, c]) for c in classes]
    return np.mean(per_class, axis=0)


def resampled_r2(y: np.ndarray, pred: np.ndarray, index: np.ndarray) -> np.ndarray:
    """R² (1 − SS_res / SS_tot around the resample's own mean) of ``pred`` for ``y`` on each resample.

    Parameters
    ----------
    y, pred
        Observed values and their (cross-fitted) predictions, shape ``(n,)``.
    index
        Resamples as rows of indices, shape ``(n_boot, m)``; ``np.arange(n)[None]`` gives the R² itself.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_boot,)``; NaN for a resample whose ``y`` does not vary.
    """
    y_rows = np.asarray(y, dtype=np.float64)[index]
    residual = y_rows - np.asarray(pred, dtype=np.float64)[index]
    total = ((y_rows - y_rows.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    varies = total > 1e-12 * np.maximum((y_rows ** 2).sum(axis=1), 1e-300)  # rounding leaves a constant y a tiny total
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(varies, 1.0 - (residual ** 2).sum(axis=1) / total, np.nan)
