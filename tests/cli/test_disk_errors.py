"""An OSError while a genetics command writes (disk full, folder gone) ends with exit 2 naming the file."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignome.cli import app

runner = CliRunner()


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "/full/disk/out.txt")


# (argv after `alignome`, with IN for the inputs folder; the function that writes, patched to fail)
WRITERS = [
    (["variants", "clump", "--bfile", "IN/g", "--sumstats", "IN/gwas.assoc", "--out", "IN/o"],
     "alignome.genetics.clump.write_clumped"),
    (["prs", "--bfile", "IN/g", "--score", "IN/weights.txt", "--out", "IN/o"], "alignome.genetics.score.write_profile_columns"),
    (["variants", "qc", "--bfile", "IN/g", "--geno", "0.1", "--out", "IN/o"], "alignome.genetics.qc_reports.write_qc"),
    (["variants", "meta", "--sumstats", "IN/study1.qassoc", "--sumstats", "IN/study2.qassoc", "--out", "IN/o"],
     "alignome.genetics.meta.write_metal"),
    (["variants", "select", "--sumstats", "IN/study1.qassoc", "--top-k", "5", "--out", "IN/p"],
     "alignome.genetics.panel.write_panel"),
    (["gwas", "--bfile", "IN/g", "--pheno", "IN/pheno.tsv", "--mode", "single", "--no-plots", "--no-loci",
      "--out", "IN/o"], "alignome.gwas.report.report_gwas"),
]


@pytest.mark.parametrize("argv,writer", WRITERS, ids=[" ".join(a[:2]) for a, _ in WRITERS])
def test_a_failed_write_is_exit_2_naming_the_file(argv, writer, inputs: Path, tmp_path: Path, monkeypatch):
    d = tmp_path / "in"
    shutil.copytree(inputs, d)
    module, _, name = writer.rpartition(".")
    monkeypatch.setattr(f"{module}.{name}", _disk_full)
    result = runner.invoke(app, [a.replace("IN", str(d)) for a in argv])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "/full/disk/out.txt" in result.output and "No space left" in result.output
