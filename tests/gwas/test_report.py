"""λGC, plots, clumped loci, recovery of known loci, training-set hygiene, genetic PCs in the scan/CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from alignome.cli import app
from alignome.gwas.loci import independent_loci, recovery
from alignome.gwas.significance import lambda_gc
from alignome.gwas.run import run_gwas
from tests.helpers.gwas_data import N, write_small_fileset



@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gwasreport")
    geno, iids = write_small_fileset(tmp)
    rng = np.random.default_rng(3)
    causal = [30, 150]  # chromosome 1 and 3
    g = geno.dosage.astype(float)
    y = rng.normal(size=(N, 3))
    y[:, 0] += 0.6 * (g[:, causal[0]] - g[:, causal[0]].mean())
    y[:, 1] += 0.6 * (g[:, causal[1]] - g[:, causal[1]].mean())
    pheno = pd.DataFrame(y, columns=["A", "B", "C"], index=pd.Index(iids, name="IID"))
    return tmp, geno, iids, pheno, causal


def test_lambda_gc_formula():
    p = np.array([0.2, 0.5, 0.9, np.nan])
    assert lambda_gc(p) == pytest.approx(1.0)
    p = np.array([0.01, 0.1, 0.3])
    assert lambda_gc(p) == pytest.approx(stats.chi2.isf(0.1, 1) / stats.chi2.ppf(0.5, 1))
    assert lambda_gc(np.random.default_rng(0).uniform(size=200_000)) == pytest.approx(1.0, abs=0.02)


def test_loci_and_recovery(data):
    tmp, geno, iids, pheno, causal = data
    res = run_gwas(tmp / "g", pheno)
    loci = independent_loci(tmp / "g", res)
    assert len(loci) >= 2 and (loci["P"] < 5e-8).all()
    ids = list(geno.variant_id)
    # each causal variant is the lead (or inside) of a locus on its chromosome
    for c in causal:
        chrom, pos = str(geno.chromosome[c]), int(geno.bp_position[c])
        here = loci[loci["#CHROM"].astype(str) == chrom]
        assert len(here) >= 1 and ((here["START"] <= pos) & (here["END"] >= pos)).any()
    # no two index variants closer than the window within one chromosome and in LD above r²: clump count ≤ hits
    assert len(loci) <= int((res["P"] < 5e-8).sum())
    none = independent_loci(tmp / "g", res, p1=1e-300)  # no locus: still numeric columns (tables of traits concat)
    assert none.empty and pd.concat([none, loci])["P"].dtype == np.float64
    known = pd.DataFrame({"ID": [ids[causal[0]], ids[causal[1]], "far"],
                          "#CHROM": [str(geno.chromosome[causal[0]]), str(geno.chromosome[causal[1]]), "4"],
                          "POS": [int(geno.bp_position[causal[0]]), int(geno.bp_position[causal[1]]), 10**9]})
    rec, table = recovery(res, known, window_kb=250)
    assert rec.n_known == 3 and rec.n_tested == 2 and rec.bonferroni_threshold == pytest.approx(0.025)
    assert rec.recovered_genome_wide == 2 and rec.fraction_genome_wide == pytest.approx(2 / 3)
    assert rec.recovered_bonferroni == 2
    # a locus with only a weak hit is Bonferroni- but not genome-wide-recovered
    weak = res[(res["P"] > 1e-4) & (res["P"] < 0.01)].iloc[0]
    k2 = pd.DataFrame({"ID": ["w"], "#CHROM": [str(weak["#CHROM"])], "POS": [int(weak["POS"])]})
    r2, t2 = recovery(res, k2, window_kb=0)
    assert t2["N_TESTED"].iloc[0] >= 1 and r2.recovered_genome_wide == 0 and r2.recovered_bonferroni == 1


def test_trained_overlap(data):
    tmp, geno, iids, pheno, _ = data
    with pytest.warns(UserWarning, match="25 GWAS sample"):
        res = run_gwas(tmp / "g", pheno, trained_on=iids[:25] + ["nobody"])
    assert res.attrs["trained"].overlap == 25 and res.attrs["trained"].trained == 26
    res2 = run_gwas(tmp / "g", pheno, trained_on=iids[:25], exclude_trained=True)
    assert res2.attrs["trained"].excluded == 25 and (res2["OBS_CT"] == N - 25).all()


def test_genetic_pcs_enter_as_covariates(data):
    tmp, geno, iids, pheno, _ = data
    res = run_gwas(tmp / "g", pheno, genetic_pcs=3, out=tmp / "pc")
    pcs = res.attrs["genetic_pcs"].scores
    manual = run_gwas(tmp / "g", pheno, pcs)
    np.testing.assert_allclose(res["LRT"], manual["LRT"], rtol=1e-9)
    assert not np.allclose(res["LRT"], run_gwas(tmp / "g", pheno)["LRT"])
    assert (tmp / "pc.eigenvec").read_text().startswith("#IID\tGPC1")


def test_cli_report(data, tmp_path):
    tmp, geno, iids, pheno, causal = data
    pheno.reset_index().to_csv(tmp_path / "ph.tsv", sep="\t", index=False)
    ids = list(geno.variant_id)
    # known loci as disease "summary statistics" to be clumped: the two causal variants are strong
    ss = pd.DataFrame({"SNP": ids, "P": np.where(np.isin(np.arange(len(ids)), causal), 1e-12, 0.5)})
    ss.to_csv(tmp_path / "disease.tsv", sep="\t", index=False)
    (tmp_path / "train.txt").write_text("\n".join(iids[:10]) + "\n")
    args = ["gwas", "--bfile", str(tmp / "g"), "--pheno", str(tmp_path / "ph.tsv"), "--genetic-pcs", "2",
            "--known-loci", str(tmp_path / "disease.tsv"), "--trained-on", str(tmp_path / "train.txt"),
            "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "10 GWAS sample(s) were in the embedding training set" in result.output
    assert "known loci recovered (multi, ±250 kb): genome-wide 2/2 (100.0%)" in result.output
    for suffix in ("manhattan.png", "qq.png", "loci.tsv", "summary.json", "known_loci.tsv", "eigenvec"):
        assert (tmp_path / f"o.{suffix}").stat().st_size > 0, suffix
    summary = json.loads((tmp_path / "o.summary.json").read_text())
    assert 0.7 < summary["lambda_gc"]["multi"] < 1.4 and summary["n_loci"]["multi"] >= 2
    assert summary["recovery"]["multi"]["fraction_genome_wide"] == 1.0
    page = (tmp_path / "o.report.html").read_text()
    loci = pd.read_csv(tmp_path / "o.loci.tsv", sep="\t")
    assert page.count("data:image/png;base64,") == 2  # Manhattan and QQ, inlined
    assert f"{summary['lambda_gc']['multi']:.3g}" in page and "2/2" in page  # λGC and recovery as in the summary
    assert all(str(v) in page for v in loci["ID"].head(25))  # every listed locus on the page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from the network
    excl = CliRunner().invoke(app, [*args[:-2], "--exclude-trained", "--no-plots", "--out", str(tmp_path / "x")])
    assert excl.exit_code == 0 and "excluded 10 GWAS sample(s)" in excl.output
    assert not (tmp_path / "x.qq.png").exists()
