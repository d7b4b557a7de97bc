"""Diagnostic tasks of paper 000 and their metrics."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from alignome.diagnoses import TASK_CLASSES

MMSE_MAX = 30.0


def auc_metric_name(task: str) -> str:
    """``auc`` for binary tasks, ``auc_macro_ovr`` (macro one-vs-rest) for 3 classes."""
    return "auc_macro_ovr" if len(TASK_CLASSES[task]) > 2 else "auc"


def binary_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of ``score`` for the classes of ``y``; NaN unless ``y`` holds exactly two classes."""
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def task_auc(y: np.ndarray, proba: np.ndarray) -> float:
    """Binary ROC-AUC, or macro-averaged one-vs-rest ROC-AUC for more classes."""
    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    return float(roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=list(range(proba.shape[1]))))


def mmse_rmse(mmse01_true: np.ndarray, mmse01_pred: np.ndarray) -> float:
    """RMSE on min-max scaled MMSE (0–30 → 0–1), ignoring subjects without MMSE."""
    ok = np.isfinite(mmse01_true)
    if not ok.any():
        return float("nan")
    return float(np.sqrt(np.mean((mmse01_true[ok] - mmse01_pred[ok]) ** 2)))


def scale_mmse(mmse: np.ndarray) -> np.ndarray:
    """Min-max scale MMSE with the instrument's fixed range 0–30 (no data-dependent fit)."""
    return np.asarray(mmse, dtype=np.float64) / MMSE_MAX
