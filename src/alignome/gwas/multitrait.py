"""Multi-trait GWAS kernel (paper 003): one joint test of a variant on D traits.

For phenotypes ``Y`` (n×D), covariates ``X`` (intercept always added) and a
genotype ``g``, residualise both on ``X`` (QR projection) and let

    Ĉ = ỸᵀỸ / n,  v = Ỹᵀg̃,  q = vᵀ Ĉ⁻¹ v / g̃ᵀg̃.

Three statistics are functions of ``q`` alone:

``"lrt"`` (default, paper 003)
    trait covariance ``C`` fixed at its null estimate, one scale refit:
    ``LRT = −nD·log(1 − q/(nD))`` ~ χ²(D).
``"ml"``
    full maximum likelihood (``C`` refit under the alternative):
    ``−n·log(1 − q/n) = −n·log Λ`` ~ χ²(D), Λ Wilks' lambda.
``"wilks"``
    exact test: for one tested variable Wilks' ``Λ = 1 − q/n`` and
    ``F = ((1−Λ)/Λ)·(n−p−D)/D`` ~ F(D, n−p−D) exactly under Gaussian errors,
    ``p`` the number of covariates including the intercept.

All are computed for a block of m variants at once (``v = ỸᵀG̃`` is one
matmul); ``method`` picks which one fills ``stat``/``p``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignome.gwas._linalg import (
    _is_packed,
    association_inputs,
    batched_cholesky,
    covariate_basis,
    drop_downdate,
    residualise,
    solve_lower,
)
from alignome.gwas.tails import chi2_sf, f_sf

METHODS = ("lrt", "ml", "wilks")


@dataclass(frozen=True)
class MultiTraitResult:
    """Joint D-trait association of m variants.

    Attributes
    ----------
    beta
        (D, m) per-trait marginal effects b̂ = Ỹᵀg̃ / g̃ᵀg̃.
    q
        (m,) the quadratic form vᵀĈ⁻¹v / g̃ᵀg̃.
    lrt, lrt_ml, wilks_f
        (m,) the three statistics (see module docstring).
    p_lrt, p_ml, p_wilks
        (m,) their p-values (χ²(D), χ²(D), F(D, n−p−D)).
    stat, p
        (m,) the statistic and p-value of ``method``.
    method
        Which statistic fills ``stat``/``p``: "lrt", "ml" or "wilks".
    obs_ct
        (m,) samples used per variant.
    n_traits
        D.
    n_covariates
        p, the rank of the covariate design including the intercept.
    """

    beta: np.ndarray
    q: np.ndarray
    lrt: np.ndarray
    lrt_ml: np.ndarray
    wilks_f: np.ndarray
    p_lrt: np.ndarray
    p_ml: np.ndarray
    p_wilks: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    method: str
    obs_ct: np.ndarray
    n_traits: int
    n_covariates: int


def _stats_from_q(q: np.ndarray, n: np.ndarray, d: int, p_cov: np.ndarray) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        lrt = -n * d * np.log1p(-q / (n * d))
        lrt_ml = -n * np.log1p(-q / n)
        lam = 1.0 - q / n
        df2 = n - p_cov - d
        wilks_f = (1.0 - lam) / lam * df2 / d
        # the tails of alignome.gwas.tails (scipy.stats' chi2/f survival functions, without importing SciPy)
        p_wilks = f_sf(wilks_f, d, df2)
        return {
            "lrt": lrt,
            "lrt_ml": lrt_ml,
            "wilks_f": wilks_f,
            "p_lrt": chi2_sf(lrt, d),
            "p_ml": chi2_sf(lrt_ml, d),
            "p_wilks": p_wilks,
        }


def _complete_block(y: np.ndarray, g: np.ndarray, covariates: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """q and β̂ for variants without missing genotypes; returns (beta, q, p_cov)."""
    n = y.shape[0]
    basis = covariate_basis(covariates, n)
    yt = residualise(basis, y)
    gt = residualise(basis, g)
    gram = yt.T @ yt  # n·Ĉ
    try:
        chol = np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:
        raise ValueError("the residualised traits are collinear (ỸᵀỸ is singular): drop a trait") from None
    v = yt.T @ gt  # D×m, one matmul for the whole block
    gg = np.einsum("ij,ij->j", gt, gt)
    z = solve_lower(chol, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.max(np.abs(g), axis=0) if g.size else np.zeros(0)
        mono = gg <= 1e-12 * np.maximum(scale, 1.0) ** 2 * n
        q = np.where(mono, np.nan, n * np.einsum("ij,ij->j", z, z) / gg)
        beta = np.where(mono[None, :], np.nan, v / gg)
    return beta, q, basis.shape[1]


def _downdate(y, g, cov, cols, beta, q, obs, p_cov) -> np.ndarray:
    """Fill the variants ``cols`` (all of ``g``'s columns) by downdating; return those that need a refit.

    Complete variants take the full-sample fit, variants with missing
    genotypes a rank-k downdate of it; vectorised over the variants (batched
    Cholesky/solve, no per-variant Python loop).
    """
    d = y.shape[1]
    dd = drop_downdate(y, g, cov)
    n_j = dd["n"]
    obs[cols] = n_j
    enough = n_j > d + 1
    refit = [cols[enough & ~dd["ok"]]]
    cand = enough & dd["ok"]
    gg = dd["gg"]
    with np.errstate(invalid="ignore"):
        mono = cand & (gg <= 1e-12 * np.maximum(dd["scale"], 1.0) ** 2 * n_j)
    p_cov[cols[mono]] = dd["p"]
    idx = np.flatnonzero(cand & ~mono)
    shared = idx[dd["complete"][idx]]  # no missing call: they all share the full-sample ỸᵀỸ, factored once
    if shared.size:
        idx = idx[~dd["complete"][idx]]
        try:
            chol = np.linalg.cholesky(dd["yy_full"])
        except np.linalg.LinAlgError:
            refit.append(cols[shared])
        else:
            v = dd["yg"][shared]
            z = solve_lower(chol, v.T)
            j = cols[shared]
            q[j] = n_j[shared] * np.einsum("dm,dm->m", z, z) / gg[shared]
            beta[:, j] = (v / gg[shared, None]).T
            p_cov[j] = dd["p"]
    if idx.size:
        yy = dd["yy"][idx]
        _, ok = batched_cholesky(yy)
        refit.append(cols[idx[~ok]])
        idx = idx[ok]
        v = dd["yg"][idx]
        w = np.linalg.solve(yy[ok], v[:, :, None])[:, :, 0]
        j = cols[idx]
        q[j] = n_j[idx] * np.einsum("md,md->m", v, w) / gg[idx]
        beta[:, j] = (v / gg[idx, None]).T
        p_cov[j] = dd["p"]
    return np.sort(np.concatenate(refit)).astype(np.intp)


def multitrait_assoc(
    y: np.ndarray,
    g: np.ndarray,
    covariates: np.ndarray | None = None,
    *,
    method: str = "lrt",
    missing: str = "drop",
    drop_update: str = "downdate",
) -> MultiTraitResult:
    """Joint test of each genotype column of ``g`` against all traits in ``y``.

    Parameters
    ----------
    y
        (n, D) traits, finite.
    g
        (n, m) allele counts/dosages; NaN marks a missing genotype.
    covariates
        (n, k) covariates, finite, without an intercept column (one is added;
        a user intercept is harmless: it is dropped as collinear).
    method
        "lrt" (C fixed, paper 003), "ml" (full ML) or "wilks" (exact F).
    missing
        "drop": a variant's test uses only the samples with its genotype
        (covariate projection and Ĉ refit on them, as plink2 does);
        "mean": missing genotypes take the variant's mean over observed samples.
    drop_update
        How ``missing="drop"`` refits: "downdate" (default; a rank-k downdate
        of the full-sample fit, :func:`~alignome.gwas._linalg.drop_downdate`)
        or "refit" (a full refit per variant).  Same answer up to rounding.

    Returns
    -------
    MultiTraitResult
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    y, g, cov = association_inputs(y, g, covariates, missing, keep_packed=drop_update == "downdate")
    n, d = y.shape
    m = g.shape[1]
    beta = np.full((d, m), np.nan)
    q = np.full(m, np.nan)
    obs = np.full(m, n, dtype=np.int64)
    p_cov = np.zeros(m)
    if drop_update not in ("downdate", "refit"):
        raise ValueError(f"drop_update must be 'downdate' or 'refit', got {drop_update!r}")
    if drop_update == "downdate":
        todo = _downdate(y, g, cov, np.arange(m), beta, q, obs, p_cov) if m else np.zeros(0, dtype=np.intp)
    else:
        has_nan = np.isnan(g).any(axis=0)
        clean = ~has_nan
        if clean.any():
            b, qq, pc = _complete_block(y, g[:, clean], cov)
            beta[:, clean], q[clean], p_cov[clean] = b, qq, pc
        todo = np.flatnonzero(has_nan)
    if len(todo) and _is_packed(g):  # a packed block needing per-variant refits
        g = g.dense()
    for j in todo:
        keep = ~np.isnan(g[:, j])
        obs[j] = int(keep.sum())
        if obs[j] <= d + 1:
            continue
        b, qq, pc = _complete_block(y[keep], g[keep, j : j + 1], None if cov is None else cov[keep])
        beta[:, j], q[j], p_cov[j] = b[:, 0], qq[0], pc
    s = _stats_from_q(q, obs.astype(np.float64), d, p_cov)
    chosen = {"lrt": ("lrt", "p_lrt"), "ml": ("lrt_ml", "p_ml"), "wilks": ("wilks_f", "p_wilks")}[method]
    return MultiTraitResult(
        beta=beta,
        q=q,
        stat=s[chosen[0]],
        p=s[chosen[1]],
        method=method,
        obs_ct=obs,
        n_traits=d,
        n_covariates=covariate_basis(cov, n).shape[1],
        **s,
    )
