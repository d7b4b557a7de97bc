"""Subject-wise stratified outer folds: stratification is a property, not a name."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from alignome.cohort.splits import outer_folds


def _imbalanced_diagnoses(n_cn: int = 31, n_mci: int = 17, n_ad: int = 9, seed: int = 4) -> pd.Series:
    """Final diagnoses of an imbalanced cohort, subjects listed in shuffled order."""
    dx = np.array(["CN"] * n_cn + ["MCI"] * n_mci + ["AD"] * n_ad, dtype=object)
    np.random.default_rng(seed).shuffle(dx)
    return pd.Series(dx, index=[f"S{i:03d}" for i in range(len(dx))])


def _worst_deviation(labels: np.ndarray, test_sets: list[np.ndarray], k: int) -> float:
    """Largest |count of class c in a test fold − n_c / k| over folds and classes.

    Stratification means every fold holds each class in the whole's proportion:
    n_c / k subjects of class c, up to the one subject that integer counts force.
    """
    worst = 0.0
    for test in test_sets:
        for c in np.unique(labels):
            worst = max(worst, abs(int((labels[test] == c).sum()) - (labels == c).sum() / k))
    return worst


def test_each_fold_holds_every_class_in_the_cohorts_proportion():
    final = _imbalanced_diagnoses()
    unlabelled = ["U01", "U02"]
    k, seed = 5, 3
    folds = outer_folds(final, [*final.index, *unlabelled], k, seed)

    labels = final.to_numpy()
    position = {s: i for i, s in enumerate(final.index)}
    test_sets = [np.array([position[s] for s in f.test]) for f in folds]
    assert _worst_deviation(labels, test_sets, k) < 1.0
    for f in folds:  # the training side (labelled part) is then stratified too
        train = np.array([position[s] for s in f.train if s in position])
        for c in np.unique(labels):
            assert abs(int((labels[train] == c).sum()) - (labels == c).sum() * (k - 1) / k) < 1.0
        assert not set(unlabelled) & set(f.test)

    # Guard: on this cohort a plain (unstratified) K-fold with the same seed breaks the property,
    # so the assertion above is what tells stratified folds from plain ones.
    ordered = np.array(sorted(final.index))
    plain = [te for _, te in KFold(k, shuffle=True, random_state=seed).split(ordered)]
    plain_labels = final.loc[ordered].to_numpy()
    assert _worst_deviation(plain_labels, plain, k) >= 1.0
