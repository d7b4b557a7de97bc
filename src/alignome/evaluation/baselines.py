"""Classical baselines on the same folds: random forest and the simulation oracle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@dataclass
class BaselinePrediction:
    """Class probabilities and MMSE (0–1) predictions for test rows."""

    proba: np.ndarray
    mmse: np.ndarray
    params: dict[str, Any]


def _fit_mmse(model: Any, X: np.ndarray, mmse01: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    ok = np.isfinite(mmse01)
    model.fit(X[ok], mmse01[ok])
    return np.clip(model.predict(X_test), 0.0, 1.0)


def random_forest(
    X_train: np.ndarray,
    y_train: np.ndarray,
    mmse_train: np.ndarray,
    X_test: np.ndarray,
    grid: dict[str, list[Any]],
    inner_folds: int,
    seed: int,
) -> BaselinePrediction:
    """Random forest classifier (grid search in inner CV) + regressor on concatenated raw features.

    The imputer lives inside the pipeline, so it is refitted on each inner training split.
    """
    n_classes = int(y_train.max()) + 1
    pipe = make_pipeline(SimpleImputer(strategy="mean", keep_empty_features=True), RandomForestClassifier(random_state=seed, n_jobs=1))
    param_grid = {f"randomforestclassifier__{k}": v for k, v in grid.items()}
    search = GridSearchCV(
        pipe,
        param_grid,
        scoring="roc_auc" if n_classes == 2 else "roc_auc_ovr",
        cv=StratifiedKFold(n_splits=inner_folds, shuffle=True, random_state=seed),
        n_jobs=1,
    )
    search.fit(X_train, y_train)
    proba = search.predict_proba(X_test)
    best = {k.split("__", 1)[1]: v for k, v in search.best_params_.items()}
    reg = make_pipeline(
        SimpleImputer(strategy="mean", keep_empty_features=True),
        RandomForestRegressor(random_state=seed, n_jobs=1, **best),
    )
    return BaselinePrediction(proba, _fit_mmse(reg, X_train, mmse_train, X_test), best)


def oracle(
    truth_train: np.ndarray,
    y_train: np.ndarray,
    mmse_train: np.ndarray,
    truth_test: np.ndarray,
    seed: int,
) -> BaselinePrediction:
    """Upper reference on simulated data: logistic/linear models on the true latent variables."""
    clf = make_pipeline(SimpleImputer(keep_empty_features=True), StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    clf.fit(truth_train, y_train)
    reg = make_pipeline(SimpleImputer(keep_empty_features=True), StandardScaler(), LinearRegression())
    return BaselinePrediction(clf.predict_proba(truth_test), _fit_mmse(reg, truth_train, mmse_train, truth_test), {})
