"""Single-trait GWAS against plink2 --glm (linear) on an msprime-simulated PLINK set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.helpers.plink_tools import require_plink2, run_plink

from alignome.gwas.run import SINGLE_COLUMNS, run_gwas
from alignome.simulate.genotypes import simulate_genotypes

N, M = 300, 200


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """PLINK set with ~1% missing genotypes, two traits (one NA), two covariates, extra .fam samples."""
    from bed_reader import to_bed

    tmp = tmp_path_factory.mktemp("plinkref")
    geno = simulate_genotypes(N, 7, n_snps=M, segments=((1, 1_000_000), (2, 1_000_000)), segment_length_bp=1_000_000)
    rng = np.random.default_rng(3)
    dosage = geno.dosage.astype(np.float32)
    dosage[rng.random(dosage.shape) < 0.01] = np.nan
    iids = [f"s{i:03d}" for i in range(N)]
    to_bed(tmp / "g.bed", dosage, count_A1=True, num_threads=1, properties={
        "fid": iids, "iid": iids, "sex": np.ones(N, dtype=np.int32),
        "chromosome": [str(c) for c in geno.chromosome], "sid": list(geno.variant_id),
        "bp_position": geno.bp_position, "allele_1": list(geno.allele_1), "allele_2": list(geno.allele_2)})
    covar = pd.DataFrame({"FID": iids, "IID": iids, "AGE": rng.normal(70, 8, N), "PC1": rng.normal(size=N)})
    g0 = np.nan_to_num(geno.dosage[:, 10].astype(float))
    pheno = pd.DataFrame({"FID": iids, "IID": iids,
                          "T1": 0.02 * covar["AGE"] + 0.4 * g0 + rng.normal(size=N),
                          "T2": rng.normal(size=N) + 0.3 * covar["PC1"]})
    pheno.loc[5, "T2"] = np.nan  # per-trait sample sets differ
    pheno = pheno.iloc[:-4]  # 4 .fam samples without phenotypes
    pheno.to_csv(tmp / "p.txt", sep="\t", index=False, na_rep="NA")
    covar.to_csv(tmp / "c.txt", sep="\t", index=False)
    return tmp, pheno, covar


def _read_plink(path):
    return pd.read_csv(path, sep="\t", na_values=["NA"])


def test_single_trait_matches_plink2(cohort):
    exe = require_plink2()
    tmp, pheno, covar = cohort
    run_plink(exe, ["--bfile", "g", "--pheno", "p.txt", "--covar", "c.txt", "--glm", "hide-covar", "omit-ref",
                    "--out", "ref"], cwd=tmp)
    ours = run_gwas(tmp / "g", pheno, covar, mode="single", block_size=64, out=tmp / "ours")
    assert list(ours.columns) == ["PHENO", *SINGLE_COLUMNS]
    assert ours.attrs["samples"].used == N - 4
    for trait in ("T1", "T2"):
        ref = _read_plink(tmp / f"ref.{trait}.glm.linear")
        mine = ours[ours["PHENO"] == trait].reset_index(drop=True)
        assert list(ref["ID"]) == list(mine["ID"])
        # 'omit-ref' makes plink2's A1 the ALT allele (.bim column 5), the allele bed-reader counts.
        assert (ref["A1"] == mine["A1"]).all() and (ref["ALT"] == mine["ALT"]).all()
        assert (ref["OBS_CT"] == mine["OBS_CT"]).all()
        assert mine["OBS_CT"].nunique() > 1  # missing genotypes were dropped per variant
        # plink2 prints 6 significant digits: relative error ≤ 5e-6 from rounding alone.
        for col in ("BETA", "SE", "T_STAT", "P"):
            np.testing.assert_allclose(mine[col], ref[col], rtol=6e-6, atol=0, err_msg=f"{trait} {col}")
    written = _read_plink(tmp / "ours.T1.glm.linear")
    assert list(written.columns) == SINGLE_COLUMNS and len(written) == M
    # the TSV is written as plink2 writes it: the same text, except in the last digit of a few P (plink2's own
    # p-values differ from exact ones by up to a unit in their 6th digit; T_STAT agrees everywhere)
    for trait in ("T1", "T2"):
        mine = pd.read_csv(tmp / f"ours.{trait}.glm.linear", sep="\t", dtype=str, keep_default_na=False)
        ref = pd.read_csv(tmp / f"ref.{trait}.glm.linear", sep="\t", dtype=str, keep_default_na=False)
        for col in ("#CHROM", "POS", "ID", "REF", "ALT", "A1", "OBS_CT", "BETA", "SE", "T_STAT", "P"):
            same = mine[col] == ref[col]
            assert same.mean() > 0.95, f"{trait} {col}: {(~same).sum()} of {len(same)} differ"
            if col in ("BETA", "SE", "T_STAT", "P"):  # where not: one unit in the 6th significant digit
                a, b = mine[col][~same].astype(float).to_numpy(), ref[col][~same].astype(float).to_numpy()
                np.testing.assert_allclose(a, b, rtol=1.1e-5, err_msg=f"{trait} {col}")


def test_missing_plink_skips_or_fails(monkeypatch):
    from tests.helpers import plink_tools

    monkeypatch.setattr(plink_tools, "find_plink", lambda name: None)
    monkeypatch.delenv(plink_tools.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="plink2 not found"):
        plink_tools.require_plink2()
    monkeypatch.setenv(plink_tools.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="ALIGNOME_REQUIRE_PLINK=1"):
        plink_tools.require_plink2()


@pytest.mark.parametrize("sexes", ["both", "females and unknown"])
def test_sex_chromosomes_are_treated_as_plink2_does(tmp_path, sexes):
    """chrX: sex covariate and known-sex samples when both sexes are present; chrY: males only; Y/MT haploid."""
    from bed_reader import to_bed

    exe = require_plink2()
    rng = np.random.default_rng(11)
    n, chroms = 300, ["1", "1", "X", "X", "X", "Y", "Y", "XY", "MT", "MT"]
    sex = rng.integers(1, 3, n) if sexes == "both" else np.full(n, 2)
    sex[:12] = 0  # unknown sex
    g = rng.binomial(2, 0.3, size=(n, len(chroms))).astype(np.float32)
    for j, c in enumerate(chroms):
        if c == "X":  # males hemizygous, stored 0/2
            g[sex == 1, j] = 2 * rng.binomial(1, 0.3, (sex == 1).sum())
        if c in ("Y", "MT"):  # haploid, stored 0/2, a few heterozygous calls (plink2 counts them ½)
            g[:, j] = 2 * rng.binomial(1, 0.3, n)
            g[rng.choice(n, 4, replace=False), j] = 1
    g[sex == 2, 5] = np.nan  # females have no chrY call at one variant, a call (noise) at the other
    g[rng.random(g.shape) < 0.01] = np.nan
    iids = [f"s{i}" for i in range(n)]
    to_bed(tmp_path / "x.bed", g, count_A1=True, num_threads=1, properties={
        "fid": iids, "iid": iids, "sex": sex, "chromosome": chroms, "sid": [f"v{j}" for j in range(len(chroms))],
        "bp_position": [100 * (j + 1) for j in range(len(chroms))], "allele_1": ["A"] * len(chroms),
        "allele_2": ["G"] * len(chroms)})
    male = (sex == 1).astype(float)
    pheno = pd.DataFrame({"FID": iids, "IID": iids, "T": rng.normal(size=n) + 0.5 * male + 0.3 * np.nan_to_num(g[:, 2])})
    covar = pd.DataFrame({"FID": iids, "IID": iids, "AGE": rng.normal(size=n)})
    pheno.to_csv(tmp_path / "p.txt", sep="\t", index=False)
    covar.to_csv(tmp_path / "c.txt", sep="\t", index=False)
    run_plink(exe, ["--bfile", "x", "--pheno", "p.txt", "--covar", "c.txt", "--glm", "hide-covar", "omit-ref",
                    "--out", "ref"], cwd=tmp_path)
    ref = _read_plink(tmp_path / "ref.T.glm.linear").set_index("ID")
    ours = run_gwas(tmp_path / "x", pheno, covar, mode="single").set_index("ID")
    assert set(ref.index) <= set(ours.index)
    untested = ours.index.difference(ref.index)  # plink2 leaves out variants it cannot test (chrY without males)
    assert list(untested) == ([] if sexes == "both" else ["v5", "v6"])
    assert (ours.loc[untested, "OBS_CT"] == 0).all() and ours.loc[untested, "P"].isna().all()
    mine = ours.loc[ref.index]
    np.testing.assert_array_equal(mine["OBS_CT"], ref["OBS_CT"])
    for col in ("BETA", "SE", "T_STAT", "P"):
        np.testing.assert_allclose(mine[col], ref[col], rtol=6e-6, atol=0, err_msg=col)
    if sexes == "both":  # the rules made a difference: X without unknown-sex samples, Y males only
        assert ref.loc["v2", "OBS_CT"] < ref.loc["v0", "OBS_CT"] and ref.loc["v6", "OBS_CT"] <= (sex == 1).sum()
