"""Longitudinal evaluation of scan embeddings: temporal consistency,
subject re-identification across visits and linear probes.

Every function takes an embedding matrix ``emb`` (N, d) whose row ``i`` is the
scan in row ``i`` of the scan table ``scans`` (columns ``subject``, ``visit``,
``age``, ``diagnosis`` ...). Distances are cosine distances, ``1 - cos``, in
[0, 2]. Nothing here trains an encoder; probes are fitted on training subjects
only and refuse a test set that shares a subject with the training set.
"""

from __future__ import annotations

import warnings
from math import comb
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    balanced_accuracy_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from alignome.errors import DataError
from alignome.report.ordering import order_diagnoses

#: Ridge penalties searched by the age probe's inner, subject-grouped CV.
AGE_ALPHAS = tuple(float(a) for a in np.logspace(-2, 4, 13))
#: Similarities closer than this count as ties in re-identification.
_TIE_DECIMALS = 10
#: Query rows handled at once in re-identification (bounds memory to ~chunk × N).
_CHUNK = 1024


class SubjectLeakageError(DataError, ValueError):
    """Training and test scans share a subject."""


# ---------------------------------------------------------------- helpers


def _check_inputs(emb: np.ndarray, scans: pd.DataFrame, name: str = "emb") -> np.ndarray:
    emb = np.asarray(emb, dtype=np.float64)
    if emb.ndim != 2:
        raise DataError(f"{name} must be a 2-D array (scans × dimensions), got shape {emb.shape}",
                        field=name, fix="pass one embedding row per scan")
    if len(scans) != emb.shape[0]:
        raise DataError(f"{name} has {emb.shape[0]} rows but the scan table has {len(scans)}",
                        field=name, fix="row i of the embeddings must be the scan in row i of the table")
    if "subject" not in scans.columns:
        raise DataError("the scan table has no 'subject' column", field="subject",
                        fix="use the scan table of alignome.cohort.image_cohort")
    if not np.isfinite(emb).all():
        bad = np.flatnonzero(~np.isfinite(emb).all(axis=1))
        raise DataError(f"{name} holds NaN or infinite values in {bad.size} row(s)", field=name,
                        row=f"position {int(bad[0])}", fix="check the encoder output (diverged training?)")
    return emb


def _unit_rows(emb: np.ndarray, name: str = "emb") -> np.ndarray:
    norms = np.linalg.norm(emb, axis=1)
    zero = np.flatnonzero(norms <= 1e-12)
    if zero.size:
        raise DataError(f"{name} has {zero.size} all-zero row(s); cosine distance is undefined",
                        field=name, row=f"position {int(zero[0])}", fix="check the encoder output")
    return emb / norms[:, None]


def subject_trajectories(scans: pd.DataFrame) -> dict[str, np.ndarray]:
    """Row positions of each subject's scans in time order.

    Parameters
    ----------
    scans
        Scan table with a ``subject`` column; visits are ordered by ``visit``
        when present, otherwise by ``age``, ties and the rest by row order.

    Returns
    -------
    dict of str to numpy.ndarray
        Subject (in order of first appearance) -> int array of row positions.
    """
    if "subject" not in scans.columns:
        raise DataError("the scan table has no 'subject' column", field="subject",
                        fix="use the scan table of alignome.cohort.image_cohort")
    frame = pd.DataFrame({"subject": scans["subject"].astype(str).to_numpy(),
                          "pos": np.arange(len(scans))})
    keys = ["subject"]
    for col in ("visit", "age"):
        if col in scans.columns:
            frame["order"] = pd.to_numeric(scans[col], errors="coerce").to_numpy()
            keys.append("order")
            break
    keys.append("pos")
    first = {s: i for i, s in enumerate(pd.unique(frame["subject"]))}
    frame["first"] = frame["subject"].map(first)
    frame = frame.sort_values(["first"] + keys[1:], kind="mergesort", na_position="last")
    return {s: g["pos"].to_numpy() for s, g in frame.groupby("subject", sort=False)}


def _codes(scans: pd.DataFrame) -> np.ndarray:
    return pd.factorize(scans["subject"].astype(str))[0]


# ---------------------------------------------------------------- temporal consistency


def temporal_consistency(emb: np.ndarray, scans: pd.DataFrame) -> dict[str, Any]:
    """Cosine distance between consecutive visits against the distance between subjects.

    Parameters
    ----------
    emb
        Embeddings (N, d); row ``i`` is the scan in row ``i`` of ``scans``.
    scans
        Scan table (``subject``, ``visit`` ...).

    Returns
    -------
    dict
        ``consecutive_distance``: mean over subjects with >= 2 scans of the mean
        cosine distance between consecutive visits (the metric of paper 004);
        ``between_subject_distance``: mean cosine distance over *all* pairs of
        scans of different subjects (computed exactly in O(N d) from sums of unit
        vectors); ``ratio``: consecutive / between (lower is better, 1 means no
        subject structure; NaN when the between-subject distance is 0, as for a
        collapsed encoder); ``n_subjects`` (with >= 2 scans), ``n_consecutive_pairs``,
        ``n_between_pairs``; ``per_subject``: DataFrame (subject, n_visits,
        mean_consecutive_distance), one row per subject with >= 2 scans.
    """
    emb = _check_inputs(emb, scans)
    unit = _unit_rows(emb)
    rows = []
    n_pairs = 0
    for subject, pos in subject_trajectories(scans).items():
        if pos.size < 2:
            continue
        d = 1.0 - np.einsum("ij,ij->i", unit[pos[:-1]], unit[pos[1:]])
        n_pairs += d.size
        rows.append({"subject": subject, "n_visits": int(pos.size),
                     "mean_consecutive_distance": float(d.mean())})
    per_subject = pd.DataFrame(rows, columns=["subject", "n_visits", "mean_consecutive_distance"])
    consecutive = float(per_subject["mean_consecutive_distance"].mean()) if rows else float("nan")

    # Σ_{i≠j, s(i)≠s(j)} u_i·u_j = ||Σ u||² − Σ_s ||Σ_{i∈s} u_i||²  (ordered pairs)
    codes = _codes(scans)
    sums = np.zeros((codes.max() + 1 if codes.size else 0, unit.shape[1]))
    np.add.at(sums, codes, unit)
    counts = np.bincount(codes, minlength=sums.shape[0]).astype(np.float64)
    n = float(len(codes))
    ordered_pairs = n * n - float((counts**2).sum())
    if ordered_pairs > 0:
        total = float(unit.sum(axis=0) @ unit.sum(axis=0))
        within = float((sums * sums).sum())
        between = 1.0 - (total - within) / ordered_pairs
    else:
        between = float("nan")
    ratio = consecutive / between if np.isfinite(between) and between > 1e-12 else float("nan")
    return {
        "consecutive_distance": consecutive,
        "between_subject_distance": float(between),
        "ratio": float(ratio),
        "n_subjects": len(rows),
        "n_consecutive_pairs": n_pairs,
        "n_between_pairs": int(ordered_pairs // 2),
        "per_subject": per_subject,
    }


def distance_distributions(emb: np.ndarray, scans: pd.DataFrame, max_pairs: int = 20000,
                           seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distances of consecutive visits and of scans of different subjects.

    For :func:`alignome.analysis.trajectories.distance_figure`.

    Parameters
    ----------
    emb
        Embeddings (N, d), row ``i`` = scan ``i``.
    scans
        Scan table.
    max_pairs
        Between-subject pairs returned at most; all pairs when there are fewer,
        else a seeded uniform sample (with replacement) of pairs of different subjects.
    seed
        Seed of that sample.

    Returns
    -------
    tuple of numpy.ndarray
        (every consecutive-visit distance, between-subject distances).
    """
    emb = _check_inputs(emb, scans)
    unit = _unit_rows(emb)
    consecutive = [1.0 - np.einsum("ij,ij->i", unit[p[:-1]], unit[p[1:]])
                   for p in subject_trajectories(scans).values() if p.size >= 2]
    consecutive_arr = np.concatenate(consecutive) if consecutive else np.empty(0)
    codes = _codes(scans)
    n = len(codes)
    counts = np.bincount(codes) if n else np.zeros(0, int)
    n_between = (n * n - int((counts**2).sum())) // 2
    if n_between == 0:
        return consecutive_arr, np.empty(0)
    if n_between <= max_pairs:
        i, j = np.triu_indices(n, k=1)
        keep = codes[i] != codes[j]
        i, j = i[keep], j[keep]
    else:
        rng = np.random.default_rng(seed)
        i_parts, j_parts, got = [], [], 0
        while got < max_pairs:
            a = rng.integers(0, n, size=2 * max_pairs)
            b = rng.integers(0, n, size=2 * max_pairs)
            keep = codes[a] != codes[b]
            i_parts.append(a[keep])
            j_parts.append(b[keep])
            got += int(keep.sum())
        i = np.concatenate(i_parts)[:max_pairs]
        j = np.concatenate(j_parts)[:max_pairs]
    between = 1.0 - np.einsum("ij,ij->i", unit[i], unit[j])
    return consecutive_arr, between


# ---------------------------------------------------------------- re-identification


def _hit_probability(n_better: np.ndarray, n_tied_other: np.ndarray, n_tied_same: np.ndarray,
                     k: int) -> np.ndarray:
    """P(a same-subject scan is in the top k) when ties are broken uniformly at random."""
    out = np.empty(n_better.size)
    for q, (a, to, ts) in enumerate(zip(n_better, n_tied_other, n_tied_same)):
        r = k - int(a)  # slots left inside the tied block
        if r <= 0:
            out[q] = 0.0
        elif r > to:
            out[q] = 1.0
        else:  # 1 − P(the first r places of the tied block are all other subjects)
            out[q] = 1.0 - comb(int(to), r) / comb(int(to + ts), r)
    return out


def reidentification(emb: np.ndarray, scans: pd.DataFrame, ks: tuple[int, ...] = (1, 5)) -> dict[str, Any]:
    """Subject re-identification across visits by cosine retrieval.

    Every scan of a subject with >= 2 scans is a query; its gallery is every
    other scan of the table (the query itself excluded). A query is a hit at
    ``k`` when its ``k`` most similar gallery scans include one of the same
    subject. Exact ties in similarity are broken uniformly at random and the
    expected hit is counted, so a collapsed encoder (all embeddings equal)
    scores exactly chance, neither 0 nor 1.

    Parameters
    ----------
    emb
        Embeddings (N, d); row ``i`` is the scan in row ``i`` of ``scans``.
    scans
        Scan table with ``subject``.
    ks
        Cut-offs k.

    Returns
    -------
    dict
        ``top{k}`` for each k (fraction of queries), ``chance_top{k}`` (the same
        under a random ranking: mean over queries of 1 − C(G−m, k)/C(G, k), with
        G gallery scans of which m are the subject's), ``mean_rank`` of the first
        same-subject scan, ``queries`` (number of queries), ``gallery`` (N − 1).
        Rates are NaN when no subject has two scans.
    """
    emb = _check_inputs(emb, scans)
    ks = tuple(int(k) for k in ks)
    if any(k < 1 for k in ks):
        raise DataError(f"every k must be >= 1, got {ks}", field="ks")
    unit = _unit_rows(emb)
    codes = _codes(scans)
    n = len(codes)
    counts = np.bincount(codes) if n else np.zeros(0, int)
    queries = np.flatnonzero(counts[codes] >= 2) if n else np.empty(0, int)
    out: dict[str, Any] = {"queries": int(queries.size), "gallery": max(n - 1, 0)}
    if queries.size == 0:
        for k in ks:
            out[f"top{k}"] = float("nan")
            out[f"chance_top{k}"] = float("nan")
        out["mean_rank"] = float("nan")
        return out

    hits = {k: np.empty(queries.size) for k in ks}
    ranks = np.empty(queries.size)
    for start in range(0, queries.size, _CHUNK):
        q = queries[start:start + _CHUNK]
        sim = np.round(unit[q] @ unit.T, _TIE_DECIMALS)
        sim[np.arange(q.size), q] = -np.inf  # the query is not in its gallery
        same = codes[None, :] == codes[q][:, None]
        same[np.arange(q.size), q] = False
        best = np.where(same, sim, -np.inf).max(axis=1, keepdims=True)
        other = ~same
        other[np.arange(q.size), q] = False
        n_better = (other & (sim > best)).sum(axis=1)
        n_tied_other = (other & (sim == best)).sum(axis=1)
        n_tied_same = (same & (sim == best)).sum(axis=1)
        for k in ks:
            hits[k][start:start + q.size] = _hit_probability(n_better, n_tied_other, n_tied_same, k)
        # expected position of the first same-subject scan within the tied block
        ranks[start:start + q.size] = n_better + 1 + n_tied_other / (n_tied_same + 1)
    gallery = n - 1
    m = counts[codes[queries]] - 1  # same-subject scans in each query's gallery
    for k in ks:
        out[f"top{k}"] = float(hits[k].mean())
        kk = min(k, gallery)
        chance = [1.0 - comb(gallery - int(mi), kk) / comb(gallery, kk) for mi in m]
        out[f"chance_top{k}"] = float(np.mean(chance))
    out["mean_rank"] = float(ranks.mean())
    return out


# ---------------------------------------------------------------- linear probes


def _check_disjoint(scans_train: pd.DataFrame, scans_test: pd.DataFrame) -> None:
    train = set(scans_train["subject"].astype(str))
    test = set(scans_test["subject"].astype(str))
    overlap = sorted(train & test)
    if overlap:
        shown = ", ".join(overlap[:10]) + (f" … ({len(overlap)} in all)" if len(overlap) > 10 else "")
        raise SubjectLeakageError(
            f"training and test scans share {len(overlap)} subject(s): {shown}",
            field="subject",
            fix="split by subject (alignome.cohort.splits) so no subject's visits straddle train and test")


def _row(task: str, metric: str, value: float, n_train: int, n_test: int, note: str = "") -> dict[str, Any]:
    return {"task": task, "metric": metric, "value": float(value), "n_train": int(n_train),
            "n_test": int(n_test), "note": note}


def _macro_ovr_auc(y: np.ndarray, proba: np.ndarray) -> tuple[float, str]:
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


def _diagnosis_probe(emb_train, scans_train, emb_test, scans_test, seed: int) -> list[dict[str, Any]]:
    task = "diagnosis"
    if "diagnosis" not in scans_train.columns or "diagnosis" not in scans_test.columns:
        return [_row(task, "skipped", np.nan, 0, 0, "no 'diagnosis' column in the scan table")]
    dtr = scans_train["diagnosis"]
    dte = scans_test["diagnosis"]
    mtr = dtr.notna().to_numpy() & (dtr.astype(str).str.strip() != "").to_numpy()
    mte = dte.notna().to_numpy() & (dte.astype(str).str.strip() != "").to_numpy()
    ytr_s, yte_s = dtr[mtr].astype(str).to_numpy(), dte[mte].astype(str).to_numpy()
    n_train, n_test = int(mtr.sum()), int(mte.sum())
    classes = order_diagnoses(ytr_s)
    if len(classes) < 2:
        return [_row(task, "skipped", np.nan, n_train, n_test,
                     f"training scans hold {len(classes)} diagnosis class(es); a probe needs 2")]
    missing = sorted(set(yte_s) - set(classes))
    if missing:
        return [_row(task, "skipped", np.nan, n_train, n_test,
                     f"class(es) {', '.join(missing)} appear in test but not in training")]
    if n_test == 0:
        return [_row(task, "skipped", np.nan, n_train, n_test, "no test scan has a diagnosis")]
    index = {c: i for i, c in enumerate(classes)}
    ytr = np.array([index[c] for c in ytr_s])
    yte = np.array([index[c] for c in yte_s])
    model = Pipeline([
        ("scale", StandardScaler()),
        ("logreg", LogisticRegression(max_iter=5000, class_weight="balanced", random_state=seed)),
    ])
    model.fit(emb_train[mtr], ytr)
    proba = model.predict_proba(emb_test[mte])
    pred = proba.argmax(axis=1)
    note = f"classes {'/'.join(classes)} (chance {1 / len(classes):.3f})"
    if len(np.unique(yte)) == 1:
        note += "; test scans hold one class, so this is that class's recall"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn's note on a single test class
        bacc = balanced_accuracy_score(yte, pred)
    rows = [_row(task, "balanced_accuracy", bacc, n_train, n_test, note)]
    if len(classes) == 2:
        ok = len(np.unique(yte)) == 2
        rows.append(_row(task, "auc", roc_auc_score(yte, proba[:, 1]) if ok else np.nan, n_train, n_test,
                         "" if ok else "test scans hold one class; AUC undefined"))
    else:
        auc, note = _macro_ovr_auc(yte, proba)
        rows.append(_row(task, "auc_macro_ovr", auc, n_train, n_test, note or "macro one-vs-rest"))
    return rows


def _age_probe(emb_train, scans_train, emb_test, scans_test, seed: int) -> list[dict[str, Any]]:
    task = "age"
    if "age" not in scans_train.columns or "age" not in scans_test.columns:
        return [_row(task, "skipped", np.nan, 0, 0, "no 'age' column in the scan table")]
    atr = pd.to_numeric(scans_train["age"], errors="coerce").to_numpy(dtype=np.float64)
    ate = pd.to_numeric(scans_test["age"], errors="coerce").to_numpy(dtype=np.float64)
    mtr, mte = np.isfinite(atr), np.isfinite(ate)
    n_train, n_test = int(mtr.sum()), int(mte.sum())
    if n_train < 3 or n_test == 0:
        return [_row(task, "skipped", np.nan, n_train, n_test,
                     "too few scans with a known age (need >= 3 in training and >= 1 in test)")]
    groups = scans_train["subject"].astype(str).to_numpy()[mtr]
    n_groups = len(np.unique(groups))
    pipe = Pipeline([("scale", StandardScaler()), ("ridge", Ridge())])
    if n_groups >= 2:
        search = GridSearchCV(pipe, {"ridge__alpha": list(AGE_ALPHAS)},
                              cv=GroupKFold(n_splits=min(5, n_groups)),
                              scoring="neg_mean_squared_error", n_jobs=1)
        search.fit(emb_train[mtr], atr[mtr], groups=groups)
        model, alpha = search.best_estimator_, float(search.best_params_["ridge__alpha"])
        note = f"ridge alpha {alpha:g} chosen by {min(5, n_groups)}-fold GroupKFold on training subjects"
    else:
        model = pipe.fit(emb_train[mtr], atr[mtr])
        note = "one training subject: ridge alpha 1 without inner CV"
    pred = model.predict(emb_test[mte])
    baseline = mean_absolute_error(ate[mte], np.full(n_test, atr[mtr].mean()))
    r2 = r2_score(ate[mte], pred) if n_test >= 2 and np.ptp(ate[mte]) > 0 else np.nan
    return [
        _row(task, "mae", mean_absolute_error(ate[mte], pred), n_train, n_test,
             f"{note}; MAE of predicting the training mean: {baseline:.3g}"),
        _row(task, "r2", r2, n_train, n_test, note if np.isfinite(r2) else "R² undefined on this test set"),
    ]


def linear_probes(emb_train: np.ndarray, scans_train: pd.DataFrame, emb_test: np.ndarray,
                  scans_test: pd.DataFrame, seed: int = 0) -> list[dict[str, Any]]:
    """Linear probes for diagnosis and age on frozen embeddings, subject-wise.

    Parameters
    ----------
    emb_train, scans_train
        Training embeddings (N_train, d) and their scan table.
    emb_test, scans_test
        Test embeddings (N_test, d) and their scan table.
    seed
        Seed of the logistic regression.

    Returns
    -------
    list of dict
        Rows ``{task, metric, value, n_train, n_test, note}``. Diagnosis
        (StandardScaler + class-balanced LogisticRegression, fitted on training
        scans with a diagnosis): ``balanced_accuracy`` and ``auc`` (2 classes) or
        ``auc_macro_ovr`` (macro one-vs-rest, 3 classes). Age (StandardScaler +
        Ridge, alpha chosen by GroupKFold by subject on training scans only):
        ``mae`` (years) and ``r2``. A probe that cannot run gives one row with
        metric ``skipped`` and the reason in ``note``.

    Raises
    ------
    SubjectLeakageError
        (a ``ValueError`` and ``DataError``) when a subject is in both sets.
    """
    emb_train = _check_inputs(emb_train, scans_train, "emb_train")
    emb_test = _check_inputs(emb_test, scans_test, "emb_test")
    if emb_train.shape[1] != emb_test.shape[1]:
        raise DataError(f"training embeddings have {emb_train.shape[1]} dimensions, test {emb_test.shape[1]}",
                        field="emb_test", fix="embed both sets with the same encoder")
    _check_disjoint(scans_train, scans_test)
    return (_diagnosis_probe(emb_train, scans_train, emb_test, scans_test, seed)
            + _age_probe(emb_train, scans_train, emb_test, scans_test, seed))
