"""Hardy–Weinberg exact test (Wigginton, Cutler & Abecasis 2005) as PLINK 1.9 reports it.

The p-value of genotype counts (hom1, het, hom2) is the total probability,
under Hardy–Weinberg equilibrium conditioned on the allele counts, of all
heterozygote counts that are no more probable than the observed one (ties
included), as in PLINK 1.9's ``--hardy`` / ``--hwe``. The mid-p variant
(Graffelman & Moreno 2013; PLINK's ``midp`` modifier) subtracts half the
probability of the observed configuration and of its ties.

Probabilities are handled in log space, so p-values far below 1e-300 do not
overflow; identical counts are computed once.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, logsumexp

#: Relative tolerance under which two configurations count as equally probable.
TIE_TOLERANCE = 1e-9


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
    log_total = logsumexp(logp)
    log_tail = logsumexp(logp[tail])
    if not midp:
        return float(min(1.0, np.exp(log_tail - log_total)))
    ties = np.abs(logp - observed) <= tol
    value = np.exp(log_tail - log_total) - 0.5 * np.exp(logsumexp(logp[ties]) - log_total)
    return float(min(1.0, max(value, 0.0)))


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
    values = np.array([_hwe_one(int(h), int(a), int(b), midp) for h, a, b in unique])
    return values[np.asarray(inverse).ravel()]
