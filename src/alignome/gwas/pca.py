"""Genetic principal components by randomised PCA, streamed over ``.bed`` variant blocks.

The genotype matrix ``X`` (n samples × m variants) is standardised per variant
as in plink2 ``--pca`` / GCTA: ``(g − 2f) / sqrt(2f(1 − f))`` with ``f`` the
allele frequency among the samples used; missing genotypes are mean-imputed
(0 after standardising); variants with minor allele frequency below
``min_maf`` (monomorphic ones always) are left out.  ``X`` is never held in
memory: the randomised range finder (Halko, Martinsson & Tropp 2011, alg. 4.3
with power iterations) needs only products with ``A = X Xᵀ``, accumulated
block by block::

    Y₀ = X Ω                     (pass 1; Ω ~ N(0, 1), m × l, drawn per 256-variant chunk)
    Yᵢ = A · orth(Yᵢ₋₁)          (passes 2 … 1 + n_iter)
    Q = orth(Y_{n_iter−1}),  Qᵀ A Q = Qᵀ Y_{n_iter} = W Λ Wᵀ  (Rayleigh–Ritz)

giving eigenvectors ``U = Q W`` of ``A`` (= m·GRM) and eigenvalues ``Λ``.
Each pass reads the ``.bed`` once; ``l = k + oversample``.  The rows of Ω are
drawn in fixed 256-variant chunks seeded by ``(seed, chunk)``, so the answer
depends neither on the block schedule (local or Dask) nor on ``block_size``
(up to the rounding of summing blocks in a different grouping).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg

from alignome.errors import DataError
from alignome.gwas.blocks import map_blocks


@dataclass(frozen=True, eq=False)  # eq=False: safe inside DataFrame.attrs
class GeneticPCs:
    """Top-k genetic principal components.

    Attributes
    ----------
    scores
        (n, k) DataFrame indexed by IID, columns ``GPC1..GPCk``: unit-norm
        eigenvectors of the GRM scaled by ``sqrt(n)`` (variance ≈ 1).
    eigenvalues
        (k,) eigenvalues of the GRM ``X Xᵀ / m_used``.
    n_variants
        Variants used (after the MAF filter).
    seed, n_iter, oversample
        Settings of the randomised range finder (recorded for provenance).
    """

    scores: pd.DataFrame
    eigenvalues: np.ndarray
    n_variants: int
    seed: int
    n_iter: int
    oversample: int


def standardise(g: np.ndarray, min_maf: float = 0.01) -> np.ndarray:
    """Standardised, mean-imputed genotypes; filtered-out variants become 0 columns."""
    with np.errstate(invalid="ignore", divide="ignore"):
        obs = np.isfinite(g)
        count = obs.sum(axis=0)
        mean = np.where(count > 0, np.where(obs, g, 0.0).sum(axis=0) / np.maximum(count, 1), 0.0)
        f = mean / 2.0
        sd = np.sqrt(2.0 * f * (1.0 - f))
        keep = (np.minimum(f, 1.0 - f) >= max(min_maf, 1e-12)) & (sd > 0)
        x = np.where(obs, g - mean, 0.0) / np.where(keep, sd, 1.0)
    x[:, ~keep] = 0.0
    return x


#: Variants per independently seeded chunk of the sketch matrix Ω.
OMEGA_CHUNK = 256


def _omega(start: int, stop: int, width: int, seed: int) -> np.ndarray:
    """Rows ``start:stop`` of Ω (m × width): fixed 256-variant chunks, each seeded by ``(seed, chunk)``,
    so a variant's row does not depend on how the variants are split into blocks."""
    first, last = start // OMEGA_CHUNK, (stop - 1) // OMEGA_CHUNK
    chunks = [np.random.default_rng([seed, c]).standard_normal((OMEGA_CHUNK, width)) for c in range(first, last + 1)]
    offset = start - first * OMEGA_CHUNK
    return np.concatenate(chunks)[offset:offset + stop - start]


def _sketch_block(g, start, stop, width, seed, min_maf):
    x = standardise(g, min_maf)
    kept = int(np.any(x != 0, axis=0).sum())
    return x @ _omega(start, stop, width, seed), kept


def _power_block(g, start, stop, q, min_maf):
    x = standardise(g, min_maf)
    return x @ (x.T @ q)


def genetic_pcs(
    bfile: str | Path,
    k: int,
    samples: pd.Index | list[str] | None = None,
    *,
    oversample: int = 10,
    n_iter: int = 8,
    seed: int = 0,
    min_maf: float = 0.01,
    block_size: int = 1000,
    scheduler: Any = None,
) -> GeneticPCs:
    """Top ``k`` genetic PCs of ``bfile`` by streamed randomised PCA.

    Parameters
    ----------
    bfile
        PLINK 1 binary prefix.
    k
        Number of components.
    samples
        IIDs to use (in this order); default all ``.fam`` samples.
    oversample, n_iter
        Extra sketch columns and power iterations (``1 + n_iter`` passes over
        the ``.bed``).  ``n_iter ≥ 1``.
    seed
        Seed of the random sketch.
    min_maf
        Variants with a lower minor allele frequency are left out.
    block_size
        Variants per block.
    scheduler
        See :mod:`alignome.gwas.blocks`.

    Returns
    -------
    GeneticPCs
    """
    from alignome.gwas.stream import open_bed_stream

    if n_iter < 1:
        raise ValueError(f"n_iter must be ≥ 1, got {n_iter}")
    stream = open_bed_stream(bfile)
    if samples is None:
        rows, index = None, stream.samples
    else:
        index = np.array([str(s) for s in samples], dtype=object)
        rows = stream.sample_rows(index)
        if (rows < 0).any():
            raise DataError(f"{int((rows < 0).sum())} requested sample(s) not in the .fam", file=stream.bed)
    n, m = len(index), len(stream.variants)
    if not 1 <= k < min(n, m):
        raise DataError(f"cannot compute {k} genetic PCs from {n} samples × {m} variants",
                        field="genetic-pcs", fix=f"choose between 1 and {min(n, m) - 1}")
    width = min(k + oversample, n, m)
    y = np.zeros((n, width))
    used = 0
    for part, kept in map_blocks(_sketch_block, stream.bed, rows, m, block_size, width, seed, min_maf,
                                 scheduler=scheduler):
        y += part
        used += kept
    if used <= k:
        raise DataError(f"only {used} variants pass MAF ≥ {min_maf}: too few for {k} PCs",
                        field="genetic-pcs", fix="lower --genetic-pcs or the MAF filter")
    q = y
    for _ in range(n_iter):
        q, _ = linalg.qr(y, mode="economic")
        y = np.zeros((n, width))
        for part in map_blocks(_power_block, stream.bed, rows, m, block_size, q, min_maf, scheduler=scheduler):
            y += part
    small = q.T @ y
    vals, vecs = linalg.eigh((small + small.T) / 2.0)
    order = np.argsort(vals)[::-1][:k]
    u = q @ vecs[:, order]
    # a deterministic sign: the largest-magnitude loading of each PC is positive
    sign = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(k)])
    u *= np.where(sign == 0, 1.0, sign)
    scores = pd.DataFrame(u * np.sqrt(n), index=pd.Index(index, name="IID"),
                          columns=[f"GPC{i + 1}" for i in range(k)])
    return GeneticPCs(scores=scores, eigenvalues=vals[order] / used, n_variants=used, seed=seed,
                      n_iter=n_iter, oversample=oversample)
