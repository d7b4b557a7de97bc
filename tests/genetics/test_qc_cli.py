"""`alignome variants qc|meta|select` end to end, and their error path (exit 2, 'error:')."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from alignome.cli import app

# Every test runs with the C kernels of alignome.genetics._bedscore and again with the NumPy paths.
pytestmark = pytest.mark.usefixtures("bed_backend")

runner = CliRunner()


def test_qc_meta_select(tmp_path):
    from tests.genetics.test_qc_plink import make_qc_dataset

    prefix = make_qc_dataset(tmp_path)
    res = runner.invoke(app, ["variants", "qc", "--bfile", str(prefix), "--geno", "0.1", "--mind", "0.1",
                              "--maf", "0.01", "--hwe", "1e-6", "--out", str(tmp_path / "qc")])
    assert res.exit_code == 0, res.output
    assert "pass filters and QC" in res.output
    removed = pd.read_csv(tmp_path / "qc.removed.tsv", sep="\t")
    kept = (tmp_path / "qc.snplist").read_text().split()
    assert len(removed) + len(kept) == 800 and set(removed["reason"]) <= {"geno", "hwe", "maf"}
    for name, beta in (("a", 0.2), ("b", 0.1)):
        (tmp_path / f"{name}.tsv").write_text(f"rsid\tEA\tNEA\tB\tSE\tP\nrs1\tA\tG\t{beta}\t0.1\t0.04\n"
                                              f"rs2\tC\tT\t0.01\t0.1\t0.9\n")
    cols = "variant=rsid,effect_allele=EA,other_allele=NEA,beta=B,se=SE,p=P"
    res = runner.invoke(app, ["variants", "meta", "--sumstats", str(tmp_path / "a.tsv"), "--sumstats",
                              str(tmp_path / "b.tsv"), "--format", "tsv", "--columns", cols, "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["variants", "select", "--sumstats", str(tmp_path / "m.meta.tbl"), "--top-k", "1",
                              "--out", str(tmp_path / "panel")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "panel.panel.tsv").read_text().splitlines()[1].startswith("rs1\t")


def test_errors_exit_2(tmp_path):
    (tmp_path / "bad.tsv").write_text("variant\tp\nrs1\t2\n")
    res = runner.invoke(app, ["variants", "select", "--sumstats", str(tmp_path / "bad.tsv"), "--top-k", "1",
                              "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "error:" in res.output and "fix:" in res.output
    res = runner.invoke(app, ["variants", "qc", "--bfile", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "error:" in res.output


def test_allow_no_sex(tmp_path):
    """--allow-no-sex (the default, as plink --make-bed) counts unknown-sex controls in --hwe;
    --no-allow-no-sex ignores them, as a plink --write-snplist run without --allow-no-sex."""
    from tests.helpers.plink_tools import require_plink19, run_plink
    from tests.genetics.test_qc_sexchrom_plink import make_sexchrom_dataset

    from alignome.genetics.qc import run_qc

    prefix = make_sexchrom_dataset(tmp_path)
    kept = {}
    for flag in ("--allow-no-sex", "--no-allow-no-sex", None):
        out = tmp_path / f"ours{flag}"
        res = runner.invoke(app, ["variants", "qc", "--bfile", str(prefix), "--hwe", "1e-3", "--out", str(out)]
                            + ([flag] if flag else []))
        assert res.exit_code == 0, res.output
        kept[flag] = (tmp_path / f"ours{flag}.snplist").read_text().split()
    assert kept[None] == kept["--allow-no-sex"] == run_qc(prefix, hwe=1e-3, allow_no_sex=True).kept_variants
    assert kept["--no-allow-no-sex"] == run_qc(prefix, hwe=1e-3, allow_no_sex=False).kept_variants
    assert kept["--no-allow-no-sex"] != kept["--allow-no-sex"]  # the data tell the two apart
    exe = require_plink19()
    for flag, extra in (("--allow-no-sex", ["--allow-no-sex"]), ("--no-allow-no-sex", [])):
        run_plink(exe, ["--bfile", str(prefix), "--hwe", "1e-3", *extra, "--write-snplist", "--out", "p"], tmp_path)
        assert kept[flag] == (tmp_path / "p.snplist").read_text().split()
