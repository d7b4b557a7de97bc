"""Every command against corrupted input: exit 2 naming the offending file (no traceback), or exit 0.

Each row of :data:`CASES` copies a small valid input, corrupts one file, runs one command through
the command line and expects one of:

* ``error``: exit status 2, the corrupted file's name in the message, no traceback;
* ``ok``: exit status 0 (a corruption the reader must tolerate, e.g. a byte-order mark and CRLF
  line ends, or bad rows that are dropped and counted in the log).

A new command joins the matrix by adding a row: :func:`test_every_command_is_in_the_matrix` fails
for a command without one, and for a recipe kind that ``run`` has no row for.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from alignome.cli import app
from alignome.recipes.registry import KINDS
from tests.helpers.paths import RECIPES

runner = CliRunner()


# ----------------------------------------------------------------------------- corruptions of one file


def _table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)


def _write_like(frame: pd.DataFrame, path: Path) -> None:
    sep = "\t" if path.suffix in (".tsv", ".txt", ".assoc", ".qassoc") else ","
    if path.suffix in (".assoc", ".qassoc"):
        sep = " "
    frame.to_csv(path, sep=sep, index=False)


def drop_column(column: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        _write_like(_table(path).drop(columns=[column]), path)
    return corrupt


def set_cell(column: str, value: str, row: int = 1) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        frame = _table(path)
        frame.loc[row, column] = value
        _write_like(frame, path)
    return corrupt


def duplicate_first_row(path: Path) -> None:
    frame = _table(path)
    _write_like(pd.concat([frame.iloc[[0]], frame], ignore_index=True), path)


def header_only(path: Path) -> None:
    path.write_text(path.read_text().splitlines()[0] + "\n")


def empty(path: Path) -> None:
    path.write_bytes(b"")


def bom_and_crlf(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def oversize(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\x00" * 1000)


def wrong_magic(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0] = 0x00
    path.write_bytes(bytes(data))


def remove(path: Path) -> None:
    path.unlink()


def ragged_line(path: Path) -> None:
    lines = path.read_text().splitlines()
    lines[2] = " ".join(lines[2].split()[:-1])
    path.write_text("\n".join(lines) + "\n")


def text_in_bim_position(path: Path) -> None:
    lines = path.read_text().splitlines()
    fields = lines[4].split("\t")
    fields[3] = "abc"
    lines[4] = "\t".join(fields)
    path.write_text("\n".join(lines) + "\n")


def constant_column(column: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        frame = _table(path)
        frame[column] = "5.5"
        _write_like(frame, path)
    return corrupt


def absurd_voxels(path: Path) -> None:
    """Keep the image, claim 100 mm voxels in its affine (a header written in cm, or corrupted)."""
    import nibabel as nib
    import numpy as np

    image = nib.load(path)
    nib.save(nib.Nifti1Image(np.asarray(image.dataobj), np.diag([100.0, 100.0, 100.0, 1.0])), path)


def not_gzip(path: Path) -> None:
    path.write_bytes(b"this is not a NIfTI file")


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Case:
    """One command run on one corrupted file."""

    command: str  # as typed after `alignome`, e.g. "variants clump"; `run` rows say the kind: "run ad-gated-fusion"
    name: str
    file: str  # the corrupted file, relative to the inputs folder
    corrupt: Callable[[Path], None]
    expect: str  # "error" or "ok"
    marks: tuple = ()
    says: str = ""  # for "ok": what the command must say about what it dropped or skipped

    @property
    def id(self) -> str:
        return f"{self.command}: {self.name}"


def _argv(case: Case, d: Path) -> list[str]:
    out = str(d / "out")
    if case.command.startswith("run "):
        kind = case.command.split(" ", 1)[1]
        recipe = RECIPES / f"{kind}.yaml"
        data = d / {"ad-gated-fusion": "ad", "mm-dim": "mm", "gemcont": "img"}.get(kind, "mri")
        return ["run", str(recipe), "--preset", "quick", "--data", str(data), "--out", out]
    return {
        "variants qc": ["variants", "qc", "--bfile", str(d / "g"), "--geno", "0.1", "--out", out],
        "variants clump": ["variants", "clump", "--bfile", str(d / "g"), "--sumstats", str(d / "gwas.assoc"),
                           "--out", out],
        "variants select": ["variants", "select", "--sumstats", str(d / "study1.qassoc"), "--top-k", "10", "--out",
                            str(d / "panel")],
        "variants meta": ["variants", "meta", "--sumstats", str(d / "study1.qassoc"), "--sumstats",
                          str(d / "study2.qassoc"), "--out", out],
        "prs": ["prs", "--bfile", str(d / "g"), "--score", str(d / "weights.txt"), "--out", out],
        "gwas": ["gwas", "--bfile", str(d / "g"), "--pheno", str(d / "pheno.tsv"), "--covar", str(d / "covar.tsv"),
                 "--mode", "single", "--no-plots", "--no-loci", "--out", out],
        "report": ["report", str(d / "run")],
        "simulate ad-cohort": ["simulate", "ad-cohort", "--out", str(d / "sim"), "--subjects", "20"],
        "simulate mri3d": ["simulate", "mri3d", "--out", str(d / "sim"), "--subjects", "2", "--voxel-mm", "8"],
        "simulate mri3d-calibration": ["simulate", "mri3d-calibration", "--truth", str(d / "mri" / "truth.csv")],
        "simulate mm-cohort": ["simulate", "mm-cohort", "--out", str(d / "sim"), "--subjects", "1", "--voxel-mm", "8",
                               "--jobs", "1"],
    }[case.command]


def _report_inputs(d: Path) -> None:
    run = d / "run"
    run.mkdir()
    pd.DataFrame({"method": ["a", "a"], "task": ["CN/AD", "CN/AD"], "metric": ["auc", "auc"], "fold": [0, 1],
                  "value": [0.7, 0.8]}).to_csv(run / "results.csv", index=False)


def _not_a_folder(path: Path) -> None:
    """Replace the output folder's parent by a file: nothing can be written under it."""
    shutil.rmtree(path, ignore_errors=True)
    path.write_text("a file where a folder should be\n")


G, AD, MRI = "g", "ad", "mri"
CASES = [
    # PLINK filesets, read by every genetics command
    *(Case(cmd, f".bed {name}", "g.bed", fn, "error") for cmd in ("variants qc", "variants clump", "prs", "gwas")
      for name, fn in (("truncated", truncate), ("oversized", oversize), ("wrong magic", wrong_magic),
                       ("missing", remove))),
    *(Case(cmd, ".fam ragged line", "g.fam", ragged_line, "error") for cmd in ("variants qc", "prs", "gwas")),
    *(Case(cmd, ".bim missing", "g.bim", remove, "error") for cmd in ("variants qc", "variants clump", "prs", "gwas")),
    *(Case(cmd, ".bim text as a position", "g.bim", text_in_bim_position, "error")
      for cmd in ("variants qc", "variants clump", "prs", "gwas")),
    # summary statistics and weights
    Case("variants clump", "no SNP column", "gwas.assoc", drop_column("SNP"), "error"),
    Case("variants clump", "text in P", "gwas.assoc", set_cell("P", "abc"), "error"),
    Case("variants clump", "header only", "gwas.assoc", header_only, "error"),
    Case("variants clump", "empty", "gwas.assoc", empty, "error"),
    Case("variants select", "no P column", "study1.qassoc", drop_column("P"), "error"),
    Case("variants select", "duplicated variant", "study1.qassoc", duplicate_first_row, "error"),
    Case("variants select", "empty", "study1.qassoc", empty, "error"),
    Case("variants meta", "text in BETA", "study1.qassoc", set_cell("BETA", "abc"), "error"),
    Case("variants meta", "no SE column", "study2.qassoc", drop_column("SE"), "error"),
    Case("variants meta", "missing", "study2.qassoc", remove, "error"),
    Case("prs", "text in a weight", "weights.txt", ragged_line, "error"),
    Case("prs", "empty", "weights.txt", empty, "error"),
    # phenotypes and covariates
    Case("gwas", "text in a trait", "pheno.tsv", set_cell("t1", "abc"), "error"),
    Case("gwas", "duplicated IID", "pheno.tsv", duplicate_first_row, "error"),
    Case("gwas", "no IID column", "pheno.tsv", drop_column("IID"), "error"),
    Case("gwas", "header only", "pheno.tsv", header_only, "error"),
    Case("gwas", "covariates header only", "covar.tsv", header_only, "error"),
    Case("gwas", "text in a covariate", "covar.tsv", set_cell("age", "old"), "error"),
    Case("gwas", "byte-order mark and CRLF", "pheno.tsv", bom_and_crlf, "ok"),
    Case("gwas", "a constant trait (skipped, said)", "pheno.tsv", constant_column("t2"), "ok",
         says="skipped phenotype 't2'"),
    # the ad-gated-fusion cohort
    Case("run ad-gated-fusion", "visits without subject column", "ad/visits.csv", drop_column("subject"), "error"),
    Case("run ad-gated-fusion", "text in a visit's age", "ad/visits.csv", set_cell("age", "old"), "error"),
    Case("run ad-gated-fusion", "a negative age", "ad/visits.csv", set_cell("age", "-70"), "error"),
    Case("run ad-gated-fusion", "volumes header only", "ad/volumes.csv", header_only, "error"),
    Case("run ad-gated-fusion", "text in a volume", "ad/volumes.csv", set_cell("Left-Hippocampus", "big"), "error"),
    Case("run ad-gated-fusion", ".bed truncated", "ad/genotypes.bed", truncate, "error"),
    Case("run ad-gated-fusion", "sumstats without p", "ad/sumstats.tsv", drop_column("p"), "error"),
    Case("run ad-gated-fusion", "cohort.yaml missing", "ad/cohort.yaml", remove, "error"),
    Case("run ad-gated-fusion", "an MMSE of 300 (set missing, counted)", "ad/visits.csv", set_cell("mmse", "300"), "ok",
         (pytest.mark.slow,), says="outside 0–30 set to missing"),
    # the longitudinal-mri cohort
    Case("run longitudinal-mri", "manifest without path column", "mri/manifest.csv", drop_column("path"), "error"),
    Case("run longitudinal-mri", "manifest empty", "mri/manifest.csv", empty, "error"),
    Case("run longitudinal-mri", "text in an age", "mri/manifest.csv", set_cell("age", "old"), "error"),
    Case("run longitudinal-mri", "a negative age", "mri/manifest.csv", set_cell("age", "-3"), "error"),
    Case("run longitudinal-mri", "a scan that is not NIfTI", "mri/images/sub-0001/ses-01/anat/sub-0001_ses-01_T1w.nii.gz",
         not_gzip, "ok", (pytest.mark.slow,)),
    Case("run longitudinal-mri", "a scan with 100 mm voxels (skipped, said)",
         "mri/images/sub-0001/ses-01/anat/sub-0001_ses-01_T1w.nii.gz", absurd_voxels, "ok", (pytest.mark.slow,),
         says="implausible voxel size"),
    # the mm-dim paired cohort
    Case("run mm-dim", "manifest without days column", "mm/manifest.csv", drop_column("days"), "error"),
    Case("run mm-dim", "manifest without path column", "mm/manifest.csv", drop_column("path"), "error"),
    Case("run mm-dim", "manifest empty", "mm/manifest.csv", empty, "error"),
    Case("run mm-dim", "no fALFF image at all", "mm/manifest.csv", constant_column("modality"), "error"),
    # own images with genotypes and a panel (gemcont)
    Case("run gemcont", "manifest without path column", "img/manifest.csv", drop_column("path"), "error"),
    Case("run gemcont", "manifest empty", "img/manifest.csv", empty, "error"),
    Case("run gemcont", "an unreadable image", "img/images/id3.npy", truncate, "error"),
    Case("run gemcont", "panel without effect sizes", "img/panel.tsv", drop_column("beta"), "error"),
    # run directories and outputs
    Case("report", "results.csv missing", "run/results.csv", remove, "error"),
    Case("report", "results.csv without value column", "run/results.csv", drop_column("value"), "error"),
    Case("simulate ad-cohort", "output under a file", "sim", _not_a_folder, "error"),
    Case("simulate mri3d", "output under a file", "sim", _not_a_folder, "error"),
    Case("simulate mm-cohort", "output under a file", "sim", _not_a_folder, "error"),
    Case("simulate mri3d-calibration", "truth missing", "mri/truth.csv", remove, "error"),
    Case("simulate mri3d-calibration", "truth without head_scale", "mri/truth.csv", drop_column("head_scale"), "error"),
    Case("simulate mri3d-calibration", "truth header only", "mri/truth.csv", header_only, "error"),
]


def _untouched(path: Path) -> None:
    """No corruption: the valid inputs every row starts from."""


#: Every command on the valid inputs: exit 0, so that each error row fails for its own corruption.
VALID = [Case(c, "valid inputs", "", _untouched, "ok", (pytest.mark.slow,) if c.startswith("run ") else ())
         for c in dict.fromkeys(case.command for case in CASES)]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in VALID + CASES])
def test_bad_input(case: Case, inputs: Path, tmp_path: Path):
    d = tmp_path / "in"
    shutil.copytree(inputs, d)
    _report_inputs(d)
    case.corrupt(d / case.file)
    result = runner.invoke(app, _argv(case, d))
    shown = result.output + (str(result.exception) if result.exception else "")
    assert "Traceback" not in shown
    if case.expect == "error":
        assert result.exit_code == 2, shown
        assert Path(case.file).name in shown, shown
    else:
        assert result.exit_code == 0, shown
        assert case.says in " ".join(shown.split()), shown  # the console wraps long log lines


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    names = [f"{prefix}{c.name or c.callback.__name__}" for c in group.registered_commands]
    for sub in group.registered_groups:
        names += _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return names


def test_every_command_is_in_the_matrix():
    covered = {c.command for c in CASES}
    commands = [c for c in _commands(app) if c != "run"] + [f"run {kind}" for kind in KINDS]
    assert sorted(set(commands) - covered) == []
