"""Fixed-effect inverse-variance meta-analysis against hand-computed METAL (SCHEME STDERR) values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.errors import DataError
from alignome.genetics.meta import meta_analyse, write_metal
from alignome.genetics.sumstats_io import read_sumstats_file


def study(rows, name):
    frame = pd.DataFrame(rows, columns=["variant", "effect_allele", "other_allele", "beta", "se"])
    frame["chrom"], frame["pos"], frame["p"], frame["n"] = "1", 1.0, 0.5, 100.0
    frame.attrs["file"] = name
    return frame


def test_hand_computed_two_studies_with_swap_and_absent():
    a = study([("rs1", "A", "G", 0.2, 0.1), ("rs2", "C", "T", -0.3, 0.2)], "a")
    b = study([("rs1", "G", "A", -0.1, 0.05)], "b")  # alleles exchanged: +0.1 for A
    c = study([("rs2", "C", "T", -0.1, 0.1), ("rs3", "A", "C", 0.0, 0.1)], "c")
    t = meta_analyse([a, b, c]).table.set_index("variant")
    r = t.loc["rs1"]
    # w = 100, 400: beta = 60/500, se = sqrt(1/500), Q = 100·0.08² + 400·0.02² = 0.8 on 1 df.
    assert r["beta"] == pytest.approx(0.12)
    assert r["se"] == pytest.approx(0.04472135955)
    assert r["z"] == pytest.approx(2.683281573)
    assert r["p"] == pytest.approx(0.0072903, rel=1e-4)
    assert r["direction"] == "++?"
    assert r["q"] == pytest.approx(0.8) and r["het_df"] == 1
    assert r["het_p"] == pytest.approx(0.3710934, rel=1e-6)
    assert r["i2"] == 0.0
    assert (r["effect_allele"], r["other_allele"]) == ("A", "G") and r["n"] == 200
    r2 = t.loc["rs2"]
    # w = 25, 100: beta = (-7.5 - 10)/125 = -0.14; Q = 25·0.16² + 100·0.04² = 0.8
    assert r2["beta"] == pytest.approx(-0.14) and r2["direction"] == "-?-"
    assert r2["q"] == pytest.approx(0.8)
    assert t.loc["rs3", "direction"] == "??0" and t.loc["rs3", "het_p"] == 1.0
    assert list(t.index) == ["rs1", "rs2", "rs3"]


def test_i2_and_mismatch_counted():
    a = study([("rs1", "A", "G", 1.0, 0.1)], "a")
    b = study([("rs1", "A", "G", -1.0, 0.1)], "b")
    c = study([("rs1", "C", "T", 5.0, 0.1)], "c")  # alleles match neither order
    res = meta_analyse([a, b, c])
    r = res.table.iloc[0]
    q = 100 * 1 + 100 * 1
    assert r["q"] == pytest.approx(q) and r["i2"] == pytest.approx((q - 1) / q * 100)
    assert r["direction"] == "+-?" and res.allele_mismatches == [[], [], ["rs1"]]


def test_equals_direct_weighted_mean_random():
    rng = np.random.default_rng(0)
    k, m = 4, 50
    betas, ses = rng.normal(size=(m, k)), rng.uniform(0.05, 0.5, size=(m, k))
    studies = [study([(f"v{i}", "A", "G", betas[i, j], ses[i, j]) for i in range(m)], str(j)) for j in range(k)]
    t = meta_analyse(studies).table
    w = 1 / ses**2
    b = (w * betas).sum(1) / w.sum(1)
    np.testing.assert_allclose(t["beta"], b)
    np.testing.assert_allclose(t["q"], (w * (betas - b[:, None]) ** 2).sum(1))


def test_roundtrip_metal_file(tmp_path):
    a = study([("rs1", "A", "G", 0.2, 0.1)], "a")
    path = write_metal(meta_analyse([a, a]), tmp_path / "out")
    back = read_sumstats_file(path)
    assert back.attrs["format"] == "metal"
    assert back["beta"][0] == pytest.approx(0.2) and back["effect_allele"][0] == "A"
    assert "Direction" in path.read_text().splitlines()[0]


def test_study_without_se():
    a = study([("rs1", "A", "G", 0.2, np.nan)], "a.assoc")
    with pytest.raises(DataError, match="SCHEME STDERR"):
        meta_analyse([a])


def _samplesize_study(rows, name):
    """rows: (variant, effect_allele, other_allele, beta, p, n)."""
    frame = pd.DataFrame(rows, columns=["variant", "effect_allele", "other_allele", "beta", "p", "n"])
    frame["chrom"], frame["pos"], frame["se"] = "1", 1.0, np.nan  # SCHEME SAMPLESIZE needs no SE
    frame.attrs["file"] = name
    return frame


def test_samplesize_scheme_hand_computed():
    from scipy.stats import norm

    a = _samplesize_study([("rs1", "A", "G", 0.2, 0.01, 400.0), ("rs2", "C", "T", -0.1, 0.5, 100.0)], "a")
    b = _samplesize_study([("rs1", "G", "A", 0.3, 0.2, 900.0)], "b")  # swapped: counts against A
    t = meta_analyse([a, b], scheme="samplesize").table.set_index("variant")
    z_a, z_b = norm.isf(0.005), -norm.isf(0.1)
    z = (20 * z_a + 30 * z_b) / np.sqrt(400 + 900)  # weights sqrt(N)
    r = t.loc["rs1"]
    assert r["z"] == pytest.approx(z) and r["p"] == pytest.approx(2 * norm.sf(abs(z)))
    assert r["direction"] == "+-" and r["n"] == 1300 and np.isnan(r["beta"])
    r2 = t.loc["rs2"]  # one study: its own signed Z and p back
    assert r2["z"] == pytest.approx(-norm.isf(0.25)) and r2["p"] == pytest.approx(0.5) and r2["direction"] == "-?"


def test_samplesize_equals_a_slow_loop_and_round_trips(tmp_path):
    from scipy.stats import norm

    rng = np.random.default_rng(1)
    k, m = 3, 40
    beta, p, n = rng.normal(size=(m, k)), rng.uniform(1e-6, 1, size=(m, k)), rng.integers(50, 5000, size=(m, k))
    studies = [_samplesize_study([(f"v{i}", "A", "G", beta[i, j], p[i, j], float(n[i, j])) for i in range(m)], str(j))
               for j in range(k)]
    res = meta_analyse(studies, scheme="samplesize")
    for i in range(m):
        num = sum(np.sqrt(n[i, j]) * np.sign(beta[i, j]) * norm.isf(p[i, j] / 2) for j in range(k))
        z = num / np.sqrt(sum(n[i, j] for j in range(k)))
        assert res.table["z"][i] == pytest.approx(z, rel=1e-12)
    path = write_metal(res, tmp_path / "ss")
    header = path.read_text().splitlines()[0].split("\t")
    assert header[:7] == ["MarkerName", "Allele1", "Allele2", "Weight", "Zscore", "P-value", "Direction"]
    back = read_sumstats_file(path)
    np.testing.assert_allclose(back["p"], res.table["p"], rtol=1e-5)
    np.testing.assert_allclose(back["n"], n.sum(axis=1))


def test_samplesize_without_n_is_a_clear_error():
    a = _samplesize_study([("rs1", "A", "G", 0.2, 0.01, np.nan)], "a.assoc")
    with pytest.raises(DataError, match="SCHEME SAMPLESIZE") as err:
        meta_analyse([a], scheme="samplesize")
    assert err.value.field == "n"


def _gwas_of_two_traits(tmp_path, mode: str, out: str, seed: int):
    """Run `alignome gwas --mode MODE` on two random traits of the small fileset; returns the CLI invoker."""
    from typer.testing import CliRunner

    from alignome.cli import app
    from tests.helpers.gwas_data import N, write_small_fileset

    _, iids = write_small_fileset(tmp_path)
    rng = np.random.default_rng(seed)
    pd.DataFrame({"IID": iids, "A": rng.normal(size=N), "B": rng.normal(size=N)}).to_csv(
        tmp_path / "p.tsv", sep="\t", index=False)
    run = CliRunner().invoke
    result = run(app, ["gwas", "--bfile", str(tmp_path / "g"), "--pheno", str(tmp_path / "p.tsv"), "--mode", mode,
                       "--no-plots", "--no-loci", "--out", str(tmp_path / out)])
    assert result.exit_code == 0, result.output
    return lambda args: run(app, args)


def test_meta_reads_what_gwas_single_mode_writes(tmp_path):
    """Our own outputs chain into our own tools: `gwas --mode single` → `variants meta`, format detected."""
    invoke = _gwas_of_two_traits(tmp_path, "single", "g1", seed=2)
    tables = [str(tmp_path / f"g1.{t}.glm.linear") for t in ("A", "B")]
    assert read_sumstats_file(tables[0]).attrs["format"] == "plink2-glm"
    for fmt, out in (("auto", "auto"), ("plink2-glm", "named")):
        result = invoke(["variants", "meta", "--sumstats", tables[0], "--sumstats", tables[1], "--format", fmt,
                           "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
        assert "meta-analysed 240 variants from 2 files" in result.output
    assert (tmp_path / "auto.meta.tbl").read_bytes() == (tmp_path / "named.meta.tbl").read_bytes()
    studies = [read_sumstats_file(t) for t in tables]
    table = meta_analyse(studies).table
    w = [1 / s["se"].to_numpy() ** 2 for s in studies]  # inverse-variance weighted mean of the two betas
    expected = (w[0] * studies[0]["beta"].to_numpy() + w[1] * studies[1]["beta"].to_numpy()) / (w[0] + w[1])
    np.testing.assert_allclose(table["beta"].to_numpy(), expected, rtol=1e-12)


def test_meta_on_a_multi_trait_table_says_it_has_no_effects_and_what_to_give(tmp_path):
    invoke = _gwas_of_two_traits(tmp_path, "multi", "joint", seed=3)
    table = tmp_path / "joint.multi.tsv"
    result = invoke(["variants", "meta", "--sumstats", str(table), "--sumstats", str(table), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "multi-trait GWAS table" in result.output and "--mode single" in result.output and table.name in result.output
