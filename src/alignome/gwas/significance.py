"""Significance of a scan: the genome-wide threshold and the genomic inflation factor λGC.

* :data:`GENOME_WIDE` — 5e-8.
* :func:`lambda_gc` — genomic inflation from p-values, ``qchisq(1 − median p, 1) / qchisq(0.5, 1)``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

#: Genome-wide significance.
GENOME_WIDE = 5e-8

#: qchisq(0.5, 1): the median of a 1-df χ².
_CHI2_1_MEDIAN = NormalDist().inv_cdf(0.25) ** 2


def lambda_gc(p: np.ndarray) -> float:
    """Genomic inflation factor from p-values (NaN ignored; 1-df χ² scale).

    ``qchisq(1 − median p, 1) / qchisq(0.5, 1)`` with ``qchisq(1 − q, 1) = Φ⁻¹(q/2)²``.
    """
    p = np.asarray(p, dtype=float)
    p = p[np.isfinite(p)]
    if p.size == 0:
        return float("nan")
    median = float(np.median(p))
    if median <= 0.0:
        return math.inf
    if median >= 1.0:
        return 0.0
    return NormalDist().inv_cdf(median / 2.0) ** 2 / _CHI2_1_MEDIAN
