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

from alignome.gwas._linalg import (
    _is_packed,
    association_inputs,
    covariate_basis,
    drop_downdate,
    residualise,
)
from alignome.gwas.tails import t_two_sided


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
    """Fill the drop-missing variants ``cols`` by downdating; return those that need a refit.

    ``cols`` are all of ``g``'s columns: complete variants take the
    full-sample fit, the others a rank-k downdate; vectorised over the
    variants (no per-variant Python loop).
    """
    dd = drop_downdate(y, g, cov, yy="diag")
    n_j = dd["n"]
    obs[cols] = n_j
    enough = n_j >= 3
    refit = cols[enough & ~dd["ok"]]
    cand = enough & dd["ok"]
    dof = n_j - dd["p"] - 1
    df[cols[cand]] = dof[cand]
    gg = dd["gg"]
    with np.errstate(invalid="ignore"):
        mono = gg <= 1e-12 * np.maximum(dd["scale"], 1.0) ** 2 * n_j
    idx = np.flatnonzero(cand & ~mono)
    if idx.size:
        gy, g2 = dd["yg"][idx], gg[idx, None]
        b = gy / g2
        rss = np.maximum(dd["yy_diag"][idx] - b * gy, 0.0)
        beta[:, cols[idx]] = b.T
        pos = dof[idx] > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            se[:, cols[idx[pos]]] = np.sqrt(rss[pos] / dof[idx[pos], None] / g2[pos]).T
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
    y, g, cov = association_inputs(y, g, covariates, missing, keep_packed=drop_update == "downdate")
    n, k = y.shape
    m = g.shape[1]
    beta = np.full((k, m), np.nan)
    se = np.full((k, m), np.nan)
    obs = np.full(m, n, dtype=np.int64)
    df = np.zeros(m, dtype=np.int64)
    p_cov = covariate_basis(cov, n).shape[1]
    if drop_update not in ("downdate", "refit"):
        raise ValueError(f"drop_update must be 'downdate' or 'refit', got {drop_update!r}")
    if drop_update == "downdate":
        todo = _downdate(y, g, cov, np.arange(m), beta, se, obs, df) if m else np.zeros(0, dtype=np.intp)
    else:
        has_nan = np.isnan(g).any(axis=0)
        clean = ~has_nan
        if clean.any():
            b, s, dd, _ = _ols_block(y, g[:, clean], cov)
            beta[:, clean], se[:, clean], df[clean] = b, s, dd
        todo = np.flatnonzero(has_nan)
    if len(todo) and _is_packed(g):  # a packed block needing per-variant refits
        g = g.dense()
    for j in todo:
        keep = ~np.isnan(g[:, j])
        obs[j] = int(keep.sum())
        if obs[j] < 3:
            continue
        b, s, dd, _ = _ols_block(y[keep], g[keep, j : j + 1], None if cov is None else cov[keep])
        beta[:, j], se[:, j], df[j] = b[:, 0], s[:, 0], dd
    with np.errstate(divide="ignore", invalid="ignore"):
        t = beta / se
        p = t_two_sided(t, df[None, :])  # = 2·scipy.stats.t.sf(|t|, df), without importing SciPy
    return SingleTraitResult(beta=beta, se=se, t=t, p=p, obs_ct=obs, df=df, n_covariates=p_cov)
