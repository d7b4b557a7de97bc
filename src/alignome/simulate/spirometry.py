"""The spirometry study of GEMCONT (paper 003, section 3.2): flow–volume images, an asthma-like
disease, and a variant panel chosen from external summary statistics with the project's tools.

One msprime simulation (:func:`alignome.simulate.genotypes.simulate_genotypes`, so LD is real)
gives the cohort and the individuals of the external studies, on segments placed loosely at known
asthma loci (17q21 ORMDL3/GSDMB, IL33, TSLP, HLA-DQ, IL1RL1, IL13) that hold the causal variants,
and on as many segments with none (where any panel variant is a false positive). For everyone:

* airway trait ``a = √h · std(Gβ) + √(1 − h) · std(noise)`` (β ~ N(0, 1) per allele at
  ``n_causal`` variants of the causal segments); higher ``a`` means more obstruction;
* disease liability ``√ρ · a + √(1 − ρ) · noise``; a case when it passes the normal quantile of
  ``1 − prevalence``;
* the forced expiration (:mod:`alignome.simulate.flow_volume`): ``a`` lowers the fast share
  ``w = σ(logit 0.8 − 0.3·a + 0.4·ε)`` and slows ``tau_fast = 0.40·exp(0.08·a + 0.15·ε′)`` s;
  FVC ~ N(4.2, 0.8²) L (clipped to 1.5–6.5), ``tau_slow`` log-normal around 2.5 s and the effort
  rise ``tau_rise`` uniform 0.02–0.05 s vary with no relation to ``a`` (the large, non-genetic
  variation an image-only model tends to learn first).

At the defaults FEV1/FVC averages 0.79 (cases 0.76), correlates −0.68 with the trait and separates
cases from controls with AUC ≈ 0.70, while the trait itself (the image's best possible summary)
reaches AUC ≈ 0.80: a modest biomarker shift, as the paper's Fig. 3c shows, with room for an
image model to do better. The disease liability's share of genetic variance is h · ρ = 0.175.

The external studies (default two, as the paper meta-analyses MVP and FinnGen) are scanned with
:func:`alignome.gwas.run.run_gwas` (linear model of the 0/1 disease), read back with
:func:`alignome.genetics.sumstats_io.read_sumstats_file`, meta-analysed with
:func:`alignome.genetics.meta.meta_analyse`, and the panel is chosen by
:func:`alignome.genetics.panel.select_panel` (p < 1e-5, clumping r² 0.05 in 5 Mb windows with the
cohort's genotypes as the LD reference). The PRS is :func:`alignome.genetics.score.polygenic_score`
(``SCORESUM``) of the panel weighted by the meta-analysis effects. The cohort itself takes no part
in choosing the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

from alignome.errors import ConfigError, DataError
from alignome.simulate.curve_raster import rasterise_curves
from alignome.simulate.flow_volume import ExpirationParameters, expiration_curves
from alignome.simulate.genotypes import GenotypeData, simulate_genotypes, write_plink
from alignome.simulate.heritable_trait import heritable_trait
from alignome.simulate.progress import progress

log = logging.getLogger(__name__)

# (chromosome, first bp): asthma loci (GRCh38, rounded) that carry the causal variants ...
CAUSAL_SEGMENTS: tuple[tuple[int, int], ...] = (
    (17, 39_700_000), (9, 5_800_000), (5, 111_000_000), (6, 32_400_000), (2, 102_200_000), (5, 132_300_000),
)
# ... and segments without any (false-positive control)
NULL_SEGMENTS: tuple[tuple[int, int], ...] = (
    (1, 60_000_000), (3, 80_000_000), (4, 100_000_000), (8, 40_000_000), (11, 90_000_000), (13, 50_000_000),
)


@dataclass(frozen=True)
class SpirometryDials:
    """The dials of the spirometry simulation.

    Attributes
    ----------
    n_subjects
        Cohort size (images and genotypes).
    n_external
        Sizes of the external studies whose meta-analysis picks the panel.
    n_causal
        Causal variants, drawn among the common SNPs of :data:`CAUSAL_SEGMENTS`.
    h_trait
        Share of the airway trait's variance explained by the causal variants.
    trait_to_disease
        ``ρ``, share of the disease liability's variance that is the airway trait.
    prevalence
        Expected share of cases.
    n_snps, segment_length_bp
        SNPs kept after thinning, over all segments; length of each segment.
    image_size
        Side of the flow–volume images (paper: 256).
    panel_p, panel_r2, panel_kb
        Panel rule of paper 003: p threshold, clumping r² and window (kb each side).
    """

    n_subjects: int = 2000
    n_external: tuple[int, ...] = (4000, 4000)
    n_causal: int = 24
    h_trait: float = 0.5
    trait_to_disease: float = 0.35
    prevalence: float = 0.12
    n_snps: int = 3000
    segment_length_bp: int = 1_000_000
    image_size: int = 256
    panel_p: float = 1e-5
    panel_r2: float = 0.05
    panel_kb: float = 5000.0

    def check(self) -> None:
        """Raise :class:`ConfigError` on a dial outside its range."""
        shares = {"h_trait": self.h_trait, "trait_to_disease": self.trait_to_disease}
        for name, value in shares.items():
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} = {value} is not a share of variance", field=name, fix="set it in [0, 1]")
        if not 0.0 < self.prevalence < 1.0:
            raise ConfigError(f"prevalence {self.prevalence} is not in (0, 1)", field="prevalence",
                              fix="e.g. 0.12")
        if self.n_subjects < 10 or not self.n_external or min(self.n_external) < 10 or self.n_causal < 1:
            raise ConfigError("need at least 10 subjects in the cohort and in each external study, and one causal "
                              "variant", field="n_subjects/n_external/n_causal", fix="raise the sizes")


@dataclass(frozen=True)
class SpirometryCohort:
    """A simulated spirometry cohort, its panel and its truth.

    Attributes
    ----------
    subject_ids
        ``(n,)`` str, FID = IID of ``bfile``.
    bfile
        PLINK prefix of the cohort's genotypes (all SNPs).
    images
        ``(n, size, size)`` uint8 flow–volume images (ink 1 = 255 on 0, volume right, flow up).
    panel
        The panel table (:func:`alignome.genetics.panel.select_panel` columns with ``beta``), in
        panel order; also written to ``panel_path``.
    panel_path
        The panel TSV.
    panel_dosage
        ``(n, S)`` int8 counts of each panel variant's ``effect_allele`` (panel order).
    prs
        Panel PRS per subject (Σ beta · dosage, PLINK ``SCORESUM``).
    fev1_fvc, fev1, fvc, pef
        Spirometry read off each curve (fractions, litres, L/s).
    disease
        ``(n,)`` bool, case status.
    trait, trait_genetic
        The airway trait and its standardised genetic part.
    causal
        One row per causal variant: ``variant, chrom, pos, beta, locus`` (locus = its segment).
    loci
        One row per segment: ``locus, chrom, start, end, causal`` (whether it holds causal variants).
    meta
        The external meta-analysis (every SNP): ``variant, beta, se, p, ...``.
    dials
        The dials used.
    """

    subject_ids: np.ndarray
    bfile: Path
    images: np.ndarray
    panel: pd.DataFrame
    panel_path: Path
    panel_dosage: np.ndarray
    prs: np.ndarray
    fev1_fvc: np.ndarray
    fev1: np.ndarray
    fvc: np.ndarray
    pef: np.ndarray
    disease: np.ndarray
    trait: np.ndarray
    trait_genetic: np.ndarray
    causal: pd.DataFrame
    loci: pd.DataFrame
    meta: pd.DataFrame
    dials: SpirometryDials = field(default_factory=SpirometryDials)

    @property
    def n(self) -> int:
        """Number of subjects."""
        return int(self.subject_ids.shape[0])

    def panel_loci(self) -> pd.Series:
        """The locus (segment) of each panel variant."""
        return locus_of(self.panel["chrom"].astype(int).to_numpy(), self.panel["pos"].astype(int).to_numpy(), self.loci)


def locus_of(chrom: np.ndarray, pos: np.ndarray, loci: pd.DataFrame) -> pd.Series:
    """The name of the segment of ``loci`` holding each (chrom, pos), NA outside all of them."""
    names = np.full(chrom.shape[0], None, dtype=object)
    for row in loci.itertuples():
        inside = (chrom == row.chrom) & (pos >= row.start) & (pos <= row.end)
        names[inside] = row.locus
    return pd.Series(names, dtype=object)


def _loci_table(segments: tuple[tuple[int, int], ...], length: int, n_causal_segments: int) -> pd.DataFrame:
    return pd.DataFrame({
        "locus": [f"chr{c}:{s // 1_000_000}Mb" for c, s in segments],
        "chrom": [c for c, _ in segments], "start": [s + 1 for _, s in segments],
        "end": [s + length for _, s in segments], "causal": [i < n_causal_segments for i in range(len(segments))],
    })


def expiration_parameters(trait: np.ndarray, rng: np.random.Generator) -> ExpirationParameters:
    """Curve parameters of each subject: obstruction from the trait, size and effort from elsewhere."""
    n = trait.shape[0]
    return ExpirationParameters(
        fvc_l=np.clip(rng.normal(4.2, 0.8, n), 1.5, 6.5),
        fast_share=special.expit(special.logit(0.8) - 0.3 * trait + 0.4 * rng.normal(size=n)),
        tau_fast_s=0.40 * np.exp(0.08 * trait + 0.15 * rng.normal(size=n)),
        tau_slow_s=2.5 * np.exp(0.2 * rng.normal(size=n)),
        tau_rise_s=rng.uniform(0.02, 0.05, n),
    )


def _subset(geno: GenotypeData, rows: np.ndarray) -> GenotypeData:
    return GenotypeData(dosage=np.ascontiguousarray(geno.dosage[rows]), chromosome=geno.chromosome,
                        bp_position=geno.bp_position, variant_id=geno.variant_id, allele_1=geno.allele_1,
                        allele_2=geno.allele_2)


def _external_sumstats(prefix: Path, geno: GenotypeData, rows: np.ndarray, disease: np.ndarray) -> pd.DataFrame:
    """GWAS of the disease in one external study (``rows`` of ``geno``), written as PLINK files and a PLINK 2
    ``.glm.linear`` and read back as summary statistics."""
    from alignome.genetics.sumstats_io import read_sumstats_file
    from alignome.gwas.run import run_gwas

    ids = [f"{prefix.name}_{i:06d}" for i in range(rows.size)]
    write_plink(prefix, _subset(geno, rows), ids, np.zeros(rows.size, dtype=np.int32))
    pheno = pd.DataFrame({"disease": disease[rows].astype(float)}, index=pd.Index(ids, name="IID"))
    run_gwas(prefix, pheno, mode="single", out=Path(f"{prefix}_gwas"))
    return read_sumstats_file(Path(f"{prefix}_gwas.disease.glm.linear"), fmt="plink2-glm")


def _panel_dosage(geno: GenotypeData, rows: np.ndarray, panel: pd.DataFrame) -> np.ndarray:
    """Counts of each panel variant's effect allele (the ``.bim`` A1, or 2 − A1 when the panel names A2)."""
    column = pd.Index(geno.variant_id).get_indexer(panel["variant"].astype(str))
    counts = geno.dosage[np.ix_(rows, column)].astype(np.int8)
    flip = panel["effect_allele"].astype(str).to_numpy() != geno.allele_1[column]
    return np.where(flip[None, :], 2 - counts, counts).astype(np.int8)


def _external_panel(out_dir: Path, bfile: Path, geno: GenotypeData, groups: list[np.ndarray], disease: np.ndarray,
                    dials: SpirometryDials, advance) -> tuple[pd.DataFrame, Path, pd.DataFrame]:
    """GWAS of each external study, their meta-analysis and the clumped panel: ``(panel, panel file, meta table)``."""
    from alignome.genetics.meta import meta_analyse, write_metal
    from alignome.genetics.panel import select_panel, write_panel

    studies = []
    for k, rows in enumerate(groups, start=1):
        studies.append(_external_sumstats(out_dir / f"external{k}", geno, rows, disease))
        advance(1)
    meta_result = meta_analyse(studies)
    meta_path = write_metal(meta_result, out_dir / "meta")
    panel = select_panel(meta_result.table, bfile=bfile, p1=dials.panel_p, r2=dials.panel_r2, kb=dials.panel_kb,
                         source=str(meta_path)).panel
    if panel.empty:
        raise DataError(f"no external variant reached p < {dials.panel_p}: the panel is empty", file=meta_path,
                        field="p", fix="raise n_external, h_trait or trait_to_disease (larger or stronger studies)")
    return panel, write_panel(panel, out_dir / "panel.tsv"), meta_result.table


def simulate_spirometry_cohort(out_dir: str | Path, seed: int,
                               dials: SpirometryDials | None = None) -> SpirometryCohort:
    """Simulate the cohort, the external studies and the panel; files go to ``out_dir``.

    Writes ``cohort.bed/.bim/.fam``, ``external{k}.*`` with ``external{k}_gwas.*``, ``meta.meta.tbl`` and
    ``panel.tsv``. Same seed and dials, same numbers.
    """
    from alignome.genetics.score import polygenic_score

    dials = dials or SpirometryDials()
    dials.check()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    geno_seed, arch_seed, trait_seed, disease_seed, curve_seed = np.random.SeedSequence(seed).spawn(5)
    segments = CAUSAL_SEGMENTS + NULL_SEGMENTS
    n_total = dials.n_subjects + sum(dials.n_external)
    with progress("simulating spirometry", len(dials.n_external) + 4) as advance:
        geno = simulate_genotypes(n_total, int(geno_seed.generate_state(1)[0]), n_snps=dials.n_snps,
                                  segments=segments, segment_length_bp=dials.segment_length_bp)
        advance(1)
        loci = _loci_table(segments, dials.segment_length_bp, len(CAUSAL_SEGMENTS))
        variant_locus = locus_of(geno.chromosome, geno.bp_position, loci)
        eligible = np.flatnonzero(variant_locus.isin(loci.loc[loci["causal"], "locus"]).to_numpy())
        if eligible.size < dials.n_causal:
            raise ConfigError(f"{dials.n_causal} causal variants asked for but the causal segments hold "
                              f"{eligible.size} SNPs", field="n_causal", fix="lower n_causal or raise n_snps")
        rng = np.random.default_rng(arch_seed)
        causal_index = np.sort(rng.choice(eligible, size=dials.n_causal, replace=False))
        beta = rng.normal(size=dials.n_causal)
        trait, trait_genetic = heritable_trait(geno.dosage[:, causal_index].astype(float) @ beta, dials.h_trait,
                                               np.random.default_rng(trait_seed))
        rng = np.random.default_rng(disease_seed)
        rho = dials.trait_to_disease
        liability = np.sqrt(rho) * trait + np.sqrt(1.0 - rho) * rng.normal(size=n_total)
        disease = liability > stats.norm.ppf(1.0 - dials.prevalence)
        order = rng.permutation(n_total)  # who is in the cohort and who in each external study
        cohort_rows = np.sort(order[:dials.n_subjects])
        bounds = np.cumsum((dials.n_subjects,) + tuple(dials.n_external))
        groups = [np.sort(order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

        subject_ids = np.array([f"sp{i:06d}" for i in range(dials.n_subjects)])
        bfile = out_dir / "cohort"
        write_plink(bfile, _subset(geno, cohort_rows), list(subject_ids), np.zeros(dials.n_subjects, dtype=np.int32))
        panel, panel_path, meta = _external_panel(out_dir, bfile, geno, groups, disease, dials, advance)
        weights = pd.DataFrame({"variant": panel["variant"], "allele": panel["effect_allele"], "weight": panel["beta"]})
        profile, _ = polygenic_score(bfile, weights, sum_=True)
        prs = profile.set_index("IID").loc[subject_ids, "SCORESUM"].to_numpy(dtype=float)
        advance(1)
        curves = expiration_curves(expiration_parameters(trait[cohort_rows], np.random.default_rng(curve_seed)))
        advance(1)
        images = rasterise_curves(curves.volume_l, curves.flow_l_s, size=dials.image_size)
        advance(1)
    causal = pd.DataFrame({"variant": geno.variant_id[causal_index], "chrom": geno.chromosome[causal_index],
                           "pos": geno.bp_position[causal_index], "beta": beta,
                           "locus": variant_locus.to_numpy()[causal_index]})
    log.info("spirometry cohort: %d subjects (%d cases), panel of %d variants from %d external studies",
             dials.n_subjects, int(disease[cohort_rows].sum()), len(panel), len(groups))
    return SpirometryCohort(
        subject_ids=subject_ids, bfile=bfile, images=images, panel=panel, panel_path=panel_path,
        panel_dosage=_panel_dosage(geno, cohort_rows, panel), prs=prs, fev1_fvc=curves.fev1_fvc.astype(float),
        fev1=curves.fev1.astype(float), fvc=curves.fvc.astype(float), pef=curves.pef.astype(float),
        disease=disease[cohort_rows], trait=trait[cohort_rows], trait_genetic=trait_genetic[cohort_rows],
        causal=causal, loci=loci, meta=meta, dials=dials,
    )
