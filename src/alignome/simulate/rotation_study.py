"""The rotation simulation of GEMCONT (paper 003, section 3.1): glyphs turned by a heritable angle.

Genotypes ``G_ij ~ Binomial(2, f_j)`` with ``f_j ~ U(maf_range)`` for ``S`` causal and some null
variants, all independent (no linkage disequilibrium: a null variant is unlinked to every causal
one, which is what the λGC null test needs). Causal effects ``β ~ N(0, I_S)``; the latent trait is
eq. 4 of the paper, ``z = √h_g · std(Gβ) + √(1 − h_g) · std(z_n)`` with ``z_n ~ N(0, I_N)`` and
``std`` standardising over the cohort, so the share of var(z) explained by ``Gβ`` is ``h_g`` up to
sampling error. Each image turns by ``α = α_max · tanh(c · z)``.

How ``c`` is chosen: the paper asks only that tanh not saturate. z has unit variance, so
``c = 1 / Φ⁻¹(1 − (1 − q)/2)`` with ``q = 0.99`` (c ≈ 0.388) maps the central 99 % of subjects
(|z| < 2.58) into |α| < tanh(1)·α_max ≈ 0.76·α_max, where tanh's slope is still at least 42 % of its
slope at 0: the angle stays a near-linear, invertible function of z for all but the 1 % most
extreme subjects, and the most extreme of 100,000 (|z| ≈ 4.4) still sits at 0.94·α_max.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from alignome.errors import ConfigError
from alignome.imaging.glyph_set import GlyphSet
from alignome.simulate.genotypes import GenotypeData, write_plink as write_genotypes
from alignome.simulate.heritable_trait import heritable_trait
from alignome.simulate.image_warp import rotate_images

N_CHROMOSOMES = 22
VARIANT_SPACING_BP = 1_000_000


def tanh_scale(quantile: float = 0.99) -> float:
    """``c`` of ``α = α_max · tanh(c·z)``: the central ``quantile`` of a unit-variance z maps to |c·z| < 1."""
    return float(1.0 / stats.norm.ppf(0.5 + quantile / 2.0))


@dataclass(frozen=True)
class RotationCohort:
    """A simulated rotation cohort with its whole truth.

    Attributes
    ----------
    subject_ids
        ``(n,)`` str, FID = IID in the PLINK files.
    genotypes
        ``(n, m)`` int8 allele counts of A1, ``m = S + n_null``, variants in chromosome/position order.
    variant_ids, chromosome, bp_position
        Per-variant annotation (22 chromosomes, variants 1 Mb apart, round robin).
    frequency
        ``f_j`` each variant was drawn with.
    beta
        Causal effect per allele (0 for null variants).
    causal
        Boolean mask of the ``S`` causal variants.
    z, z_genetic
        The latent trait (eq. 4) and its genetic part ``std(Gβ)``.
    alpha_deg
        Rotation of each image, degrees, counter-clockwise as displayed.
    images
        ``(n, H, W)`` float32 in [0, 1], each glyph turned by its ``alpha_deg``.
    labels
        The glyphs' classes (index into ``classes``).
    classes
        The glyph set's characters.
    h_g, alpha_max_deg, c
        The dials the cohort was drawn with and the tanh scale.
    """

    subject_ids: np.ndarray
    genotypes: np.ndarray
    variant_ids: np.ndarray
    chromosome: np.ndarray
    bp_position: np.ndarray
    frequency: np.ndarray
    beta: np.ndarray
    causal: np.ndarray
    z: np.ndarray
    z_genetic: np.ndarray
    alpha_deg: np.ndarray
    images: np.ndarray
    labels: np.ndarray
    classes: list[str]
    h_g: float
    alpha_max_deg: float
    c: float

    @property
    def n(self) -> int:
        """Number of subjects."""
        return int(self.genotypes.shape[0])

    @property
    def panel(self) -> np.ndarray:
        """``(n, S)`` allele counts of the causal variants (the genotype input of the simulation study)."""
        return self.genotypes[:, self.causal]

    def truth_frame(self):
        """One row per variant: ``variant, chrom, pos, frequency, beta, causal`` (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame({"variant": self.variant_ids, "chrom": self.chromosome, "pos": self.bp_position,
                             "frequency": self.frequency, "beta": self.beta, "causal": self.causal})


def _check_dials(n_variants: int, n_null_variants: int, h_g: float, alpha_max_deg: float,
                 maf_range: tuple[float, float]) -> None:
    if n_variants < 1 or n_null_variants < 0:
        raise ConfigError(f"need at least one causal variant and no negative count of null variants, got "
                          f"{n_variants} and {n_null_variants}", field="n_variants",
                          fix="set n_variants >= 1 and n_null_variants >= 0")
    if not 0.0 <= h_g <= 1.0:
        raise ConfigError(f"h_g = {h_g} is not a share of variance", field="h_g", fix="set h_g in [0, 1]")
    if not 0.0 <= alpha_max_deg <= 180.0:
        raise ConfigError(f"alpha_max = {alpha_max_deg}° is outside [0, 180]", field="alpha_max_deg",
                          fix="set the largest rotation between 0 (no signal: a negative control) and 180 degrees")
    low, high = maf_range
    if not 0.0 < low <= high <= 0.5:
        raise ConfigError(f"maf_range {maf_range} is not within (0, 0.5]", field="maf_range",
                          fix="give (low, high) with 0 < low <= high <= 0.5")


def simulate_rotation_cohort(
    glyphs: GlyphSet,
    n_variants: int,
    h_g: float,
    alpha_max_deg: float,
    seed: int,
    maf_range: tuple[float, float] = (0.05, 0.5),
    n_null_variants: int = 1000,
    tanh_quantile: float = 0.99,
) -> RotationCohort:
    """Pair each glyph with simulated genotypes and turn it by its heritable angle.

    Parameters
    ----------
    glyphs
        One image per subject (:func:`alignome.simulate.glyphs.render_glyphs`, or EMNIST subsampled by
        :func:`alignome.imaging.glyph_set.stratified_subsample`); the subjects are its rows, in order.
    n_variants
        ``S``, the number of causal variants.
    h_g
        Share of var(z) explained by the genotypes (0 gives a trait with no genetic signal).
    alpha_max_deg
        Largest rotation in degrees (0 gives images with no signal).
    seed
        Seed of the frequencies, genotypes, causal positions, effects and noise.
    maf_range
        Range of the allele frequencies, drawn uniformly.
    n_null_variants
        Variants with no effect (for the calibration of the embedding GWAS).
    tanh_quantile
        Share of subjects kept where tanh is near-linear (see the module docstring).

    Returns
    -------
    RotationCohort
    """
    _check_dials(n_variants, n_null_variants, h_g, alpha_max_deg, maf_range)
    n, m = len(glyphs), n_variants + n_null_variants
    genetics_seed, effect_seed, noise_seed = np.random.SeedSequence(seed).spawn(3)
    rng = np.random.default_rng(genetics_seed)
    frequency = rng.uniform(*maf_range, size=m)
    genotypes = rng.binomial(2, frequency[None, :], size=(n, m)).astype(np.int8)
    rng = np.random.default_rng(effect_seed)
    causal = np.zeros(m, dtype=bool)
    causal[rng.choice(m, size=n_variants, replace=False)] = True
    beta = np.zeros(m)
    beta[causal] = rng.normal(size=n_variants)
    z, z_genetic = heritable_trait(genotypes[:, causal].astype(np.float64) @ beta[causal], h_g,
                                   np.random.default_rng(noise_seed))
    c = tanh_scale(tanh_quantile)
    alpha = alpha_max_deg * np.tanh(c * z)
    images = rotate_images(glyphs.images.astype(np.float32) / 255.0, alpha)
    index = np.arange(m)
    chromosome = index % N_CHROMOSOMES + 1
    bp_position = (index // N_CHROMOSOMES + 1) * VARIANT_SPACING_BP
    order = np.lexsort((bp_position, chromosome))  # PLINK order: chromosome, then position
    return RotationCohort(
        subject_ids=np.array([f"s{i:06d}" for i in range(n)]),
        genotypes=np.ascontiguousarray(genotypes[:, order]),
        variant_ids=np.array([f"{chromosome[j]}:{bp_position[j]}" for j in order]),
        chromosome=chromosome[order], bp_position=bp_position[order], frequency=frequency[order],
        beta=beta[order], causal=causal[order], z=z, z_genetic=z_genetic, alpha_deg=alpha, images=images,
        labels=glyphs.labels.copy(), classes=list(glyphs.classes), h_g=float(h_g),
        alpha_max_deg=float(alpha_max_deg), c=c,
    )


def write_plink(cohort: RotationCohort, prefix: str | Path, rows: np.ndarray | None = None) -> Path:
    """Write the cohort's genotypes (all subjects, or ``rows``) as ``prefix.bed/.bim/.fam``.

    A1 is the counted allele ("A", the other "G"); sex is unknown (0); FID = IID = ``subject_ids``.
    Returns the prefix.
    """
    rows = np.arange(cohort.n) if rows is None else np.asarray(rows)
    m = cohort.genotypes.shape[1]
    geno = GenotypeData(dosage=np.ascontiguousarray(cohort.genotypes[rows]), chromosome=cohort.chromosome,
                        bp_position=cohort.bp_position, variant_id=cohort.variant_ids,
                        allele_1=np.full(m, "A"), allele_2=np.full(m, "G"))
    prefix = Path(prefix)
    write_genotypes(prefix, geno, [str(s) for s in cohort.subject_ids[rows]], np.zeros(rows.size, dtype=np.int32))
    return prefix
