"""The Optuna-tuned logistic probe finds signal where there is some and none where there is none."""

import numpy as np

from alignome.evaluation.tuned_logistic_probe import tuned_logistic_probe
from sklearn.metrics import roc_auc_score


def _data(signal: float, n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(size=(n, 8))
    x[:, 0] += signal * y
    cut = 2 * n // 3
    return x[:cut], y[:cut], x[cut:], y[cut:]


def test_an_informative_dimension_is_found_and_scores_held_out_rows():
    x, y, xt, yt = _data(signal=3.0)
    result = tuned_logistic_probe(x, y, xt, trials=6, folds=5, seed=0)
    assert result.cv_auc > 0.9
    assert roc_auc_score(yt, result.scores) > 0.9
    assert np.argmax(np.abs(result.coefficients)) == 0
    assert 1e-6 <= result.params["C"] <= 1e3 and result.params["penalty"] in {"l1", "l2", "elasticnet"}


def test_no_signal_gives_chance_on_held_out_rows():
    x, y, xt, yt = _data(signal=0.0, n=400)
    result = tuned_logistic_probe(x, y, np.vstack([xt]), trials=4, folds=3, seed=0)
    assert abs(roc_auc_score(yt, result.scores) - 0.5) < 0.2
