"""Similarity of two representations of the same subjects: linear CKA and SVCCA (paper 001, Fig. 2).

* :func:`linear_cka` — linear centred kernel alignment (Kornblith et al. 2019, ICML):
  with column-centred ``X`` (n × p) and ``Y`` (n × q),
  ``‖YᵀX‖²_F / (‖XᵀX‖_F · ‖YᵀY‖_F)``; invariant to orthogonal transforms and isotropic
  scaling of either side, 1 for ``X`` against itself.
* :func:`svcca` — singular vector CCA (Raghu et al. 2017, NeurIPS): each side is centred
  and reduced to its leading singular directions that keep ``keep_variance`` of its
  variance, at most :func:`svcca_direction_cap` of them, then the canonical correlations
  between the two reduced sides are averaged. 1 for ``X`` against itself.
  The cap: ``n`` centred subjects span ``n − 1`` dimensions, and once the two sides keep
  ``n − 1`` directions together every canonical correlation is 1 whatever the data; so each side
  keeps at most ``(n − 2) // 2`` (together at most ``n − 2``). With few subjects per group the
  mean correlation is still biased upwards; read it next to ``n``.

:func:`similarity_by_group` gives both per group of subjects (paper 001: HC, AD, other).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from alignome.errors import DataError


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise DataError(f"representations of shapes {x.shape} and {y.shape} do not pair", field="embeddings",
                        fix="give two (subjects, dimensions) arrays with the same subjects in the same rows")
    if len(x) < 2:
        raise DataError("similarity needs at least 2 subjects", field="embeddings", fix="give more subjects")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError("representations hold NaN or infinite values", field="embeddings",
                        fix="drop or fix those subjects' embeddings")
    return x - x.mean(0), y - y.mean(0)


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of representations ``(n, p)`` and ``(n, q)`` of the same ``n`` subjects (NaN if one is constant)."""
    x, y = _pair(x, y)
    cross = np.linalg.norm(y.T @ x) ** 2
    norm = np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)
    return float(cross / norm) if norm > 0 else float("nan")


def _leading_directions(x: np.ndarray, keep_variance: float) -> np.ndarray:
    """Scores of centred ``x`` on its fewest singular directions that keep ``keep_variance`` of its variance."""
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    var = s**2
    if var.sum() <= 0:
        return u[:, :0]
    keep = int(np.searchsorted(np.cumsum(var) / var.sum(), keep_variance - 1e-12) + 1)
    return u[:, :keep] * s[:keep]


def svcca_direction_cap(n: int) -> int:
    """Most singular directions one side of an SVCCA of ``n`` subjects keeps: ``(n − 2) // 2``."""
    return max((n - 2) // 2, 0)


def canonical_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Canonical correlations (descending) of two centred, full-column-rank blocks: singular values of QₓᵀQᵧ."""
    qx, _ = np.linalg.qr(x)
    qy, _ = np.linalg.qr(y)
    return np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False), 0.0, 1.0)


def svcca_with_directions(x: np.ndarray, y: np.ndarray, keep_variance: float = 0.99,
                          max_directions: int | None = None) -> tuple[float, int, int]:
    """Mean SVCCA correlation of ``(n, p)`` and ``(n, q)`` and the directions each side kept.

    Each side keeps the fewest leading directions holding ``keep_variance`` of its variance, at most
    ``max_directions`` (default :func:`svcca_direction_cap` of ``n``). NaN when either side is
    constant; an error when the kept directions together reach ``n − 1`` (every canonical
    correlation would be 1) or ``n < 4``.
    """
    if not 0.0 < keep_variance <= 1.0:
        raise DataError(f"keep_variance {keep_variance!r} is not in (0, 1]", field="keep_variance",
                        fix="use e.g. 0.99 (the SVCCA paper's choice)")
    x, y = _pair(x, y)
    n = len(x)
    cap = svcca_direction_cap(n) if max_directions is None else max_directions
    if cap < 1:
        raise DataError(f"{n} subjects are too few for SVCCA (it needs at least 4)", field="embeddings",
                        fix="give more subjects")
    rx, ry = (_leading_directions(a, keep_variance)[:, :cap] for a in (x, y))
    if rx.shape[1] == 0 or ry.shape[1] == 0:
        return float("nan"), rx.shape[1], ry.shape[1]
    if rx.shape[1] + ry.shape[1] >= n - 1:
        raise DataError(f"{n} subjects are too few for SVCCA on {rx.shape[1]} + {ry.shape[1]} directions "
                        "(centred, they span n − 1, so every canonical correlation would be 1)", field="embeddings",
                        fix="give more subjects than kept directions, or lower max_directions")
    return float(canonical_correlations(rx, ry).mean()), rx.shape[1], ry.shape[1]


def svcca(x: np.ndarray, y: np.ndarray, keep_variance: float = 0.99, max_directions: int | None = None) -> float:
    """Mean SVCCA correlation of two representations ``(n, p)`` and ``(n, q)`` of the same subjects
    (:func:`svcca_with_directions` without the direction counts)."""
    return svcca_with_directions(x, y, keep_variance, max_directions)[0]


def similarity_by_group(x: np.ndarray, y: np.ndarray, groups: Sequence[str],
                        keep_variance: float = 0.99) -> pd.DataFrame:
    """Linear CKA and SVCCA between two representations within each group of subjects.

    Returns one row per group (in order of first appearance): ``group``, ``n``, ``cka``,
    ``svcca`` (NaN where the group has fewer than 4 subjects) and ``svcca_directions``, the
    directions kept on each side (e.g. ``"9+7"``).
    """
    groups = np.asarray(groups, dtype=object)
    if len(groups) != len(np.asarray(x)):
        raise DataError(f"{len(groups)} group labels for {len(np.asarray(x))} subjects", field="groups",
                        fix="give one group label per row")
    rows = []
    for g in pd.unique(groups):
        keep = groups == g
        xs, ys = np.asarray(x)[keep], np.asarray(y)[keep]
        sv, dirs = float("nan"), ""
        if keep.sum() >= 4:
            sv, kx, ky = svcca_with_directions(xs, ys, keep_variance)
            dirs = f"{kx}+{ky}"
        rows.append({"group": g, "n": int(keep.sum()), "cka": linear_cka(xs, ys) if keep.sum() > 1 else float("nan"),
                     "svcca": sv, "svcca_directions": dirs})
    return pd.DataFrame(rows)
