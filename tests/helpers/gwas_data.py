"""The small msprime PLINK fileset shared by the GWAS tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alignome.simulate.genotypes import simulate_genotypes, write_plink

N = 400
SEGMENTS = ((1, 1_000_000), (2, 1_000_000), (3, 1_000_000), (4, 1_000_000))


def write_small_fileset(directory: Path):
    """Write ``directory/g.{bed,bim,fam}``: N samples × 240 SNPs on 4 chromosomes; returns (genotypes, iids)."""
    geno = simulate_genotypes(N, 11, n_snps=240, segments=SEGMENTS, segment_length_bp=1_000_000)
    iids = [f"id{i}" for i in range(N)]
    write_plink(directory / "g", geno, iids, np.ones(N, dtype=int))
    return geno, iids
