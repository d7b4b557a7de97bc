"""Logistic regression on frozen representations, tuned by Optuna over stratified K-fold CV (paper 001, section 4).

Search space: ``C`` log-uniform in [1e-6, 1e3]; the penalty l1, l2 or elastic net (``l1_ratio``
1, 0 or uniform in [0, 1]); saga. Trials are scored by the mean ROC AUC over the folds of the
training rows; the best setting is refitted on all training rows and scores the test rows.
Scaling sits inside the pipeline (:func:`alignome.evaluation.linear_baseline.classifier_pipeline`),
so every fit sees its training rows only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold

from alignome.evaluation.linear_baseline import classifier_pipeline
from alignome.evaluation.tasks import binary_auc

optuna.logging.set_verbosity(optuna.logging.WARNING)

#: Range of the inverse regularisation strength (log-uniform).
C_RANGE = (1e-6, 1e3)
#: ``l1_ratio`` of each penalty (elastic net: searched).
PENALTIES = {"l1": 1.0, "l2": 0.0, "elasticnet": None}


@dataclass(frozen=True)
class ProbeResult:
    """Mean CV AUC of the best trial, its parameters, and the refitted probe's test scores (probabilities of class 1)."""

    cv_auc: float
    params: dict[str, Any]
    scores: np.ndarray
    coefficients: np.ndarray


def _l1_ratio(params: dict[str, Any]) -> float:
    fixed = PENALTIES[params["penalty"]]
    return float(params["l1_ratio"]) if fixed is None else fixed


def tuned_logistic_probe(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, trials: int, folds: int,
                         seed: int) -> ProbeResult:
    """Search, refit on all of ``x_train`` and score ``x_test`` (see the module docstring)."""
    y_train = np.asarray(y_train, dtype=int)
    n_folds = int(min(folds, np.bincount(y_train, minlength=2).min()))
    if n_folds < 2:
        raise ValueError(f"the probe needs at least 2 training subjects of each class, got {np.bincount(y_train)}")
    splits = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(x_train, y_train))

    def fit(params: dict[str, Any], x: np.ndarray, y: np.ndarray):
        model = classifier_pipeline(params["C"], _l1_ratio(params), seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # a tiny C stops saga early: a fair (poor) trial
            return model.fit(x, y)

    def objective(trial: optuna.Trial) -> float:
        params = {"C": trial.suggest_float("C", *C_RANGE, log=True),
                  "penalty": trial.suggest_categorical("penalty", list(PENALTIES)),
                  "l1_ratio": trial.suggest_float("l1_ratio", 0.0, 1.0)}
        return float(np.mean([
            binary_auc(y_train[te], fit(params, x_train[tr], y_train[tr]).predict_proba(x_train[te])[:, 1])
            for tr, te in splits]))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    best = dict(study.best_params)
    final = fit(best, x_train, y_train)
    scores = final.predict_proba(x_test)[:, 1] if len(x_test) else np.zeros(0)
    return ProbeResult(cv_auc=float(study.best_value), params=best, scores=scores,
                       coefficients=final[-1].coef_.ravel().copy())
