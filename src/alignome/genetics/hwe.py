"""Hardy–Weinberg exact test (Wigginton, Cutler & Abecasis 2005) as PLINK 1.9 reports it.

The p-value of genotype counts (hom1, het, hom2) is the total probability,
under Hardy–Weinberg equilibrium conditioned on the allele counts, of all
heterozygote counts that are no more probable than the observed one (ties
included), as in PLINK 1.9's ``--hardy`` / ``--hwe``. The mid-p variant
(Graffelman & Moreno 2013; PLINK's ``midp`` modifier) subtracts half the
probability of the observed configuration and of its ties.

Probabilities are handled in log space, so p-values far below 1e-300 do not
overflow; identical counts are computed once. Many count triples are computed
together (:func:`_hwe_many`): each over the window of heterozygote counts
whose probability lies within e^-40 of the observed one's or above (the
distribution is log-concave, so the window is an interval, and what lies
outside changes p by less than 1e-14 relative); a triple whose window the
normal approximation misses is computed in full by :func:`_hwe_one`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

#: Relative tolerance under which two configurations count as equally probable.
TIE_TOLERANCE = 1e-9

#: Terms more than this many nats below the observed configuration's are left out.
_WINDOW_NATS = 40.0

#: Half-width of the first-guess window, in normal-approximation standard deviations (9 sd ≈ 40 nats).
_WINDOW_SDS = 9.0

#: Heterozygote-count cells computed at a time by :func:`_hwe_many`.
_CHUNK_CELLS = 1 << 19


def _logsumexp(values: np.ndarray) -> float:
    """log(sum(exp(values))) of a non-empty 1-D array (scipy's logsumexp carries per-call overhead that dominates on the short arrays here)."""
    top = values.max()
    return float(top + np.log(np.exp(values - top).sum()))


def _hwe_one(het: int, hom1: int, hom2: int, midp: bool) -> float:
    n = het + hom1 + hom2
    if n == 0:
        return 0.5 if midp else 1.0
    homr = min(hom1, hom2)
    rare = 2 * homr + het
    hets = np.arange(rare % 2, rare + 1, 2, dtype=np.float64)
    homr_k = (rare - hets) / 2
    homc_k = n - hets - homr_k
    logp = hets * np.log(2.0) - gammaln(hets + 1) - gammaln(homr_k + 1) - gammaln(homc_k + 1)
    observed = logp[(het - rare % 2) // 2]
    tol = TIE_TOLERANCE
    tail = logp <= observed + tol
    log_total = _logsumexp(logp)
    log_tail = _logsumexp(logp[tail])
    if not midp:
        return float(min(1.0, np.exp(log_tail - log_total)))
    ties = np.abs(logp - observed) <= tol
    value = np.exp(log_tail - log_total) - 0.5 * np.exp(_logsumexp(logp[ties]) - log_total)
    return float(min(1.0, max(value, 0.0)))


def _row_logsumexp(values: np.ndarray) -> np.ndarray:
    """log(sum(exp(row))) of each row of a 2-D array with at least one finite value per row."""
    top = values.max(axis=1)
    return top + np.log(np.exp(values - top[:, None]).sum(axis=1))


def _hwe_many(het: np.ndarray, homr: np.ndarray, homc: np.ndarray, midp: bool) -> np.ndarray:
    """:func:`_hwe_one` for many triples at once (``homr`` ≤ ``homc``), over truncated windows."""
    n = het + homr + homc
    rare = 2 * homr + het
    parity = rare % 2
    last = rare // 2  # index k of the largest heterozygote count parity + 2k
    k_obs = (het - parity) // 2
    # Normal approximation of the heterozygote count: mean and sd, in steps of k.
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_het = np.where(n > 0, rare * (2.0 * n - rare) / np.maximum(2.0 * n - 1, 1), 0.0)
        q = rare / np.maximum(2.0 * n, 1)
        sd_k = np.sqrt(np.maximum(n * 2 * q * (1 - q) * (1 - 2 * q * (1 - q)), 1.0)) / 2
    k_mode = np.clip(np.rint((mean_het - parity) / 2), 0, last).astype(np.int64)
    reach = np.abs(k_obs - k_mode) + np.ceil(_WINDOW_SDS * sd_k).astype(np.int64) + 8
    lo = np.maximum(np.minimum(k_obs, k_mode) - reach, 0)
    hi = np.minimum(np.maximum(k_obs, k_mode) + reach, last)
    # log Γ(x + 1) of every count that occurs, from one table (the values gammaln gives one by one).
    table = gammaln(np.arange(int(n.max()) + 1, dtype=np.float64) + 1)
    log2 = np.log(2.0)
    out = np.empty(het.size)
    redo = np.zeros(het.size, dtype=bool)
    width = hi - lo + 1
    order = np.argsort(width, kind="stable")
    sorted_width = width[order]
    start = 0
    while start < order.size:
        # Rows of at most twice the chunk's narrowest width, at most _CHUNK_CELLS cells.
        cap = 2 * int(sorted_width[start])
        stop = min(int(np.searchsorted(sorted_width, cap, side="right")), start + max(1, _CHUNK_CELLS // cap))
        idx = order[start:stop]
        cols = int(width[idx].max())
        k = lo[idx, None] + np.arange(cols)[None, :]
        valid = k <= hi[idx, None]
        k = np.where(valid, k, hi[idx, None])
        hets = parity[idx, None] + 2 * k
        homr_k = (rare[idx, None] - hets) // 2
        homc_k = n[idx, None] - hets - homr_k
        logp = hets * log2 - table[hets] - table[homr_k] - table[homc_k]
        logp = np.where(valid, logp, -np.inf)
        observed = logp[np.arange(idx.size), k_obs[idx] - lo[idx]]
        log_total = _row_logsumexp(logp)
        tail = logp <= observed[:, None] + TIE_TOLERANCE
        value = np.exp(_row_logsumexp(np.where(tail, logp, -np.inf)) - log_total)
        if midp:
            ties = np.abs(logp - observed[:, None]) <= TIE_TOLERANCE
            value = np.clip(value - 0.5 * np.exp(_row_logsumexp(np.where(ties, logp, -np.inf)) - log_total), 0.0, None)
        out[idx] = np.minimum(1.0, value)
        # The window must reach where terms fall below the cut (or the ends of the range).
        cut = observed - _WINDOW_NATS
        first, final = logp[:, 0], logp[np.arange(idx.size), hi[idx] - lo[idx]]
        redo[idx] = ((lo[idx] > 0) & ~(first < cut)) | ((hi[idx] < last[idx]) & ~(final < cut))
        start = stop
    for i in np.flatnonzero(redo):
        out[i] = _hwe_one(int(het[i]), int(homr[i]), int(homc[i]), midp)
    out[n == 0] = 0.5 if midp else 1.0
    return out


def hwe_exact(het: np.ndarray, hom1: np.ndarray, hom2: np.ndarray, midp: bool = False) -> np.ndarray:
    """Hardy–Weinberg exact-test p-values, one per variant.

    Parameters
    ----------
    het, hom1, hom2
        Integer arrays (same shape): heterozygote and the two homozygote counts.
    midp
        Return the mid-p value (PLINK ``--hardy midp`` / ``--hwe ... midp``).

    Returns
    -------
    ndarray of float64
        p-values; 1 (0.5 with ``midp``) where no genotype was called.
    """
    het = np.asarray(het, dtype=np.int64).ravel()
    hom1 = np.asarray(hom1, dtype=np.int64).ravel()
    hom2 = np.asarray(hom2, dtype=np.int64).ravel()
    if not (het.shape == hom1.shape == hom2.shape):
        raise ValueError("het, hom1 and hom2 must have the same shape")
    if het.size == 0:
        return np.zeros(0)
    # The test is symmetric in the two homozygote classes.
    lo, hi = np.minimum(hom1, hom2), np.maximum(hom1, hom2)
    keys = np.stack([het, lo, hi], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    values = _hwe_many(unique[:, 0], unique[:, 1], unique[:, 2], midp)
    return values[np.asarray(inverse).ravel()]
