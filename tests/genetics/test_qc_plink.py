"""QC equals PLINK 1.9: --missing, --freq, --hardy, and the kept lists of --mind/--geno/--hwe/--maf."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers.plink_tools import require_plink19, run_plink
from tests.helpers.qc_reference import assert_removals_match, close_to_print, filter_args, read_report

from alignome.errors import ConfigError
from alignome.genetics.hwe import hwe_exact
from alignome.genetics.qc import run_qc
from alignome.genetics.qc_reports import write_qc
from alignome.genetics.qc_samples import read_fam
from alignome.genetics.qc_stats import variant_stats

# Every test runs with the C kernels of alignome.genetics._bedscore and again with the NumPy paths.
pytestmark = pytest.mark.usefixtures("bed_backend")


def make_qc_dataset(directory: Path, seed: int = 11) -> Path:
    """msprime genotypes (300 × ~800 SNPs incl. rare ones) with varied missingness,
    HWE departures, case/control phenotypes and a few non-founders."""
    from alignome.simulate.genotypes import simulate_genotypes, write_plink

    geno = simulate_genotypes(300, seed, n_snps=800, segments=((1, 1_000_000), (2, 5_000_000)),
                              segment_length_bp=1_000_000, min_maf=0.002)
    rng = np.random.default_rng(seed)
    dosage = geno.dosage.astype(np.float64)
    n, m = dosage.shape
    # HWE departures of graded strength: excess heterozygotes / homozygotes.
    for j in rng.choice(m, 60, replace=False):
        k = rng.integers(5, 80)
        rows = rng.choice(n, k, replace=False)
        dosage[rows, j] = 1.0 if rng.random() < 0.5 else rng.choice([0.0, 2.0])
    # Variant missingness from 0 to ~25 %, sample missingness high for a few.
    var_rate = rng.choice([0.0, 0.01, 0.03, 0.08, 0.12, 0.25], size=m, p=[0.3, 0.3, 0.15, 0.1, 0.1, 0.05])
    samp_rate = np.where(rng.random(n) < 0.05, rng.uniform(0.05, 0.3, n), 0.0)
    mask = rng.random((n, m)) < np.clip(var_rate[None, :] + samp_rate[:, None], 0, 1)
    dosage[mask] = np.nan
    # Exact --geno boundary: variant 0 has exactly 30 missing of 300 (10 %), variant 1 has 31.
    for j, k in ((0, 30), (1, 31)):
        dosage[:, j] = np.where(np.isnan(dosage[:, j]), 1.0, dosage[:, j])
        dosage[:k, j] = np.nan
    prefix = directory / "qc"
    ids = [f"s{i}" for i in range(n)]
    write_plink(prefix, replace(geno, dosage=dosage), ids, np.ones(n, dtype=int))
    fam = pd.read_csv(f"{prefix}.fam", sep=r"\s+", header=None, dtype=str)
    fam[5] = np.where(rng.random(n) < 0.4, "2", "1")
    fam.loc[1:7, 0] = "fam1"
    fam.loc[5, 2], fam.loc[5, 3] = "s1", "s2"  # two non-founders
    fam.loc[6, 2], fam.loc[6, 3] = "s3", "nobody"
    fam.loc[7, 2] = "absent"  # parent not in the file: PLINK 1.9 still calls it a non-founder
    fam.to_csv(f"{prefix}.fam", sep=" ", header=False, index=False)
    return prefix


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_qc_dataset(tmp_path_factory.mktemp("qc"))


def test_founders_and_controls(data):
    fam = read_fam(data)
    assert not fam.founder[5:8].any() and fam.founder.sum() == 297
    assert fam.case_control and fam.control.sum() < len(fam.control)


def test_missing_freq_hardy_equal_plink19(data, tmp_path):
    exe = require_plink19()
    run_plink(exe, ["--bfile", str(data), "--missing", "--freq", "--hardy", "--out", "p"], tmp_path)
    ours = variant_stats(data)
    frq, lmiss, hwe = read_report(tmp_path / "p.frq"), read_report(tmp_path / "p.lmiss"), read_report(tmp_path / "p.hwe")
    assert list(frq["SNP"]) == list(ours["variant"])
    np.testing.assert_array_equal(lmiss["N_MISS"], ours["n_miss"])
    np.testing.assert_array_equal(lmiss["N_GENO"], ours["n_geno"])
    close_to_print(ours["f_miss"], lmiss["F_MISS"])
    np.testing.assert_array_equal(frq["NCHROBS"], ours["nchrobs"])
    close_to_print(ours["maf"], frq["MAF"])
    informative = ours["maf"] < 0.5
    assert (frq["A1"][informative] == ours["a1"][informative]).all()
    everyone = hwe[hwe["TEST"] == "ALL"].reset_index(drop=True)
    assert list(everyone["GENO"]) == [f"{a}/{b}/{c}" for a, b, c in zip(ours["hom1"], ours["het"], ours["hom2"])]
    close_to_print(ours["p_hwe"], everyone["P"].astype(float))
    unaff = hwe[hwe["TEST"] == "UNAFF"].reset_index(drop=True)
    close_to_print(ours["p_hwe_filter"], unaff["P"].astype(float))
    assert (ours["p_hwe"] < 1e-3).sum() > 10  # the data do test the tail
    imiss = read_report(tmp_path / "p.imiss")
    result = run_qc(data)
    np.testing.assert_array_equal(imiss["N_MISS"], result.stats.samples["n_miss"])


def test_hardy_midp_equal_plink19(data, tmp_path):
    exe = require_plink19()
    run_plink(exe, ["--bfile", str(data), "--hardy", "midp", "--out", "p"], tmp_path)
    hwe = read_report(tmp_path / "p.hwe")
    ours = variant_stats(data, midp=True)
    close_to_print(ours["p_hwe"], hwe[hwe["TEST"] == "ALL"]["P"].astype(float))


FILTERS = [
    {"geno": 0.1},
    {"mind": 0.1},
    {"maf": 0.01},
    {"hwe": 1e-6},
    {"hwe": 1e-3},
    {"geno": 0.05, "mind": 0.1, "maf": 0.02, "hwe": 1e-4},
    {"geno": 0.1, "mind": 0.05, "maf": 0.01, "hwe": 1e-6},
    {"geno": 0.2, "maf": 0.05, "hwe": 1e-2, "midp": True},
]


@pytest.mark.parametrize("params", FILTERS, ids=lambda p: "-".join(f"{k}{v}" for k, v in p.items()))
def test_filters_keep_what_plink19_keeps(data, tmp_path, params):
    exe = require_plink19()
    args, params, midp = filter_args(data, params)
    proc = run_plink(exe, args + ["--write-snplist", "--make-just-fam", "--out", "p"], tmp_path)
    result = run_qc(data, hwe_midp=midp, **params)
    expected_snps = (tmp_path / "p.snplist").read_text().split()
    assert result.kept_variants == expected_snps
    fam = pd.read_csv(tmp_path / "p.fam", sep=r"\s+", header=None, dtype=str)
    assert list(result.kept_samples["iid"]) == list(fam[1])
    removed = assert_removals_match(result, params, tmp_path, proc.stdout)
    assert len(result.removed_variants) + len(result.kept_variants) == len(result.stats.variants)
    paths = write_qc(result, tmp_path / "ours")
    assert paths["snplist"].read_text().split() == expected_snps
    assert paths["irem"].read_text().split() == removed


def test_geno_boundary_is_inclusive(data):
    result = run_qc(data, geno=0.1)
    ids = list(result.stats.variants["variant"][:2])
    assert ids[0] in result.kept_variants and ids[1] not in result.kept_variants
    row = result.removed_variants.set_index("variant").loc[ids[1]]
    assert row["reason"] == "geno" and row["value"] == pytest.approx(31 / 300)


def test_hwe_exact_known_values():
    # Wigginton et al. style check against direct enumeration.
    from math import factorial

    def direct(het, h1, h2, midp=False):
        n = het + h1 + h2
        rare = 2 * min(h1, h2) + het
        probs = {}
        for h in range(rare % 2, rare + 1, 2):
            r, c = (rare - h) // 2, n - h - (rare - h) // 2
            probs[h] = 2**h * factorial(n) / (factorial(h) * factorial(r) * factorial(c))
        total = sum(probs.values())
        obs = probs[het]
        tail = sum(p for p in probs.values() if p <= obs * (1 + 1e-12))
        ties = sum(p for p in probs.values() if abs(p - obs) <= obs * 1e-12)
        return (tail - 0.5 * ties) / total if midp else tail / total

    cases = [(57, 14, 29), (0, 50, 50), (100, 0, 0), (10, 5, 5), (3, 0, 97), (1, 0, 0), (21, 40, 39)]
    for midp in (False, True):
        got = hwe_exact(*map(np.array, zip(*cases)), midp=midp)
        np.testing.assert_allclose(got, [direct(*c, midp=midp) for c in cases], rtol=1e-9)
    assert hwe_exact([0], [0], [0])[0] == 1.0


def test_bad_threshold(data):
    with pytest.raises(ConfigError, match="--geno"):
        run_qc(data, geno=1.5)
