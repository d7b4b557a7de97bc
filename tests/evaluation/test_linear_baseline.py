"""The elastic-net baseline against a hand-rolled grid search, and its fits see training rows only."""

from itertools import product

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold

from alignome.errors import DataError
from alignome.evaluation.linear_baseline import SAGA_MAX_ITER, SAGA_TOL, ElasticNetBaseline, logistic_regression

GRID = {"C": [0.05, 0.5], "l1_ratio": [0.2, 0.8], "alpha": [0.001, 0.01]}


def _problem(n_classes: int, seed: int = 0, n: int = 150, p: int = 12):
    """Labels from a linear score of three features; 5 % of the entries missing; MMSE tied to the score."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 20, size=p) + rng.normal(0, 50, size=p)
    score = (X[:, :3] - X[:, :3].mean(0)) / X[:, :3].std(0) @ np.array([1.0, -0.7, 0.5]) + rng.normal(0, 0.7, n)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    mmse = np.clip(0.8 - 0.05 * score + rng.normal(0, 0.03, n), 0, 1)
    mmse[rng.random(n) < 0.1] = np.nan
    X[rng.random(X.shape) < 0.05] = np.nan
    return X[:110], y[:110], mmse[:110], X[110:], y[110:]


def _standardise(train: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean imputation and z-scoring with statistics of ``train`` only, written out by hand."""
    mean = np.nanmean(train, axis=0)
    fill = lambda a: np.where(np.isnan(a), mean, a)  # noqa: E731
    a, b = fill(train), fill(other)
    sd = a.std(axis=0)
    sd[sd == 0] = 1.0
    return (a - a.mean(0)) / sd, (b - a.mean(0)) / sd


def _hand_search(X, y_or_mmse, param_names, make, score, splitter):
    """Mean validation score of every grid point (sorted parameter names, first best wins); refit the best."""
    best, best_params = -np.inf, None
    names = sorted(param_names)
    for values in product(*(GRID[k] for k in names)):
        params = dict(zip(names, values))
        scores = []
        for tr, va in splitter.split(X, y_or_mmse):
            a, b = _standardise(X[tr], X[va])
            scores.append(score(make(**params).fit(a, y_or_mmse[tr]), b, y_or_mmse[va]))
        if np.mean(scores) > best:
            best, best_params = np.mean(scores), params
    return best_params


@pytest.mark.parametrize("n_classes", [2, 3])
def test_equals_a_hand_rolled_grid_search_on_the_same_folds(n_classes):
    X, y, mmse, X_test, y_test = _problem(n_classes)
    seed, folds = 3, 3
    got = logistic_regression(X, y, mmse, X_test, GRID, folds, seed)

    def make_clf(C, l1_ratio):
        return LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", tol=SAGA_TOL, max_iter=SAGA_MAX_ITER, random_state=seed)

    def auc(model, Xv, yv):
        p = model.predict_proba(Xv)
        return roc_auc_score(yv, p[:, 1]) if n_classes == 2 else roc_auc_score(yv, p, multi_class="ovr")

    clf_params = _hand_search(X, y, ["C", "l1_ratio"], make_clf, auc, StratifiedKFold(folds, shuffle=True, random_state=seed))
    a, b = _standardise(X, X_test)
    want_proba = make_clf(**clf_params).fit(a, y).predict_proba(b)

    ok = np.isfinite(mmse)
    make_reg = lambda alpha, l1_ratio: ElasticNet(alpha=alpha, l1_ratio=l1_ratio, max_iter=SAGA_MAX_ITER)  # noqa: E731
    neg_mse = lambda model, Xv, yv: -np.mean((model.predict(Xv) - yv) ** 2)  # noqa: E731
    reg_params = _hand_search(X[ok], mmse[ok], ["alpha", "l1_ratio"], make_reg, neg_mse, KFold(folds, shuffle=True, random_state=seed))
    a, b = _standardise(X[ok], X_test)
    want_mmse = np.clip(make_reg(**reg_params).fit(a, mmse[ok]).predict(b), 0, 1)

    assert got.params == {**clf_params, "mmse_alpha": reg_params["alpha"], "mmse_l1_ratio": reg_params["l1_ratio"]}
    np.testing.assert_allclose(got.proba, want_proba, atol=1e-8)
    np.testing.assert_allclose(got.mmse, want_mmse, atol=1e-8)
    # and it learns the simulated signal: held-out AUC well above chance
    assert (roc_auc_score(y_test, got.proba[:, 1]) if n_classes == 2 else roc_auc_score(y_test, got.proba, multi_class="ovr")) > 0.75


def test_imputer_and_scaler_are_fitted_on_training_rows_only():
    X, y, mmse, X_test, _ = _problem(2)
    model = ElasticNetBaseline(GRID, 3, 0).fit(X, y, mmse)
    imputer, scaler, clf = model.classifier_.best_estimator_.named_steps.values()
    np.testing.assert_allclose(imputer.statistics_, np.nanmean(X, axis=0))
    np.testing.assert_allclose(scaler.mean_, np.nanmean(X, axis=0))

    # Wild test rows (scaled, shifted, missing) change neither what was fitted nor the other test rows' predictions.
    before = logistic_regression(X, y, mmse, X_test, GRID, 3, 0)
    wild = X_test.copy()
    wild[:5] = wild[:5] * 1e3 + 1e4
    wild[5:8] = np.nan
    after = logistic_regression(X, y, mmse, wild, GRID, 3, 0)
    assert after.params == before.params
    np.testing.assert_array_equal(after.proba[8:], before.proba[8:])
    np.testing.assert_array_equal(after.mmse[8:], before.mmse[8:])
    coef = clf.coef_.copy()
    model.predict_proba(wild)
    np.testing.assert_array_equal(model.classifier_.best_estimator_[-1].coef_, coef)

    # ... whereas the same perturbation of training rows does move the fit (the check above can fail).
    X_moved = X.copy()
    X_moved[:5] = X_moved[:5] * 1e3 + 1e4
    moved = ElasticNetBaseline(GRID, 3, 0).fit(X_moved, y, mmse)
    assert not np.allclose(moved.classifier_.best_estimator_[1].mean_, scaler.mean_)


def test_an_empty_grid_entry_is_a_clear_error():
    with pytest.raises(DataError, match="alpha"):
        ElasticNetBaseline({"C": [1.0], "l1_ratio": [0.5], "alpha": []}, 3, 0)
