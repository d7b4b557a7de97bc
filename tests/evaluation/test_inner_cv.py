"""Probes choose their penalty by inner CV on training subjects only, in subject-grouped folds."""

from __future__ import annotations

import numpy as np
import pandas as pd

import alignome.evaluation.inner_cv as inner_cv
from alignome.blas import one_blas_thread
from alignome.evaluation.conversion import conversion_probe
from alignome.evaluation.inner_cv import C_GRID, fit_logistic_probe
from alignome.evaluation.visit_probes import probe_outcomes


def _cohort(n: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Subjects with 2–3 visits, CN / MCI (half converting to AD) / AD, a weak diagnosis signal."""
    rng = np.random.default_rng(seed)
    rows, emb = [], []
    centre = {"CN": 0.0, "MCI": 0.6, "AD": 1.2}
    for s in range(n):
        kind = ("CN", "MCI", "AD")[s % 3]
        visits = 2 + s % 2
        for v in range(visits):
            dx = "AD" if kind == "MCI" and s % 2 and v == visits - 1 else kind
            rows.append({"subject": f"s{s:03d}", "visit": v, "age": 70 + s % 10 + v, "diagnosis": dx})
            emb.append(rng.normal(size=12) + centre[kind])
    return np.array(emb), pd.DataFrame(rows)


def _split(emb, scans):
    subjects = scans["subject"].unique()
    test = scans["subject"].isin(np.random.default_rng(0).permutation(subjects)[: len(subjects) // 3]).to_numpy()
    return emb[~test], scans[~test].reset_index(drop=True), emb[test], scans[test].reset_index(drop=True)


def test_the_penalty_search_sees_training_subjects_only_in_grouped_folds(monkeypatch):
    seen: list[tuple[np.ndarray, list[tuple[set, set]]]] = []

    class Spy(inner_cv.GridSearchCV):
        def fit(self, x, y=None, *, groups=None, **params):
            folds = [(set(groups[a]), set(groups[b])) for a, b in self.cv.split(x, y, groups)]
            seen.append((np.asarray(groups), folds))
            return super().fit(x, y, groups=groups, **params)

    monkeypatch.setattr(inner_cv, "GridSearchCV", Spy)
    emb_tr, sc_tr, emb_te, sc_te = _split(*_cohort(90, seed=0))
    outcomes = [*probe_outcomes(emb_tr, sc_tr, emb_te, sc_te, seed=0), conversion_probe(emb_tr, sc_tr, emb_te, sc_te)]
    assert all(not o.skipped for o in outcomes), [o.rows for o in outcomes if o.skipped]
    assert len(seen) == 3  # diagnosis, AD vs CN, conversion
    train, test = set(sc_tr["subject"]), set(sc_te["subject"])
    for groups, folds in seen:
        assert set(groups) <= train and not set(groups) & test
        for fit_side, score_side in folds:
            assert not fit_side & score_side  # a subject's scans never straddle an inner split


def test_changing_test_embeddings_changes_neither_the_penalty_nor_the_fit():
    emb_tr, sc_tr, emb_te, sc_te = _split(*_cohort(90, seed=1))
    other = np.random.default_rng(9).normal(size=emb_te.shape) * 5
    a = probe_outcomes(emb_tr, sc_tr, emb_te, sc_te, seed=0)
    b = probe_outcomes(emb_tr, sc_tr, other, sc_te, seed=0)
    for x, y in zip(a, b):
        assert [r["note"] for r in x.rows if "C " in r["note"]] == [r["note"] for r in y.rows if "C " in r["note"]]


def test_the_chosen_c_is_the_grid_point_with_the_best_grouped_cv_auc():
    """Against a slow loop: each C's mean held-out AUC over the same grouped folds."""
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold

    emb, scans = _cohort(60, seed=2)
    keep = scans["diagnosis"].isin(["CN", "AD"]).to_numpy()
    x, y = emb[keep], (scans.loc[keep, "diagnosis"] == "AD").to_numpy(int)
    groups = scans.loc[keep, "subject"].to_numpy()
    fitted = fit_logistic_probe(x, y, groups, seed=3)
    k = inner_cv.inner_folds(y, groups)
    folds = list(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=3).split(x, y, groups))
    means = []
    with one_blas_thread():
        for c in C_GRID:
            aucs = []
            for a, b in folds:
                model = clone(fitted.model).set_params(logreg__C=c).fit(x[a], y[a])
                aucs.append(roc_auc_score(y[b], model.predict_proba(x[b])[:, 1]))
            means.append(np.mean(aucs))
    assert fitted.c == C_GRID[int(np.argmax(means))]
