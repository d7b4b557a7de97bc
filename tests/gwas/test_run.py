"""Streaming scan, CLI, null calibration and power on msprime genotypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from alignome.cli import app
from alignome.errors import DataError
from alignome.gwas.multitrait import multitrait_assoc
from alignome.gwas.run import MULTI_COLUMNS, run_gwas
from alignome.gwas.stream import open_bed_stream
from tests.helpers.gwas_data import N, write_small_fileset



@pytest.fixture(scope="module")
def fileset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gwasrun")
    geno, iids = write_small_fileset(tmp)
    return tmp, geno, iids


def test_stream_blocks_equal_full_read(fileset):
    tmp, geno, iids = fileset
    stream = open_bed_stream(tmp / "g")
    rows = np.array([5, 0, 17, 399])
    blocks = list(stream.blocks(rows, block_size=50))
    assert [b.start for b in blocks] == list(range(0, geno.n_variants, 50))
    assert max(b.genotypes.shape[1] for b in blocks) == 50 and blocks[0].genotypes.dtype == np.float32
    full = np.concatenate([b.genotypes for b in blocks], axis=1)
    np.testing.assert_array_equal(full, geno.dosage[rows].astype(np.float32))
    assert list(stream.variants["alt"]) == list(geno.allele_1)


def test_multi_power_and_outputs(fileset):
    tmp, geno, iids = fileset
    rng = np.random.default_rng(5)
    causal = 100
    g = geno.dosage[:, causal].astype(float)
    age = rng.normal(size=N)
    y = rng.normal(size=(N, 3)) @ np.array([[1, .5, 0], [0, 1, .3], [0, 0, 1]]) + np.outer(g - g.mean(), [.35, -.25, 0])
    y += np.outer(age, [.5, 0, .2])
    pheno = pd.DataFrame(y, columns=["A", "B", "C"], index=pd.Index(iids, name="IID"))
    pheno = pheno.iloc[::-1].iloc[:-10]  # order differs from the .fam; 10 .fam samples lack phenotypes
    covar = pd.DataFrame({"IID": iids, "AGE": age})
    res = run_gwas(tmp / "g", pheno, covar, mode="multi", block_size=37, out=tmp / "m")
    assert list(res.columns[: len(MULTI_COLUMNS)]) == MULTI_COLUMNS
    assert res.attrs["samples"].overlap == N - 10 and (res["OBS_CT"] == N - 10).all()
    assert res.loc[res["P"].idxmin(), "ID"] == geno.variant_id[causal] and res["P"].min() < 1e-8
    assert (res["METHOD"] == "lrt").all() and (res["D"] == 3).all()
    back = pd.read_parquet(tmp / "m.multi.parquet")
    np.testing.assert_allclose(back["P"], res["P"])
    tsv = pd.read_csv(tmp / "m.multi.tsv", sep="\t")
    assert len(tsv) == geno.n_variants
    # block size does not change the answer
    np.testing.assert_allclose(run_gwas(tmp / "g", pheno, covar, block_size=1000)["LRT"], res["LRT"], rtol=1e-10)


def test_no_overlap_is_a_data_error(fileset):
    tmp, _, _ = fileset
    pheno = pd.DataFrame({"T": [1.0, 2.0]}, index=["x", "y"])
    with pytest.raises(DataError, match="no sample IID"):
        run_gwas(tmp / "g", pheno)


def test_null_calibration_over_many_draws(fileset):
    """Mean λGC over many null draws (fixed genotypes, D = 3) is ≈ 1, and p-values are uniform."""
    _, geno, _ = fileset
    rng = np.random.default_rng(8)
    g = geno.dosage.astype(float)
    covariates = rng.normal(size=(N, 2))
    lambdas, pvals = [], []
    for _ in range(100):
        y = rng.normal(size=(N, 3)) @ rng.normal(size=(3, 3))
        r = multitrait_assoc(y, g, covariates)
        lambdas.append(np.median(r.lrt) / stats.chi2.ppf(0.5, 3))
        pvals.append(r.p)
    assert 0.95 < np.mean(lambdas) < 1.05
    p = np.concatenate(pvals)
    assert 0.04 < np.mean(p < 0.05) < 0.06
    assert 0.008 < np.mean(p < 0.01) < 0.012


def test_cli(fileset, tmp_path):
    tmp, geno, iids = fileset
    rng = np.random.default_rng(1)
    emb = pd.DataFrame(rng.normal(size=(N, 6)), columns=[f"e{i}" for i in range(6)])
    emb.insert(0, "IID", iids)
    emb.to_csv(tmp_path / "emb.tsv", sep="\t", index=False)
    runner = CliRunner()
    result = runner.invoke(app, ["gwas", "--bfile", str(tmp / "g"), "--pheno", str(tmp_path / "emb.tsv"),
                                 "--embedding-pcs", "2", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "400 in common" in result.output
    res = pd.read_parquet(tmp_path / "o.multi.parquet")
    assert (res["D"] == 2).all() and len(res) == geno.n_variants
    single = runner.invoke(app, ["gwas", "--bfile", str(tmp / "g"), "--pheno", str(tmp_path / "emb.tsv"),
                                 "--pheno-cols", "e1,e3", "--mode", "single", "--out", str(tmp_path / "s")])
    assert single.exit_code == 0, single.output
    assert (tmp_path / "s.e1.glm.linear").is_file() and (tmp_path / "s.e3.glm.linear").is_file()
    bad = runner.invoke(app, ["gwas", "--bfile", str(tmp / "g"), "--pheno", str(tmp_path / "emb.tsv"), "--pheno-cols", "zz"])
    assert bad.exit_code == 2 and "error:" in bad.output and "zz" in bad.output
    helptext = runner.invoke(app, ["gwas", "--help"])
    assert "Example: alignome gwas" in helptext.output


@pytest.mark.parametrize("mode", ["multi", "single"])
def test_streamed_scan_writes_what_the_collected_scan_returns(fileset, tmp_path, mode):
    """scan_gwas (results written block by block, only P kept) equals run_gwas (whole table in memory)."""
    from alignome.gwas.run import scan_gwas

    tmp, geno, iids = fileset
    rng = np.random.default_rng(8)
    pheno = pd.DataFrame(rng.normal(size=(N, 3)), columns=["A", "B", "C"], index=pd.Index(iids, name="IID"))
    pheno.iloc[:7, 1] = np.nan  # trait B has its own samples in single mode
    full = run_gwas(tmp / "g", pheno, mode=mode, block_size=45, out=tmp_path / "full")
    scan = scan_gwas(tmp / "g", pheno, mode=mode, block_size=45, out=tmp_path / "scan")
    groups = [("multi", full)] if mode == "multi" else [(t, full[full["PHENO"] == t]) for t in "ABC"]
    for name, frame in groups:
        np.testing.assert_array_equal(scan.p[name], frame["P"].to_numpy())
    np.testing.assert_array_equal(scan.variants["ID"], full["ID"].iloc[: geno.n_variants])
    assert len(scan.variants) == scan.n_variants == geno.n_variants
    top = full.loc[full["P"].idxmin()]
    assert scan.smallest_p() == (top["P"], top["ID"])
    for written in scan.files:
        twin = written.with_name(written.name.replace("scan", "full", 1))
        if written.suffix == ".parquet":
            pd.testing.assert_frame_equal(pd.read_parquet(written), pd.read_parquet(twin))
        else:
            assert written.read_bytes() == twin.read_bytes()
    if mode == "single":  # the files hold what the returned table holds
        back = pd.read_csv(tmp_path / "scan.B.glm.linear", sep="\t", na_values=["NA"])
        np.testing.assert_array_equal(back["OBS_CT"], full[full["PHENO"] == "B"]["OBS_CT"])
        assert (back["OBS_CT"] == N - 7).all()
    assert not list(tmp_path.glob("*.partial"))
