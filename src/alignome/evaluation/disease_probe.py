"""Disease recovery from held-out embeddings (paper 003 §3.2): L2 logistic regression, AUC by cross-fitting.

The probe is fitted and scored on the held-out subjects alone: stratified K-fold, each fold
predicted by an L2-penalised logistic regression (standardised inputs, ``C`` = 1) fitted on the
other folds; the ROC AUC of the pooled out-of-fold scores.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def probe_scores(features: np.ndarray, disease: np.ndarray, seed: int = 0, folds: int = 5) -> np.ndarray:
    """Cross-fitted decision scores (log-odds) of ``disease`` (bool) from ``features`` (n×k) of the same subjects."""
    x = np.asarray(features, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    y = np.asarray(disease, dtype=bool)
    score = np.empty(len(y))
    for fit, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)).fit(x[fit], y[fit])
        score[held] = model.decision_function(x[held])
    return score


def probe_auc(features: np.ndarray, disease: np.ndarray, seed: int = 0, folds: int = 5) -> float:
    """Cross-fitted ROC AUC of ``disease`` (bool) from ``features`` (n×k) of the same held-out subjects."""
    return float(roc_auc_score(np.asarray(disease, dtype=bool), probe_scores(features, disease, seed, folds)))


def standardised_difference(values: np.ndarray, disease: np.ndarray) -> float:
    """Cohen's d of ``values`` between cases and controls (pooled sd), sign as cases − controls."""
    v = np.asarray(values, dtype=np.float64)
    y = np.asarray(disease, dtype=bool)
    a, b = v[y], v[~y]
    pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    return float((a.mean() - b.mean()) / pooled)
