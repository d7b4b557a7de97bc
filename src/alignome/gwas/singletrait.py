"""Single-trait linear association, equal to ``plink2 --glm`` (linear, additive).

For each trait column ``y`` and variant ``g``, fit ``y ~ 1 + covariates + g`` by
OLS and report the genotype's β, SE, t = β/SE and the two-sided t-test P on
``n − p − 1`` degrees of freedom (``p`` covariates including the intercept).
By Frisch–Waugh–Lovell this equals regressing ỹ on g̃ after projecting the
covariates out of both, so a whole variant block is one matmul.

Missing genotypes: plink2 drops, per variant, the samples whose genotype is
missing (OBS_CT shrinks and the covariates are refit on the rest); that is
``missing="drop"`` (default).  ``missing="mean"`` imputes the variant's mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from alignome.gwas._linalg import as_2d, covariate_basis, drop_downdate, mean_impute, residualise


@dataclass(frozen=True)
class SingleTraitResult:
    """OLS association of K traits with m variants.

    Attributes
    ----------
    beta, se, t, p
        (K, m) genotype effect, its standard error, t statistic, two-sided P.
    obs_ct
        (m,) samples used per variant.
    df
        (m,) residual degrees of freedom ``obs_ct − p − 1``.
    n_covariates
        p, the rank of the covariate design including the intercept.
    """

    beta: np.ndarray
    se: np.ndarray
    t: np.ndarray
    p: np.ndarray
    obs_ct: np.ndarray
    df: np.ndarray
    n_covariates: int


def _ols_block(y: np.ndarray, g: np.ndarray, covariates: np.ndarray | None) -> tuple[np.ndarray, ...]:
    n = y.shape[0]
    basis = covariate_basis(covariates, n)
    yt = residualise(basis, y)
    gt = residualise(basis, g)
    gg = np.einsum("ij,ij->j", gt, gt)  # m
    yy = np.einsum("ij,ij->j", yt, yt)  # K
    gy = yt.T @ gt  # K×m
    df = n - basis.shape[1] - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.max(np.abs(g), axis=0) if g.size else np.zeros(0)
        mono = gg <= 1e-12 * np.maximum(scale, 1.0) ** 2 * n
        beta = gy / gg
        rss = np.maximum(yy[:, None] - beta * gy, 0.0)
        se = np.sqrt(rss / df / gg)
        beta = np.where(mono[None, :], np.nan, beta)
        se = np.where(mono[None, :] | (df <= 0), np.nan, se)
    return beta, se, df, basis.shape[1]


def _downdate(y, g, cov, cols, beta, se, obs, df) -> np.ndarray:
    """Fill the drop-missing variants ``cols`` by downdating; return those that need a refit."""
    dd = drop_downdate(y, g[:, cols], cov)
    refit = []
    for i, j in enumerate(cols):
        n_j = int(dd["n"][i])
        obs[j] = n_j
        if n_j < 3:
            continue
        if not dd["ok"][i]:
            refit.append(j)
            continue
        gg, gy, yy = dd["gg"][i], dd["yg"][i], np.diag(dd["yy"][i])
        dof = n_j - dd["p"] - 1
        df[j] = dof
        if gg <= 1e-12 * max(dd["scale"][i], 1.0) ** 2 * n_j:
            continue
        b = gy / gg
        rss = np.maximum(yy - b * gy, 0.0)
        beta[:, j] = b
        if dof > 0:
            se[:, j] = np.sqrt(rss / dof / gg)
    return np.asarray(refit, dtype=np.intp)


def linear_assoc(
    y: np.ndarray,
    g: np.ndarray,
    covariates: np.ndarray | None = None,
    *,
    missing: str = "drop",
    drop_update: str = "downdate",
) -> SingleTraitResult:
    """OLS t-test of each trait column of ``y`` on each genotype column of ``g``.

    Parameters
    ----------
    y
        (n, K) traits, finite (drop samples with a missing trait first).
    g
        (n, m) allele counts/dosages; NaN marks a missing genotype.
    covariates
        (n, k) covariates, finite, no intercept column needed (always added).
    missing
        "drop" (plink2: per-variant sample drop) or "mean" (mean-impute).
    drop_update
        "downdate" (default: rank-k downdate of the full-sample fit) or
        "refit" (full refit per variant) for ``missing="drop"``.

    Returns
    -------
    SingleTraitResult
    """
    if missing not in ("drop", "mean"):
        raise ValueError(f"missing must be 'drop' or 'mean', got {missing!r}")
    y = as_2d("y", y)
    n, k = y.shape
    g = as_2d("g", g, n)
    cov = None if covariates is None else as_2d("covariates", covariates, n)
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN/inf: drop those samples first")
    if missing == "mean":
        g = mean_impute(g)
    m = g.shape[1]
    nan = np.isnan(g)
    has_nan = nan.any(axis=0)
    beta = np.full((k, m), np.nan)
    se = np.full((k, m), np.nan)
    obs = np.full(m, n, dtype=np.int64)
    df = np.zeros(m, dtype=np.int64)
    clean = ~has_nan
    p_cov = covariate_basis(cov, n).shape[1]
    if clean.any():
        b, s, dd, _ = _ols_block(y, g[:, clean], cov)
        beta[:, clean], se[:, clean], df[clean] = b, s, dd
    if drop_update not in ("downdate", "refit"):
        raise ValueError(f"drop_update must be 'downdate' or 'refit', got {drop_update!r}")
    todo = np.flatnonzero(has_nan)
    if todo.size and drop_update == "downdate":
        todo = _downdate(y, g, cov, todo, beta, se, obs, df)
    for j in todo:
        keep = ~nan[:, j]
        obs[j] = int(keep.sum())
        if obs[j] < 3:
            continue
        b, s, dd, _ = _ols_block(y[keep], g[keep, j : j + 1], None if cov is None else cov[keep])
        beta[:, j], se[:, j], df[j] = b[:, 0], s[:, 0], dd
    with np.errstate(divide="ignore", invalid="ignore"):
        t = beta / se
        p = np.where(df[None, :] > 0, 2.0 * stats.t.sf(np.abs(t), np.maximum(df, 1)[None, :]), np.nan)
    return SingleTraitResult(beta=beta, se=se, t=t, p=p, obs_ct=obs, df=df, n_covariates=p_cov)
