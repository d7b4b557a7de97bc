"""Simulated ``predictions.csv`` tables and the ``results.csv`` AUC rows they imply."""

from __future__ import annotations

import numpy as np
import pandas as pd

from alignome.evaluation.tasks import auc_metric_name, task_auc

CLASSES = {"CN/AD": 2, "CN/MCI": 2, "MCI/AD": 2, "CN/MCI/AD": 3}


def simulated_predictions(signal: dict[str, float], tasks=("CN/AD", "CN/MCI/AD"), folds: int = 3,
                          per_class: int = 12, seed: int = 0, shared: float = 0.0) -> pd.DataFrame:
    """Softmax predictions of each method (``signal`` = how far its logit of the true class is raised).

    Every method sees the same test subjects of each fold; ``shared`` is the weight of noise common
    to all methods (correlated errors, as models scored on the same subjects have).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for task in tasks:
        k = CLASSES[task]
        for fold in range(folds):
            y = np.repeat(np.arange(k), per_class)
            subjects = [f"S{fold}{task[:2]}{i:03d}" for i in range(y.size)]
            common = rng.normal(size=(y.size, k))
            for method, strength in signal.items():
                logits = shared * common + rng.normal(size=(y.size, k))
                logits[np.arange(y.size), y] += strength
                proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
                for i, subject in enumerate(subjects):
                    row = {"method": method, "task": task, "fold": fold, "subject": subject, "y_true": int(y[i])}
                    row.update({f"prob_{c}": proba[i, c] for c in range(k)})
                    rows.append(row)
    return pd.DataFrame(rows)


def results_from(predictions: pd.DataFrame) -> pd.DataFrame:
    """``results.csv`` AUC rows (one per method, task and fold) computed from ``predictions``."""
    rows = []
    for (method, task, fold), g in predictions.groupby(["method", "task", "fold"], sort=False):
        k = CLASSES[task]
        value = task_auc(g["y_true"].to_numpy(), g[[f"prob_{c}" for c in range(k)]].to_numpy())
        rows.append({"method": method, "task": task, "metric": auc_metric_name(task), "fold": fold, "value": value})
    return pd.DataFrame(rows)
