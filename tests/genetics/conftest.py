"""Fixtures shared by the clumping and scoring tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def family_data(tmp_path_factory):
    """msprime genotypes of 501 samples (odd byte padding), 40 of them children of another sample."""
    from scipy import stats

    from alignome.simulate.genotypes import simulate_genotypes

    directory = tmp_path_factory.mktemp("family")
    geno = simulate_genotypes(501, 17, n_snps=1200, segments=((3, 1_000_000), (5, 2_000_000)),
                              segment_length_bp=2_000_000)
    rng = np.random.default_rng(17)
    dosage = geno.dosage.astype(np.float64)
    dosage[rng.random(dosage.shape) < 0.02] = np.nan
    n, m = dosage.shape
    fathers = ["0"] * n
    for child in rng.choice(np.arange(100, n), 40, replace=False):
        fathers[child] = f"s{int(rng.integers(0, 100))}"
    prefix = directory / "fam"
    from bed_reader import to_bed

    to_bed(Path(f"{prefix}.bed"), dosage.astype(np.float32), properties={
        "fid": ["f"] * n, "iid": [f"s{i}" for i in range(n)], "father": fathers, "mother": ["0"] * n,
        "sex": np.ones(n, dtype=np.int32), "pheno": ["-9"] * n, "chromosome": [str(c) for c in geno.chromosome],
        "sid": list(geno.variant_id), "bp_position": geno.bp_position,
        "allele_1": list(geno.allele_1), "allele_2": list(geno.allele_2)}, count_A1=True, num_threads=1)
    filled = np.where(np.isnan(dosage), np.nanmean(dosage, axis=0), dosage)
    causal = rng.choice(m, 8, replace=False)
    y = (filled[:, causal] - filled[:, causal].mean(0)) @ rng.normal(0, 0.6, 8) + rng.normal(size=n)
    p = np.array([stats.pearsonr(filled[:, j], y)[1] for j in range(m)])
    sumstats = directory / "gwas.assoc"
    pd.DataFrame({"SNP": geno.variant_id, "P": p}).to_csv(sumstats, sep=" ", index=False)
    weights = directory / "w.txt"
    use_a2 = rng.random(m) < 0.5
    pd.DataFrame({"SNP": geno.variant_id, "A": np.where(use_a2, geno.allele_2, geno.allele_1),
                  "W": rng.normal(size=m)}).to_csv(weights, sep=" ", index=False, header=False)
    return {"prefix": prefix, "sumstats": sumstats, "weights": weights}
