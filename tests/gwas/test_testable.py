"""Traits a scan cannot test (alignome.gwas.testable): constant or empty columns are skipped with a line,
a joint test with more traits than samples is refused with a fix."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from alignome.cli import app
from alignome.errors import DataError
from alignome.gwas.run import run_gwas
from tests.helpers.gwas_data import N, write_small_fileset
from tests.helpers.plink_tools import require_plink2


@pytest.fixture(scope="module")
def fileset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("testable")
    _, iids = write_small_fileset(tmp)
    rng = np.random.default_rng(5)
    pheno = pd.DataFrame({"IID": iids, "T1": rng.normal(size=N), "CONST": 5.5, "T2": rng.normal(size=N),
                          "EMPTY": np.nan})
    return tmp, pheno


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_constant_and_empty_traits_are_skipped(fileset, mode):
    tmp, pheno = fileset
    ours = run_gwas(tmp / "g", pheno, mode=mode)
    alone = run_gwas(tmp / "g", pheno[["IID", "T1", "T2"]], mode=mode)
    assert [(s.name, s.reason.split(" ")[0]) for s in ours.attrs["skipped"]] == [("EMPTY", "no"), ("CONST", "constant")]
    pd.testing.assert_frame_equal(ours, alone)  # as if the columns were not there: not in D, no rows of noise
    if mode == "multi":
        assert (ours["D"] == 2).all()


def test_cli_says_which_column_was_skipped_and_why(fileset, tmp_path):
    tmp, pheno = fileset
    pheno.to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    for mode in ("single", "multi"):
        result = CliRunner().invoke(app, ["gwas", "--bfile", str(tmp / "g"), "--pheno", str(tmp_path / "p.tsv"),
                                          "--mode", mode, "--no-plots", "--no-loci", "--out", str(tmp_path / mode)])
        assert result.exit_code == 0, result.output
        assert "skipped phenotype 'CONST': constant (all 400 values are 5.5)" in result.output
        assert "skipped phenotype 'EMPTY': no values" in result.output
        assert f"{mode}-trait GWAS of 2 trait(s)" in result.output
    assert sorted(p.name for p in tmp_path.glob("single.*.glm.linear")) == ["single.T1.glm.linear",
                                                                           "single.T2.glm.linear"]


def test_every_trait_untestable_is_an_error_naming_them(fileset):
    tmp, pheno = fileset
    with pytest.raises(DataError, match="(?s)no phenotype can be tested.*'CONST': constant.*fix:"):
        run_gwas(tmp / "g", pheno[["IID", "CONST"]], mode="single")
    with pytest.raises(DataError, match="no phenotype can be tested.*'EMPTY': no values"):
        run_gwas(tmp / "g", pheno[["IID", "EMPTY"]], mode="multi")


def test_constant_on_the_samples_used_is_constant(fileset):
    """Multi mode uses complete rows: a trait constant on them is skipped though it varies elsewhere."""
    tmp, pheno = fileset
    varied = pheno[["IID", "T1", "T2"]].assign(T3=5.5)
    varied.loc[:9, "T3"] = np.arange(10.0)
    varied.loc[:9, "T1"] = np.nan
    ours = run_gwas(tmp / "g", varied, mode="multi")
    assert [s.name for s in ours.attrs["skipped"]] == ["T3"] and (ours["OBS_CT"] <= N - 10).all()


def test_plink2_writes_no_result_for_a_constant_phenotype(fileset, tmp_path):
    exe = require_plink2()
    tmp, pheno = fileset
    iids = pheno["IID"]
    pheno[["IID", "CONST", "T1"]].assign(FID=iids)[["FID", "IID", "CONST", "T1"]].to_csv(
        tmp_path / "p.txt", sep="\t", index=False)
    for suffix in ("bed", "bim", "fam"):
        (tmp_path / f"g.{suffix}").write_bytes((tmp / f"g.{suffix}").read_bytes())
    subprocess.run([str(exe), "--bfile", "g", "--pheno", "p.txt", "--glm", "allow-no-covars", "--out", "ref",
                    "--threads", "1", "--memory", "1024"], cwd=tmp_path, capture_output=True, timeout=120)
    assert not (tmp_path / "ref.CONST.glm.linear").exists()  # 2.00a3.5 stops: "phenotype 'CONST' is constant"
    run_gwas(tmp_path / "g", pheno[["IID", "CONST", "T1"]], mode="single", out=tmp_path / "ours")
    assert not (tmp_path / "ours.CONST.glm.linear").exists() and (tmp_path / "ours.T1.glm.linear").exists()


def test_more_traits_than_samples_is_an_error_with_a_fix(fileset, tmp_path):
    tmp, pheno = fileset
    rng = np.random.default_rng(1)
    wide = pd.DataFrame(rng.normal(size=(40, 60)), columns=[f"E{i}" for i in range(60)])
    wide.insert(0, "IID", pheno["IID"][:40].to_numpy())
    wide.to_csv(tmp_path / "wide.tsv", sep="\t", index=False)
    result = CliRunner().invoke(app, ["gwas", "--bfile", str(tmp / "g"), "--pheno", str(tmp_path / "wide.tsv"),
                                      "--no-plots", "--no-loci", "--out", str(tmp_path / "w")])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "a joint test of 60 traits needs more than 61 samples" in text and "40 have complete values" in text
    assert "fix:" in text and "--embedding-pcs D with D ≤ 38" in text
    assert not (tmp_path / "w.multi.tsv").exists()
    with pytest.raises(DataError, match="a joint test of 39 traits"):  # the boundary: n − p − D ≥ 1
        run_gwas(tmp / "g", wide.iloc[:, :40], mode="multi")
    assert np.isfinite(run_gwas(tmp / "g", wide.iloc[:, :39], mode="multi")["P"]).all()
