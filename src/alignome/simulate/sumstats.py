"""External GWAS summary statistics with the cohort's linkage disequilibrium.

Marginal z-scores of an external case–control GWAS of size ``N`` follow
``z ~ N(√N · R b, R)`` where ``b`` are the standardised joint effects and
``R`` the SNP correlation matrix. ``R`` is taken per chromosome from the
cohort's own genotypes (unlinked chromosomes are independent), and the noise
``R^{1/2} e`` is drawn exactly as ``Xᵀe / √n`` with ``X`` the standardised
genotypes of the chromosome, which needs no matrix square root.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def standardise(dosage: np.ndarray) -> np.ndarray:
    """Column-standardise genotypes (monomorphic columns become zero)."""
    g = dosage.astype(float)
    sd = g.std(axis=0)
    sd[sd == 0] = 1.0
    return (g - g.mean(axis=0)) / sd


def _ld_times(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``R b`` with ``R`` the correlation matrix of the standardised genotypes ``x``."""
    return x.T @ (x @ b) / x.shape[0]


def expected_z(dosage: np.ndarray, chromosome: np.ndarray, joint_effect: np.ndarray, n_external: int) -> np.ndarray:
    """Noise-free marginal z-scores ``√N · R b`` of the external GWAS (what :func:`simulate_sumstats` adds noise to)."""
    z = np.zeros(dosage.shape[1])
    for chrom in np.unique(chromosome):
        cols = np.flatnonzero(chromosome == chrom)
        z[cols] = np.sqrt(n_external) * _ld_times(standardise(dosage[:, cols]), joint_effect[cols])
    return z


def simulate_sumstats(
    dosage: np.ndarray,
    chromosome: np.ndarray,
    variant_id: np.ndarray,
    effect_allele: np.ndarray,
    joint_effect: np.ndarray,
    n_external: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Summary statistics ``variant, effect_allele, beta, p`` for every SNP.

    Parameters
    ----------
    dosage
        ``(n, m)`` cohort genotypes (counts of ``effect_allele``), used for LD.
    chromosome
        Chromosome of each SNP; LD is zero between chromosomes.
    variant_id, effect_allele
        Annotation written to the table.
    joint_effect
        Standardised joint effect ``b`` of each SNP (zero for non-causal).
    n_external
        Sample size of the external GWAS.
    rng
        Random generator.

    Returns
    -------
    pandas.DataFrame
        ``beta`` is per allele on a standardised-liability scale
        (``z / √(2 f (1 − f) N)``) and ``p`` two-sided, floored at 1e-300.
    """
    n = dosage.shape[0]
    z = np.zeros(dosage.shape[1])
    for chrom in np.unique(chromosome):
        cols = np.flatnonzero(chromosome == chrom)
        x = standardise(dosage[:, cols])
        ld_times_b = _ld_times(x, joint_effect[cols])
        noise = x.T @ rng.normal(size=n) / np.sqrt(n)
        z[cols] = np.sqrt(n_external) * ld_times_b + noise
    freq = dosage.mean(axis=0) / 2.0
    se = 1.0 / np.sqrt(np.maximum(2.0 * freq * (1.0 - freq), 1e-6) * n_external)
    p = np.maximum(2.0 * stats.norm.sf(np.abs(z)), 1e-300)
    return pd.DataFrame({"variant": variant_id, "effect_allele": effect_allele, "beta": z * se, "p": p})
