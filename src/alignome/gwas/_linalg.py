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
