"""Linear probes on frozen scan embeddings, fitted on training subjects and scored on test subjects.

Diagnosis (every class, and AD against CN) and age, per scan; every probe's penalty is
chosen by cross-validation inside the training subjects (grouped by subject), never on test
subjects. Each probe returns its figures and its test predictions, so that intervals can be
drawn by resampling test subjects (:mod:`alignome.evaluation.subject_bootstrap`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.metrics import balanced_accuracy_score, mean_absolute_error, r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from alignome.blas import one_blas_thread
from alignome.errors import DataError
from alignome.evaluation.feasibility import holdout_problem
from alignome.evaluation.inner_cv import fit_logistic_probe
from alignome.evaluation.visit_metrics import _check_inputs
from alignome.report.ordering import order_diagnoses

#: Ridge penalties searched by the age probe's inner, subject-grouped CV.
AGE_ALPHAS = tuple(float(a) for a in np.logspace(-2, 4, 13))
#: The binary diagnosis probe: its classes, negative first.
AD_VS_CN = ("CN", "AD")


class SubjectLeakageError(DataError, ValueError):
    """Training and test scans share a subject."""


@dataclass
class ProbeOutcome:
    """One probe's figures and test predictions.

    Attributes
    ----------
    task
        ``diagnosis``, ``AD vs CN``, ``age`` or ``MCI-to-AD conversion``.
    rows
        ``{task, metric, value, n_train, n_test, note}`` per figure; one row with metric
        ``skipped`` and the reason in ``note`` when the probe cannot run.
    positions
        Rows of the test table the probe scored.
    y
        Their true class index (classification) or value (regression).
    scores
        Class probabilities (n, k) or predicted values (n,).
    chosen
        The penalty chosen on training subjects (``C`` or ``alpha``) and the inner folds it was chosen by.
    """

    task: str
    rows: list[dict[str, Any]]
    positions: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    scores: np.ndarray = field(default_factory=lambda: np.empty(0))
    chosen: dict[str, float] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        return any(r["metric"] == "skipped" for r in self.rows)


def probe_row(task: str, metric: str, value: float, n_train: int, n_test: int, note: str = "") -> dict[str, Any]:
    """One figure of a probe."""
    return {"task": task, "metric": metric, "value": float(value), "n_train": int(n_train),
            "n_test": int(n_test), "note": note}


def skipped_probe(task: str, note: str, n_train: int = 0, n_test: int = 0) -> ProbeOutcome:
    """A probe that could not run, with the reason."""
    return ProbeOutcome(task, [probe_row(task, "skipped", np.nan, n_train, n_test, note)])


def check_disjoint(scans_train: pd.DataFrame, scans_test: pd.DataFrame) -> None:
    """Raise :class:`SubjectLeakageError` when a subject has scans on both sides."""
    overlap = sorted(set(scans_train["subject"].astype(str)) & set(scans_test["subject"].astype(str)))
    if overlap:
        shown = ", ".join(overlap[:10]) + (f" … ({len(overlap)} in all)" if len(overlap) > 10 else "")
        raise SubjectLeakageError(
            f"training and test scans share {len(overlap)} subject(s): {shown}",
            field="subject",
            fix="split by subject (alignome.cohort.splits) so no subject's visits straddle train and test")


def macro_ovr_auc(y: np.ndarray, proba: np.ndarray) -> tuple[float, str]:
    """Mean one-vs-rest AUC over the classes that have positives and negatives in ``y``."""
    aucs, skipped = [], []
    for c in range(proba.shape[1]):
        pos = y == c
        if pos.all() or not pos.any():
            skipped.append(c)
            continue
        aucs.append(roc_auc_score(pos, proba[:, c]))
    return (float(np.mean(aucs)) if aucs else float("nan")), (
        f"{len(skipped)} class(es) absent from test, left out of the macro mean" if skipped and aucs else "")


def _labelled(scans: pd.DataFrame, keep: tuple[str, ...] | None) -> np.ndarray:
    d = scans["diagnosis"]
    mask = d.notna().to_numpy() & (d.astype(str).str.strip() != "").to_numpy()
    if keep is not None:
        mask &= d.astype(str).isin(keep).to_numpy()
    return mask


def _subject_counts(scans: pd.DataFrame, mask: np.ndarray) -> dict[str, int]:
    sub = scans.loc[mask, ["subject", "diagnosis"]].astype(str).drop_duplicates()
    return sub["diagnosis"].value_counts().to_dict()


def diagnosis_probe(emb_train, scans_train, emb_test, scans_test, seed: int,
                    keep: tuple[str, ...] | None = None) -> ProbeOutcome:
    """Diagnosis from one scan: every class (``keep`` None) or the classes in ``keep`` (e.g. :data:`AD_VS_CN`)."""
    task = "diagnosis" if keep is None else " vs ".join(reversed(keep))
    if "diagnosis" not in scans_train.columns or "diagnosis" not in scans_test.columns:
        return skipped_probe(task, "no 'diagnosis' column in the scan table")
    mtr, mte = _labelled(scans_train, keep), _labelled(scans_test, keep)
    ytr_s = scans_train["diagnosis"][mtr].astype(str).to_numpy()
    yte_s = scans_test["diagnosis"][mte].astype(str).to_numpy()
    n_train, n_test = int(mtr.sum()), int(mte.sum())
    if keep is not None:
        problem = holdout_problem(_subject_counts(scans_train, mtr), _subject_counts(scans_test, mte), keep)
        if problem:
            return skipped_probe(task, problem, n_train, n_test)
        classes = list(keep)
    else:
        classes = order_diagnoses(ytr_s)
        if len(classes) < 2:
            return skipped_probe(task, f"training scans hold {len(classes)} diagnosis class(es); a probe needs 2",
                                 n_train, n_test)
        missing = sorted(set(yte_s) - set(classes))
        if missing:
            return skipped_probe(task, f"class(es) {', '.join(missing)} appear in test but not in training",
                                 n_train, n_test)
        if n_test == 0:
            return skipped_probe(task, "no test scan has a diagnosis", n_train, n_test)
    index = {c: i for i, c in enumerate(classes)}
    ytr = np.array([index[c] for c in ytr_s])
    yte = np.array([index[c] for c in yte_s])
    groups = scans_train["subject"].astype(str).to_numpy()[mtr]
    fitted = fit_logistic_probe(emb_train[mtr], ytr, groups, seed)
    proba = fitted.model.predict_proba(emb_test[mte])
    note = f"classes {'/'.join(classes)} (chance {1 / len(classes):.3f}); {fitted.note}"
    if len(np.unique(yte)) == 1:
        note += "; test scans hold one class, so this is that class's recall"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn's note on a single test class
        bacc = balanced_accuracy_score(yte, proba.argmax(axis=1))
    rows = [probe_row(task, "balanced_accuracy", bacc, n_train, n_test, note)]
    if len(classes) == 2:
        ok = len(np.unique(yte)) == 2
        rows.append(probe_row(task, "auc", roc_auc_score(yte, proba[:, 1]) if ok else np.nan, n_train, n_test,
                              fitted.note if ok else "test scans hold one class; AUC undefined"))
    else:
        auc, auc_note = macro_ovr_auc(yte, proba)
        rows.append(probe_row(task, "auc_macro_ovr", auc, n_train, n_test, auc_note or "macro one-vs-rest"))
    return ProbeOutcome(task, rows, np.flatnonzero(mte), yte, proba, fitted.chosen)


def age_probe(emb_train, scans_train, emb_test, scans_test, seed: int) -> ProbeOutcome:
    """Age from one scan: ridge regression, alpha chosen by subject-grouped inner CV on training scans."""
    task = "age"
    if "age" not in scans_train.columns or "age" not in scans_test.columns:
        return skipped_probe(task, "no 'age' column in the scan table")
    atr = pd.to_numeric(scans_train["age"], errors="coerce").to_numpy(dtype=np.float64)
    ate = pd.to_numeric(scans_test["age"], errors="coerce").to_numpy(dtype=np.float64)
    mtr, mte = np.isfinite(atr), np.isfinite(ate)
    n_train, n_test = int(mtr.sum()), int(mte.sum())
    if n_train < 3 or n_test == 0:
        return skipped_probe(task, "too few scans with a known age (need >= 3 in training and >= 1 in test)",
                             n_train, n_test)
    groups = scans_train["subject"].astype(str).to_numpy()[mtr]
    n_groups = len(np.unique(groups))
    pipe = Pipeline([("scale", StandardScaler()), ("ridge", Ridge())])
    if n_groups >= 2:
        search = GridSearchCV(pipe, {"ridge__alpha": list(AGE_ALPHAS)},
                              cv=GroupKFold(n_splits=min(5, n_groups)),
                              scoring="neg_mean_squared_error", n_jobs=1)
        with one_blas_thread():
            search.fit(emb_train[mtr], atr[mtr], groups=groups)
        model, alpha = search.best_estimator_, float(search.best_params_["ridge__alpha"])
        note = f"ridge alpha {alpha:g} chosen by {min(5, n_groups)}-fold GroupKFold on training subjects"
        chosen = {"alpha": alpha, "inner_folds": min(5, n_groups)}
    else:
        model = pipe.fit(emb_train[mtr], atr[mtr])
        note = "one training subject: ridge alpha 1 without inner CV"
        chosen = {"alpha": 1.0, "inner_folds": 0}
    pred = model.predict(emb_test[mte])
    baseline = mean_absolute_error(ate[mte], np.full(n_test, atr[mtr].mean()))
    r2 = r2_score(ate[mte], pred) if n_test >= 2 and np.ptp(ate[mte]) > 0 else np.nan
    rows = [
        probe_row(task, "mae", mean_absolute_error(ate[mte], pred), n_train, n_test,
                  f"{note}; MAE of predicting the training mean: {baseline:.3g}"),
        probe_row(task, "r2", r2, n_train, n_test, note if np.isfinite(r2) else "R² undefined on this test set"),
    ]
    return ProbeOutcome(task, rows, np.flatnonzero(mte), ate[mte], pred, chosen)


def check_probe_inputs(emb_train, scans_train, emb_test, scans_test) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings as float arrays, checked against their tables and for a shared subject."""
    emb_train = _check_inputs(emb_train, scans_train, "emb_train")
    emb_test = _check_inputs(emb_test, scans_test, "emb_test")
    if emb_train.shape[1] != emb_test.shape[1]:
        raise DataError(f"training embeddings have {emb_train.shape[1]} dimensions, test {emb_test.shape[1]}",
                        field="emb_test", fix="embed both sets with the same encoder")
    check_disjoint(scans_train, scans_test)
    return emb_train, emb_test


def probe_outcomes(emb_train: np.ndarray, scans_train: pd.DataFrame, emb_test: np.ndarray,
                   scans_test: pd.DataFrame, seed: int = 0) -> list[ProbeOutcome]:
    """Diagnosis (all classes), AD-vs-CN and age probes, fitted on training scans, scored on test scans.

    Diagnosis probes: StandardScaler + class-balanced LogisticRegression with C chosen by
    :func:`alignome.evaluation.inner_cv.fit_logistic_probe`; ``balanced_accuracy`` and ``auc``
    (two classes) or ``auc_macro_ovr`` (macro one-vs-rest). Age: StandardScaler + Ridge, alpha
    by GroupKFold on training subjects; ``mae`` (years) and ``r2``.

    Raises
    ------
    SubjectLeakageError
        (a ``ValueError`` and ``DataError``) when a subject is in both sets.
    """
    emb_train, emb_test = check_probe_inputs(emb_train, scans_train, emb_test, scans_test)
    return [diagnosis_probe(emb_train, scans_train, emb_test, scans_test, seed),
            diagnosis_probe(emb_train, scans_train, emb_test, scans_test, seed, keep=AD_VS_CN),
            age_probe(emb_train, scans_train, emb_test, scans_test, seed)]


def linear_probes(emb_train: np.ndarray, scans_train: pd.DataFrame, emb_test: np.ndarray,
                  scans_test: pd.DataFrame, seed: int = 0) -> list[dict[str, Any]]:
    """The rows of :func:`probe_outcomes` (``{task, metric, value, n_train, n_test, note}``)."""
    return [row for outcome in probe_outcomes(emb_train, scans_train, emb_test, scans_test, seed)
            for row in outcome.rows]
