"""Shared linear-algebra helpers: covariate design, QR projection, shape checks."""

from __future__ import annotations

import hashlib
import threading

import numpy as np

from alignome.gwas.packed import PackedBlock, kernel_available


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


_BASIS_CACHE: dict[tuple, np.ndarray] = {}
_BASIS_LOCK = threading.Lock()


def covariate_basis(covariates: np.ndarray | None, n: int, tol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis ``Q`` (n×p) of [intercept, covariates].

    The intercept is always included.  Columns that are (numerically) linear
    combinations of earlier ones are dropped, so ``p`` is the design's rank: each
    column is scaled to unit length first, and one whose distance from the span of
    the columns before it (its diagonal entry of R) is below ``tol·√max(n, k)`` is
    dependent.  The scaling makes the decision independent of units (ICV in mm³ or
    in litres: the same rank).
    The result is read-only and cached by the covariates' bytes (a genome scan
    asks for the same basis in every variant block).
    """
    cov = None if covariates is None else np.ascontiguousarray(as_2d("covariates", covariates, n))
    key = (n, tol, None if cov is None else (cov.shape, hashlib.blake2b(cov.data, digest_size=16).digest()))
    with _BASIS_LOCK:
        hit = _BASIS_CACHE.get(key)
    if hit is not None:
        return hit
    q = _covariate_basis(cov, n, tol)
    q.flags.writeable = False
    with _BASIS_LOCK:
        if len(_BASIS_CACHE) >= 8:
            _BASIS_CACHE.pop(next(iter(_BASIS_CACHE)))
        _BASIS_CACHE[key] = q
    return q


def _covariate_basis(covariates: np.ndarray | None, n: int, tol: float) -> np.ndarray:
    ones = np.ones((n, 1))
    design = ones if covariates is None else np.hstack([ones, as_2d("covariates", covariates, n)])
    if not np.isfinite(design).all():
        raise ValueError("covariates contain NaN/inf: drop those samples first")
    norms = np.linalg.norm(design, axis=0)
    scaled = design / np.where(norms > 0, norms, 1.0)  # an all-zero column stays zero: dependent
    q, r = np.linalg.qr(scaled)
    independent = np.abs(np.diag(r)) > tol * max(design.shape) ** 0.5
    if not independent.all():  # a column in the span of those before it: drop it, then the basis of the rest
        q, _ = np.linalg.qr(scaled[:, independent])
    return np.ascontiguousarray(q)


def solve_lower(lower: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``L⁻¹ b`` for a lower-triangular ``L`` (k×k, small) and ``b`` (k×m), by forward substitution."""
    z = np.empty(np.broadcast_shapes(b.shape, (lower.shape[0], 1)), dtype=np.float64)
    for i in range(lower.shape[0]):
        z[i] = (b[i] - lower[i, :i] @ z[:i]) / lower[i, i]
    return z


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


def _is_packed(g) -> bool:
    """Whether ``g`` is a :class:`alignome.gwas.packed.PackedBlock` (still-packed ``.bed`` genotypes)."""
    return isinstance(g, PackedBlock)


def association_inputs(
    y: np.ndarray, g: np.ndarray, covariates: np.ndarray | None, missing: str, *, keep_packed: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check and shape the inputs of an association test: ``(y, g, covariates)`` as 2-D arrays.

    ``missing="mean"`` mean-imputes genotypes (all-missing variants stay NaN);
    ``"drop"`` leaves NaN for the per-variant drop.  A packed block
    (:class:`~alignome.gwas.packed.PackedBlock`) is decoded, except with
    ``keep_packed`` when it has no missing call, or with ``missing="drop"``
    where the compiled kernel runs: then it is returned as is, for
    :func:`drop_downdate` to take its products from the bytes.
    """
    if missing not in ("drop", "mean"):
        raise ValueError(f"missing must be 'drop' or 'mean', got {missing!r}")
    y = as_2d("y", y)
    n = y.shape[0]
    if _is_packed(g):
        if g.shape[0] != n:
            raise ValueError(f"g has {g.shape[0]} rows but the phenotypes have {n} samples")
        # stays packed for the downdate, which reads products and missing calls from the bytes
        if not (keep_packed and (g.complete() or (missing == "drop" and kernel_available()))):
            g = g.dense()
    g = g if _is_packed(g) else as_2d("g", g, n)
    cov = None if covariates is None else as_2d("covariates", covariates, n)
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN/inf: drop those samples first")
    if missing == "mean":
        g = mean_impute(g)
    return y, g, cov


def batched_cholesky(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower Cholesky factors of a stack ``a`` (m, k, k); ``ok`` False where one fails.

    One LAPACK call for the whole stack; only if some matrix is not positive
    definite are they factored one by one to find which (their ``L`` is NaN).
    """
    try:
        return np.linalg.cholesky(a), np.ones(a.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        out = np.full_like(a, np.nan)
        ok = np.zeros(a.shape[0], dtype=bool)
        for i in range(a.shape[0]):
            try:
                out[i] = np.linalg.cholesky(a[i])
                ok[i] = True
            except np.linalg.LinAlgError:
                pass
        return out, ok


def _padded(values: np.ndarray, cols: np.ndarray, pos: np.ndarray, m: int, k: int) -> np.ndarray:
    """Scatter per-missing-entry rows ``values`` (nnz, …) into a zero-padded (m, k, …) stack."""
    out = np.zeros((m, k, *values.shape[1:]))
    out[cols, pos] = values
    return out


def drop_downdate(y: np.ndarray, g: np.ndarray, covariates: np.ndarray | None,
                  rank_tol: float = 1e-8, *, yy: str = "full",
                  chunk_elements: int = 4_000_000) -> dict[str, np.ndarray]:
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
    lose covariate rank (smallest squared pivot of the Cholesky factor of
    ``A`` below ``rank_tol``) ``ok`` is False and the caller must refit.

    All variants are done at once, without a per-variant Python loop: the
    missing rows of each variant are gathered into zero-padded stacks
    (variants sorted by their missing count and processed in chunks of at
    most ``chunk_elements`` padded entries, so one variant with many missing
    genotypes does not inflate the padding of the others) and every
    cross-product is one batched matmul.

    Parameters
    ----------
    yy
        "full": ``yy`` holds each variant's D×D ỸᵀỸ|K (multi-trait);
        "diag": only its diagonal, as ``yy_diag`` (single-trait t-tests).

    Returns
    -------
    dict
        ``yy`` (m, D, D) or ``yy_diag`` (m, D), ``yg`` (m, D), ``gg`` (m,),
        ``n`` (m,) kept samples, ``scale`` (m,) max |g| over kept samples (exact
        wherever ``gg ≤ 1e-12·max(scale, 1)²·n`` could hold, else the upper bound √Σg²),
        ``ok`` (m,) bool, ``p`` rank, ``complete`` (m,) bool (no missing call:
        the variant's ỸᵀỸ|K is ``yy_full``, the full-sample ỸᵀỸ).  Entries of
        variants that are not ``ok`` are NaN.
    """
    if yy not in ("full", "diag"):
        raise ValueError(f"yy must be 'full' or 'diag', got {yy!r}")
    n, d = y.shape
    m = g.shape[1]
    q = covariate_basis(covariates, n)
    p = q.shape[1]
    yt = residualise(q, residualise(q, y))  # twice: Ỹ ⊥ Q to rounding, so Ỹᵀg₁ = Ỹᵀg₀
    # one pass over the genotypes: [Q Ỹ]ᵀ g₀; the residual g₁ = g₀ − QQᵀg₀ is never formed
    if _is_packed(g):  # products and missing calls straight from the .bed bytes
        g0 = g
        cross, sumsq = g.cross(np.concatenate([q, yt], axis=1).T)
        cols, rows = g.missing_entries()
    else:
        nan = np.isnan(g)
        g0 = np.where(nan, 0.0, g) if nan.any() else g
        cross = np.concatenate([q, yt], axis=1).T @ g0  # (p + D)×m
        sumsq = np.einsum("ij,ij->j", g0, g0)
        # missing entries, grouped by variant (no copy for a column-major block)
        cols, rows = np.divmod(np.flatnonzero(nan.T.ravel()), n)
    c = cross[:p]
    yy_full = yt.T @ yt
    yg_full = cross[p:].T  # m×D, = Ỹᵀg₁
    gg_full = sumsq - np.einsum("ij,ij->j", c, c)  # g₁ᵀg₁
    full = yy == "full"
    out = {"yy" if full else "yy_diag": np.full((m, d, d) if full else (m, d), np.nan),
           "yg": np.full((m, d), np.nan), "gg": np.full(m, np.nan), "n": np.full(m, n, dtype=np.int64),
           "scale": np.sqrt(sumsq), "ok": np.zeros(m, dtype=bool), "p": p,
           "complete": np.ones(m, dtype=bool), "yy_full": yy_full}
    if m == 0:
        return out
    if not cols.size:  # no missing genotype in the block: every variant takes the full-sample fit
        out["yy" if full else "yy_diag"][:] = yy_full if full else np.diag(yy_full)
        out["yg"][:] = yg_full
        out["gg"][:] = gg_full
        out["ok"][:] = True
        _exact_scale(out, g0, sumsq, n)
        return out
    n_miss = np.bincount(cols, minlength=m)
    out["n"] = n - n_miss
    complete = out["complete"] = n_miss == 0
    if full:
        out["yy"][complete] = yy_full
    else:
        out["yy_diag"][complete] = np.diag(yy_full)
    out["yg"][complete] = yg_full[complete]
    out["gg"][complete] = gg_full[complete]
    out["ok"][complete] = True
    first = np.concatenate([[0], np.cumsum(n_miss)[:-1]])
    order = np.argsort(n_miss, kind="stable")
    order = order[n_miss[order] > 0]
    width = p + d + 1
    i = 0
    while i < order.size:
        # the longest run of variants (in increasing missing count) whose padded stacks fit the budget
        ks = n_miss[order[i:]]
        fits = np.arange(1, ks.size + 1) * ks * width <= chunk_elements
        j = i + max(1, int(np.argmin(fits)) if not fits.all() else ks.size)
        sel = order[i:j]
        i = j
        k = int(n_miss[sel].max())
        mc = sel.size
        # positions of the chunk's missing entries in the padded stacks
        cnt = n_miss[sel]
        loc = np.repeat(np.arange(mc), cnt)
        pos = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        src = np.repeat(first[sel], cnt) + pos
        r = rows[src]
        qr = q[r]
        qm = _padded(qr, loc, pos, mc, k)  # mc×k×p
        ym = _padded(yt[r], loc, pos, mc, k)  # mc×k×D
        gm = _padded(-np.einsum("ip,pi->i", qr, c[:, sel[loc]]), loc, pos, mc, k)  # g₁ at the missing rows
        qmt = qm.transpose(0, 2, 1)
        a = np.eye(p) - qmt @ qm
        chol, ok = batched_cholesky(a)
        with np.errstate(invalid="ignore"):
            ok &= np.min(np.diagonal(chol, axis1=1, axis2=2), axis=1) ** 2 > rank_tol
        if not ok.any():
            continue
        sel, qmt, ym, gm, a = sel[ok], qmt[ok], ym[ok], gm[ok], a[ok]
        by = -(qmt @ ym)  # mc×p×D
        bg = -np.einsum("mpk,mk->mp", qmt, gm)
        ainv_by = np.linalg.solve(a, by)
        ainv_bg = np.linalg.solve(a, bg[:, :, None])[:, :, 0]
        if full:
            out["yy"][sel] = yy_full[None] - ym.transpose(0, 2, 1) @ ym - by.transpose(0, 2, 1) @ ainv_by
        else:
            out["yy_diag"][sel] = (np.diag(yy_full)[None] - np.einsum("mkd,mkd->md", ym, ym)
                                   - np.einsum("mpd,mpd->md", by, ainv_by))
        out["yg"][sel] = yg_full[sel] - np.einsum("mkd,mk->md", ym, gm) - np.einsum("mpd,mp->md", ainv_by, bg)
        out["gg"][sel] = gg_full[sel] - np.einsum("mk,mk->m", gm, gm) - np.einsum("mp,mp->m", bg, ainv_bg)
        out["ok"][sel] = True
    # ``scale`` only enters the callers' monomorphism test gg ≤ 1e-12·max(scale, 1)²·n_j.  As max|g|² ≤ Σg²,
    # n_j ≤ n and gg|K ≤ gg, columns clearing the bound with Σg² can never be flagged: only the others need
    # the exact max |g| (one pass over those columns; usually none), the rest keep the bound √Σg².
    _exact_scale(out, g0, sumsq, n)
    return out


def _exact_scale(out: dict, g0, sumsq: np.ndarray, n: int) -> None:
    """Replace the bound √Σg² of ``out["scale"]`` by the exact max |g| where the monomorphism test needs it."""
    with np.errstate(invalid="ignore"):
        near = ~(out["gg"] > 1e-12 * np.maximum(sumsq, 1.0) * n)
    if near.any():
        sub = g0.zero_filled(near) if _is_packed(g0) else g0[:, near]
        out["scale"][near] = np.maximum(sub.max(axis=0), -sub.min(axis=0)) if n else 0.0
