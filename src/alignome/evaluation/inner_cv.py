"""Logistic-regression probes whose penalty C is chosen by cross-validation inside the training subjects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from alignome.blas import one_blas_thread

#: Inverse penalties searched (strong to weak): embeddings have far more dimensions than subjects.
C_GRID = tuple(float(c) for c in np.logspace(-4, 2, 7))
#: Inner folds at most; fewer when the rarest class has fewer training subjects.
MAX_INNER_FOLDS = 5
#: Penalty used when the training subjects are too few for any inner split.
FALLBACK_C = 1.0


@dataclass
class FittedProbe:
    """A fitted scaler + logistic regression and how its C was chosen (``inner_folds`` 0: without CV)."""

    model: Pipeline
    c: float
    note: str
    inner_folds: int = 0

    @property
    def chosen(self) -> dict[str, float]:
        """The chosen penalty as written to the run directory."""
        return {"C": self.c, "inner_folds": self.inner_folds}


def inner_folds(y: np.ndarray, groups: np.ndarray) -> int:
    """Inner folds the training rows allow: every fold needs a subject of each class (at most :data:`MAX_INNER_FOLDS`)."""
    fewest = min(len(np.unique(groups[y == c])) for c in np.unique(y))
    return min(MAX_INNER_FOLDS, fewest)


def fit_logistic_probe(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int) -> FittedProbe:
    """Scale, then class-balanced logistic regression with C chosen by subject-grouped, stratified inner CV.

    Parameters
    ----------
    x, y
        Training features (n, d) and class indices (n,) — training subjects only.
    groups
        Subject of each row: a subject's rows never sit on both sides of an inner split.
    seed
        Seed of the inner folds and of the solver.

    Returns
    -------
    FittedProbe
        Refitted on all of ``x`` with the chosen C (ROC-AUC, macro one-vs-rest for more
        than two classes, averaged over inner folds); C = :data:`FALLBACK_C` without CV when
        a class has fewer than two training subjects.
    """
    pipe = Pipeline([("scale", StandardScaler()),
                     ("logreg", LogisticRegression(max_iter=5000, class_weight="balanced", random_state=seed))])
    k = inner_folds(y, groups)
    if k < 2:
        with one_blas_thread():
            pipe.set_params(logreg__C=FALLBACK_C).fit(x, y)
        return FittedProbe(pipe, FALLBACK_C, f"C {FALLBACK_C:g} without inner CV (a class has one training subject)")
    scoring = "roc_auc" if len(np.unique(y)) == 2 else "roc_auc_ovr"
    search = GridSearchCV(pipe, {"logreg__C": list(C_GRID)}, scoring=scoring, n_jobs=1,
                          cv=StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed))
    with one_blas_thread():
        search.fit(x, y, groups=groups)
    c = float(search.best_params_["logreg__C"])
    return FittedProbe(search.best_estimator_, c, f"C {c:g} chosen by {k}-fold subject-grouped inner CV on training subjects",
                       k)
