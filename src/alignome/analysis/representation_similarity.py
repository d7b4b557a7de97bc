"""Similarity of two representations of the same subjects: linear CKA and SVCCA (paper 001, Fig. 2).

* :func:`linear_cka` — linear centred kernel alignment (Kornblith et al. 2019, ICML):
  with column-centred ``X`` (n × p) and ``Y`` (n × q),
  ``‖YᵀX‖²_F / (‖XᵀX‖_F · ‖YᵀY‖_F)``; invariant to orthogonal transforms and isotropic
  scaling of either side, 1 for ``X`` against itself.
* :func:`svcca` — singular vector CCA (Raghu et al. 2017, NeurIPS): each side is centred
  and reduced to its leading singular directions that keep ``keep_variance`` of its
  variance, then the canonical correlations between the two reduced sides are averaged.
  1 for ``X`` against itself.

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


def canonical_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Canonical correlations (descending) of two centred, full-column-rank blocks: singular values of QₓᵀQᵧ."""
    qx, _ = np.linalg.qr(x)
    qy, _ = np.linalg.qr(y)
    return np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False), 0.0, 1.0)


def svcca(x: np.ndarray, y: np.ndarray, keep_variance: float = 0.99) -> float:
    """Mean SVCCA correlation of two representations ``(n, p)`` and ``(n, q)`` of the same subjects.

    NaN when either side is constant. The reduced sides must have fewer directions than
    subjects, else every canonical correlation is 1 (an error says so).
    """
    if not 0.0 < keep_variance <= 1.0:
        raise DataError(f"keep_variance {keep_variance!r} is not in (0, 1]", field="keep_variance",
                        fix="use e.g. 0.99 (the SVCCA paper's choice)")
    x, y = _pair(x, y)
    rx, ry = _leading_directions(x, keep_variance), _leading_directions(y, keep_variance)
    if rx.shape[1] == 0 or ry.shape[1] == 0:
        return float("nan")
    if rx.shape[1] + ry.shape[1] >= len(x):
        raise DataError(f"{len(x)} subjects are too few for SVCCA on {rx.shape[1]} + {ry.shape[1]} directions "
                        "(every canonical correlation would be 1)", field="embeddings",
                        fix="give more subjects than kept directions, or lower keep_variance")
    return float(canonical_correlations(rx, ry).mean())


def similarity_by_group(x: np.ndarray, y: np.ndarray, groups: Sequence[str],
                        keep_variance: float = 0.99) -> pd.DataFrame:
    """Linear CKA and SVCCA between two representations within each group of subjects.

    Returns one row per group (in order of first appearance): ``group``, ``n``, ``cka``,
    ``svcca`` (NaN where the group is too small for SVCCA).
    """
    groups = np.asarray(groups, dtype=object)
    if len(groups) != len(np.asarray(x)):
        raise DataError(f"{len(groups)} group labels for {len(np.asarray(x))} subjects", field="groups",
                        fix="give one group label per row")
    rows = []
    for g in pd.unique(groups):
        keep = groups == g
        xs, ys = np.asarray(x)[keep], np.asarray(y)[keep]
        try:
            sv = svcca(xs, ys, keep_variance)
        except DataError:
            sv = float("nan")
        rows.append({"group": g, "n": int(keep.sum()), "cka": linear_cka(xs, ys) if keep.sum() > 1 else float("nan"),
                     "svcca": sv})
    return pd.DataFrame(rows)
