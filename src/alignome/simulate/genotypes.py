"""Seeded msprime genotypes for simulated cohorts, written as PLINK 1 binary.

Each "chromosome" is an independent coalescent segment of a human-like
population (constant Ne = 10,000, recombination 1e-8 per bp per generation,
mutation 1.25e-8), so variants within a segment are in realistic linkage
disequilibrium and variants on different segments are unlinked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msprime
import tskit
import numpy as np

# (chromosome, first base pair) of each simulated segment; loosely placed at
# well-known Alzheimer's loci (CR1, BIN1, HLA-DRB1, SORL1, SLC24A4, APOE).
DEFAULT_SEGMENTS: tuple[tuple[int, int], ...] = (
    (1, 207_000_000),
    (2, 126_600_000),
    (6, 32_100_000),
    (11, 121_000_000),
    (14, 92_400_000),
    (19, 44_400_000),
)
APOE_CHROMOSOME = 19
APOE_BP = 44_908_684
APOE_ID = "rs429358"


@dataclass(frozen=True)
class GenotypeData:
    """Diploid genotypes and variant annotation.

    Attributes
    ----------
    dosage
        ``(n_individuals, n_variants)`` int8 counts of ``allele_1`` (0, 1, 2).
    chromosome, bp_position, variant_id, allele_1, allele_2
        Per-variant annotation; ``allele_1`` is the counted (minor) allele.
    """

    dosage: np.ndarray
    chromosome: np.ndarray
    bp_position: np.ndarray
    variant_id: np.ndarray
    allele_1: np.ndarray
    allele_2: np.ndarray

    @property
    def n_variants(self) -> int:
        """Number of variants."""
        return int(self.dosage.shape[1])

    @property
    def frequency(self) -> np.ndarray:
        """Frequency of ``allele_1`` in the cohort."""
        return self.dosage.mean(axis=0) / 2.0


def simulate_segment(
    n_individuals: int,
    length_bp: int,
    seed: int,
    *,
    population_size: float = 10_000,
    recombination_rate: float = 1e-8,
    mutation_rate: float = 1.25e-8,
    min_maf: float = 0.05,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulate one segment and keep common biallelic SNPs.

    Parameters
    ----------
    n_individuals
        Number of diploid individuals.
    length_bp
        Segment length in base pairs.
    seed
        Seed from which msprime's ancestry and mutation seeds are derived.
    population_size, recombination_rate, mutation_rate
        Coalescent parameters (per generation).
    min_maf
        Minimum minor-allele frequency kept.

    Returns
    -------
    dosage, position, minor, major
        ``(n_individuals, m)`` int8 counts of the minor allele, 0-based
        positions within the segment (int64) and the minor/major nucleotides.
    """
    rng = np.random.default_rng(seed)
    anc_seed, mut_seed = (int(s) for s in rng.integers(1, 2**31 - 1, size=2))
    ts = msprime.sim_ancestry(
        samples=n_individuals,
        ploidy=2,
        population_size=population_size,
        sequence_length=length_bp,
        recombination_rate=recombination_rate,
        random_seed=anc_seed,
    )
    ts = msprime.sim_mutations(ts, rate=mutation_rate, random_seed=mut_seed)
    n_muts = np.bincount(ts.tables.mutations.site, minlength=ts.num_sites)
    ts = ts.delete_sites(np.flatnonzero(n_muts != 1))
    haplo = ts.genotype_matrix()  # (sites, 2n), 0 = ancestral, 1 = derived
    # msprime lists the two nodes of each diploid individual consecutively.
    derived = (haplo[:, 0::2] + haplo[:, 1::2]).astype(np.int8).T  # (n, sites)
    freq = derived.mean(axis=0) / 2.0
    keep = (freq >= min_maf) & (freq <= 1.0 - min_maf)
    sites, mutations = ts.tables.sites, ts.tables.mutations
    positions = sites.position.astype(np.int64)
    # allele strings from the tables' packed columns: a Site object per site costs seconds per segment
    ancestral = np.array(tskit.unpack_strings(sites.ancestral_state, sites.ancestral_state_offset), dtype=object)
    derived_state = np.empty(ts.num_sites, dtype=object)
    derived_state[mutations.site] = tskit.unpack_strings(mutations.derived_state, mutations.derived_state_offset)
    derived, freq, positions = derived[:, keep], freq[keep], positions[keep]
    ancestral, derived_state = ancestral[keep], derived_state[keep]
    flip = freq > 0.5  # count the minor allele, as PLINK's A1 usually is
    dosage = np.where(flip[None, :], 2 - derived, derived).astype(np.int8)
    minor = np.where(flip, ancestral, derived_state)
    major = np.where(flip, derived_state, ancestral)
    return dosage, positions, minor.astype(str), major.astype(str)


def simulate_genotypes(
    n_individuals: int,
    seed: int,
    *,
    n_snps: int = 3000,
    segments: tuple[tuple[int, int], ...] = DEFAULT_SEGMENTS,
    segment_length_bp: int = 1_500_000,
    min_maf: float = 0.05,
) -> GenotypeData:
    """Simulate common SNPs on a few unlinked segments and thin them.

    Parameters
    ----------
    n_individuals
        Number of diploid individuals.
    seed
        Master seed; each segment and the thinning get their own child seed.
    n_snps
        Target number of SNPs after thinning (split evenly over segments).
    segments
        ``(chromosome, first_bp)`` of each segment.
    segment_length_bp
        Length of each segment.
    min_maf
        Minimum minor-allele frequency.

    Returns
    -------
    GenotypeData
        Variants sorted by chromosome and position; ids are ``chr:bp`` except
        the APOE-like variant on chromosome 19, named :data:`APOE_ID`, which
        the caller chooses with :func:`pick_apoe_like`.
    """
    seq = np.random.SeedSequence(seed)
    seg_seeds = seq.spawn(len(segments) + 1)
    thin_rng = np.random.default_rng(seg_seeds[-1])
    per_segment = int(np.ceil(n_snps / len(segments)))
    blocks, chroms, bps, a1s, a2s = [], [], [], [], []
    for (chrom, start), ss in zip(segments, seg_seeds[:-1]):
        dosage, pos, minor, major = simulate_segment(
            n_individuals, segment_length_bp, int(ss.generate_state(1)[0]), min_maf=min_maf
        )
        if dosage.shape[1] > per_segment:
            idx = np.sort(thin_rng.choice(dosage.shape[1], size=per_segment, replace=False))
            dosage, pos, minor, major = dosage[:, idx], pos[idx], minor[idx], major[idx]
        blocks.append(dosage)
        chroms.append(np.full(pos.size, chrom, dtype=np.int64))
        bps.append(pos + start + 1)
        a1s.append(minor)
        a2s.append(major)
    chromosome = np.concatenate(chroms)
    bp = np.concatenate(bps)
    ids = np.array([f"{c}:{b}" for c, b in zip(chromosome, bp)], dtype=object).astype(str)
    return GenotypeData(
        dosage=np.ascontiguousarray(np.concatenate(blocks, axis=1)),
        chromosome=chromosome,
        bp_position=bp,
        variant_id=ids,
        allele_1=np.concatenate(a1s),
        allele_2=np.concatenate(a2s),
    )


def pick_apoe_like(geno: GenotypeData, freq_range: tuple[float, float] = (0.15, 0.35)) -> int:
    """Index of the chromosome-19 SNP nearest APOE with frequency in ``freq_range``.

    The chosen variant is renamed :data:`APOE_ID` in place of its ``chr:bp`` id.
    Falls back to any variant with the frequency closest to 0.25 if no
    chromosome-19 SNP qualifies.
    """
    freq = geno.frequency
    ok = (freq >= freq_range[0]) & (freq <= freq_range[1]) & (geno.chromosome == APOE_CHROMOSOME)
    if ok.any():
        cand = np.flatnonzero(ok)
        idx = int(cand[np.argmin(np.abs(geno.bp_position[cand] - APOE_BP))])
    else:
        idx = int(np.argmin(np.abs(freq - 0.25)))
    geno.variant_id[idx] = APOE_ID
    return idx


def write_plink(
    prefix: Path,
    geno: GenotypeData,
    subject_ids: list[str],
    sex: np.ndarray,
) -> None:
    """Write ``prefix.bed/.bim/.fam`` with bed-reader (A1 counted).

    Parameters
    ----------
    prefix
        Output path without extension.
    geno
        Genotypes and variant annotation.
    subject_ids
        Used as both FID and IID.
    sex
        PLINK sex codes (1 = male, 2 = female).
    """
    from bed_reader import to_bed

    prefix = Path(prefix)
    properties = {
        "fid": list(subject_ids),
        "iid": list(subject_ids),
        "father": ["0"] * len(subject_ids),
        "mother": ["0"] * len(subject_ids),
        "sex": np.asarray(sex, dtype=np.int32),
        "pheno": ["-9"] * len(subject_ids),
        "chromosome": [str(c) for c in geno.chromosome],
        "sid": list(geno.variant_id),
        "cm_position": (geno.bp_position * 1e-6).round(6),  # ~1 cM per Mb
        "bp_position": geno.bp_position,
        "allele_1": list(geno.allele_1),
        "allele_2": list(geno.allele_2),
    }
    bed = prefix.parent / (prefix.name + ".bed")
    to_bed(bed, geno.dosage, properties=properties, count_A1=True,
           fam_filepath=prefix.parent / (prefix.name + ".fam"),
           bim_filepath=prefix.parent / (prefix.name + ".bim"), num_threads=1)
