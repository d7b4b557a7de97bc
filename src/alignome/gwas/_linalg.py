"""Shared linear-algebra helpers: covariate design, QR projection, shape checks."""

from __future__ import annotations

import numpy as np
from scipy import linalg

from alignome.errors import DataError


def as_2d(name: str, array: np.ndarray, n: int | None = None) -> np.ndarray:
    """Return ``array`` as a float64 2-D array (a 1-D vector becomes one column)."""
    out = np.asarray(array, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {out.shape}")
    if n is not None and out.shape[0] != n:
        raise ValueError(f"{name} has {out.shape[0]} rows but the phenotypes have {n} samples")
    return out


def covariate_basis(covariates: np.ndarray | None, n: int, tol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis ``Q`` (n×p) of [intercept, covariates].

    The intercept is always included.  Columns that are (numerically) linear
    combinations of earlier ones are dropped, so ``p`` is the design's rank.
    """
    ones = np.ones((n, 1))
    design = ones if covariates is None else np.hstack([ones, as_2d("covariates", covariates, n)])
    if not np.isfinite(design).all():
        raise ValueError("covariates contain NaN/inf: drop those samples first")
    q, r, _ = linalg.qr(design, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.sum(diag > tol * max(diag[0], 1.0) * max(design.shape)))
    if rank == 0:
        raise DataError("the covariate design matrix has rank 0", fix="check the covariate columns")
    return np.ascontiguousarray(q[:, :rank])


def residualise(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x − Q Qᵀ x``: residuals of ``x`` (n×k) after projecting out ``Q``."""
    return x - q @ (q.T @ x)


def mean_impute(g: np.ndarray) -> np.ndarray:
    """Replace NaN genotypes by their column's mean over observed samples."""
    nan = np.isnan(g)
    if not nan.any():
        return g
    with np.errstate(invalid="ignore", divide="ignore"):
        counts = (~nan).sum(axis=0)
        means = np.where(counts > 0, np.nansum(g, axis=0) / np.maximum(counts, 1), np.nan)
    return np.where(nan, means[None, :], g)


def drop_downdate(y: np.ndarray, g: np.ndarray, covariates: np.ndarray | None,
                  rank_tol: float = 1e-8) -> dict[str, np.ndarray]:
    """Per-variant residual cross-products with that variant's missing samples dropped.

    Instead of refitting the covariates on the kept samples of each variant
    (O(n·p²) per variant), start from the full-sample fit and remove the k
    missing samples by a rank-k downdate (O(k·(p + D) + p³) per variant).
    With ``Q`` (n×p) the full-sample covariate basis, ``Ỹ = Y − QQᵀY``,
    ``g₁ = g₀ − QQᵀg₀`` (g₀: NaN → 0) and ``M`` the missing rows, the kept
    rows span the covariates with Gram ``A = I − Q_MᵀQ_M`` and

        ỸᵀỸ|K = ỸᵀỸ − Ỹ_MᵀỸ_M − B_yᵀA⁻¹B_y,   B_y = −Q_MᵀỸ_M
        Ỹᵀg̃|K = Ỹᵀg₁ − Ỹ_Mᵀg₁_M − B_yᵀA⁻¹b_g,  b_g = −Q_Mᵀg₁_M
        g̃ᵀg̃|K = g₁ᵀg₁ − g₁_Mᵀg₁_M − b_gᵀA⁻¹b_g

    (exact: the kept-sample residuals of the refit).  Where the kept samples
    lose covariate rank (smallest eigenvalue of ``A`` below ``rank_tol``)
    ``ok`` is False and the caller must refit.

    Returns
    -------
    dict
        ``yy`` (m, D, D), ``yg`` (m, D), ``gg`` (m,), ``n`` (m,) kept samples,
        ``scale`` (m,) max |g| over kept samples, ``ok`` (m,) bool, ``p`` rank.
    """
    n, d = y.shape
    m = g.shape[1]
    q = covariate_basis(covariates, n)
    p = q.shape[1]
    yt = residualise(q, y)
    nan = np.isnan(g)
    g0 = np.where(nan, 0.0, g)
    g1 = residualise(q, g0)
    yy_full = yt.T @ yt
    yg_full = yt.T @ g1
    gg_full = np.einsum("ij,ij->j", g1, g1)
    out = {"yy": np.empty((m, d, d)), "yg": np.empty((m, d)), "gg": np.empty(m), "n": np.empty(m, dtype=np.int64),
           "scale": np.max(np.abs(g0), axis=0) if m else np.zeros(0), "ok": np.ones(m, dtype=bool), "p": p}
    eye = np.eye(p)
    for j in range(m):
        rows = np.flatnonzero(nan[:, j])
        qm, ym, gm = q[rows], yt[rows], g1[rows, j]
        a = eye - qm.T @ qm
        out["n"][j] = n - rows.size
        try:
            chol = linalg.cho_factor(a, lower=True)
            ok = np.min(np.diag(chol[0])) ** 2 > rank_tol
        except linalg.LinAlgError:
            ok = False
        if not ok:
            out["ok"][j] = False
            continue
        by = -qm.T @ ym
        bg = -qm.T @ gm
        ay = linalg.cho_solve(chol, by)
        out["yy"][j] = yy_full - ym.T @ ym - by.T @ ay
        out["yg"][j] = yg_full[:, j] - ym.T @ gm - ay.T @ bg
        out["gg"][j] = gg_full[j] - gm @ gm - bg @ linalg.cho_solve(chol, bg)
    return out
