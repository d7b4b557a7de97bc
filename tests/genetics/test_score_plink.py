"""Polygenic scores equal PLINK 1.9 ``--score`` (avg, sum, no-mean-imputation, A2 alleles, missing calls)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from alignome.genetics.clump import clump, read_clump_sumstats, write_clumped
from alignome.genetics.score import polygenic_score, read_score_file, write_profile
from tests.helpers.plink_tools import require_plink19, run_plink
from tests.genetics.test_clump_plink import make_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    directory = tmp_path_factory.mktemp("score")
    data = make_dataset(directory, seed=11, missing=0.03)
    bim = pd.read_csv(f"{data['prefix']}.bim", sep=r"\s+", header=None, dtype=str)
    rng = np.random.default_rng(5)
    rows = np.sort(rng.choice(len(bim), 300, replace=False))
    use_a2 = rng.random(300) < 0.4  # scored allele is A2: dosage flipped
    allele = np.where(use_a2, bim[5].to_numpy()[rows], bim[4].to_numpy()[rows])
    frame = pd.DataFrame({"SNP": bim[1].to_numpy()[rows], "A": allele, "W": rng.normal(size=300)})
    frame.loc[len(frame)] = ["rsNOTINBIM", "A", 1.0]  # skipped, as PLINK does
    data["score"] = directory / "weights.txt"
    frame.to_csv(data["score"], sep=" ", index=False, header=False)
    return data


@pytest.mark.parametrize("modifiers", [[], ["sum"], ["no-mean-imputation"]])
def test_score_equals_plink19(data, tmp_path, modifiers, bed_backend):
    exe = require_plink19()
    run_plink(exe, ["--bfile", str(data["prefix"]), "--score", str(data["score"]), *modifiers, "--out", "plink"], tmp_path)
    expected = pd.read_csv(tmp_path / "plink.profile", sep=r"\s+", dtype={"FID": str, "IID": str})
    ours, used = polygenic_score(data["prefix"], read_score_file(data["score"]), sum_="sum" in modifiers,
                                 mean_imputation="no-mean-imputation" not in modifiers)
    assert used.skipped == [("rsNOTINBIM", "not in .bim")]
    assert list(ours.columns) == list(expected.columns)
    assert (ours["IID"].to_numpy() == expected["IID"].to_numpy()).all()
    np.testing.assert_array_equal(ours["CNT"].to_numpy(), expected["CNT"].to_numpy())
    np.testing.assert_array_equal(ours["CNT2"].to_numpy(), expected["CNT2"].to_numpy())
    name = expected.columns[-1]
    # PLINK prints 6 significant digits
    np.testing.assert_allclose(ours[name].to_numpy(), expected[name].to_numpy(), rtol=1e-5,
                               atol=1e-6 * np.abs(expected[name]).max())


def test_score_definition_by_hand():
    from alignome.genetics.score import score_dosages

    counts = np.array([[0, 2.0], [1, np.nan], [2, 1]])
    flip = np.array([False, True])
    w = np.array([1.0, 2.0])
    out = score_dosages(counts, flip, w)
    # variant 2 scores A2: dosages 0, ., 1 -> frequency 0.25, imputed 0.5; M = 2 variants
    assert out["SCORE"].tolist() == pytest.approx([(0 + 2 * 0) / 4, (1 + 2 * 0.5) / 4, (2 + 2 * 1) / 4])
    assert out["CNT"].tolist() == [4, 2, 4]
    out = score_dosages(counts, flip, w, mean_imputation=False)
    assert out["SCORE"].tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_cli_prs_and_clump(data, tmp_path):
    from alignome.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["prs", "--bfile", str(data["prefix"]), "--score", str(data["score"]), "--sum",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    profile = pd.read_csv(tmp_path / "o.profile", sep=r"\s+")
    assert list(profile.columns) == ["FID", "IID", "PHENO", "CNT", "CNT2", "SCORESUM"]
    # the command writes what the library (checked against plink --score above) computes
    expected, _ = polygenic_score(data["prefix"], read_score_file(data["score"]), sum_=True)
    assert (tmp_path / "o.profile").read_text() == write_profile(expected, tmp_path / "lib").read_text()
    res = runner.invoke(app, ["variants", "clump", "--bfile", str(data["prefix"]), "--sumstats", str(data["sumstats"]),
                              "--p1", "1e-5", "--r2", "0.05", "--kb", "5000", "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    clumped = clump(data["prefix"], read_clump_sumstats(data["sumstats"]), p1=1e-5, p2=1e-2, r2=0.05, kb=5000)
    assert clumped.clumps
    assert (tmp_path / "c.clumped").read_text() == write_clumped(clumped, tmp_path / "lib").read_text()
    res = runner.invoke(app, ["prs", "--bfile", str(tmp_path / "nope"), "--score", str(data["score"]),
                              "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "error:" in res.output
    res = runner.invoke(app, ["variants", "clump", "--help"])
    assert res.exit_code == 0 and "Examples" in res.output
