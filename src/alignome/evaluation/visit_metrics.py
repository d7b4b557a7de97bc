"""Longitudinal evaluation of scan embeddings: temporal consistency and
subject re-identification across visits (probes: :mod:`alignome.evaluation.visit_probes`).

Every function takes an embedding matrix ``emb`` (N, d) whose row ``i`` is the
scan in row ``i`` of the scan table ``scans`` (columns ``subject``, ``visit``,
``age``, ``diagnosis`` ...). Distances are cosine distances, ``1 - cos``, in
[0, 2]. Nothing here trains an encoder.
"""

from __future__ import annotations

from math import comb
from typing import Any

import numpy as np
import pandas as pd

from alignome.errors import DataError

#: Similarities closer than this count as ties in re-identification.
_TIE_DECIMALS = 10
#: Query rows handled at once in re-identification (bounds memory to ~chunk × N).
_CHUNK = 1024


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
        same-subject scan, ``queries`` (number of queries), ``gallery`` (N − 1),
        ``per_query``: DataFrame (position, subject, ``hit_top{k}`` …, rank), one row per
        query, whose means are the rates. Rates are NaN when no subject has two scans.
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
        out["per_query"] = pd.DataFrame(columns=["position", "subject", *(f"hit_top{k}" for k in ks), "rank"])
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
    out["per_query"] = pd.DataFrame({"position": queries, "subject": scans["subject"].astype(str).to_numpy()[queries],
                                     **{f"hit_top{k}": hits[k] for k in ks}, "rank": ranks})
    return out
