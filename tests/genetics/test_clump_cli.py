"""`alignome variants clump` runs without pandas (and, with the C kernel, without NumPy), writes what the
DataFrame API writes, and names the problem in bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from alignome.cli import app
from alignome.genetics.clump import clump, clump_columns, read_clump_columns, read_clump_sumstats, write_clumped
from alignome.io.fields import bed_kernel

ARGS = ["--p1", "1e-2", "--p2", "0.5", "--r2", "0.1", "--kb", "1000"]


def test_clump_command_imports_neither_pandas_nor_scipy(family_data, tmp_path):
    code = (
        "import sys\n"
        "from alignome.cli import app\n"
        "try:\n"
        "    app(['variants', 'clump', '--bfile', sys.argv[1], '--sumstats', sys.argv[2], '--out', sys.argv[3],\n"
        f"         *{ARGS!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'pyarrow', 'numpy') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(family_data["prefix"]), str(family_data["sumstats"]),
                           str(tmp_path / "o")], capture_output=True, text=True, check=True)
    imported = proc.stdout.strip().splitlines()[-1]
    # NumPy only serves the fallback of a build without the C kernel
    assert imported == ("[]" if bed_kernel() is not None else "['numpy']"), proc.stdout + proc.stderr
    expected = clump(family_data["prefix"], read_clump_sumstats(family_data["sumstats"]), p1=1e-2, p2=0.5, r2=0.1,
                     kb=1000)
    assert expected.clumps
    assert (tmp_path / "o.clumped").read_text() == write_clumped(expected, tmp_path / "frame").read_text()


def test_columns_path_equals_the_dataframe_path(family_data, tmp_path, bed_backend):
    variant, p = read_clump_columns(family_data["sumstats"])
    frame = read_clump_sumstats(family_data["sumstats"])
    assert variant.tolist() == frame["variant"].tolist() and list(p) == frame["p"].tolist()
    a = clump_columns(family_data["prefix"], variant, p, p1=1e-3, r2=0.2, kb=500)
    b = clump(family_data["prefix"], frame, p1=1e-3, r2=0.2, kb=500)
    assert a == b and a.clumps


@pytest.fixture
def report(family_data, tmp_path):
    """A copy of the fileset's report to spoil, and the command that clumps it."""
    path = tmp_path / "gwas.assoc"
    path.write_text(family_data["sumstats"].read_text())

    def run(*extra: str):
        return CliRunner().invoke(app, ["variants", "clump", "--bfile", str(family_data["prefix"]), "--sumstats",
                                        str(path), "--out", str(tmp_path / "o"), *extra])
    return path, run


@pytest.mark.parametrize("spoil, message", [
    (lambda lines: [lines[0].replace(" P", " PVAL")] + lines[1:], "missing column 'P'"),
    (lambda lines: [lines[0].replace(" P", " PVAL")] + lines[1:], "fix: name your column with `--p-field <your column>`"),
    (lambda lines: [lines[0].replace("SNP", "ID")] + lines[1:], "fix: name your column with `--snp-field <your column>`"),
    (lambda lines: lines[:2] + [lines[2].rsplit(" ", 1)[0] + " 0"] + lines[3:], "row 3: p-value '0.0' is not a number in (0, 1]"),
    (lambda lines: lines[:2] + [lines[2].rsplit(" ", 1)[0] + " abc"] + lines[3:], "row 3: non-numeric value 'abc'"),
    (lambda lines: lines[:2] + [lines[2].rsplit(" ", 1)[0] + " abc"] + lines[3:],
     "fix: give p-values (not -log10 p) between 0 (excluded) and 1; drop rows without a p-value"),  # not "NA"
    (lambda lines: lines[:2] + [lines[2].rsplit(" ", 1)[0] + " 1.5"] + lines[3:], "p-value '1.5' is not a number in (0, 1]"),
    (lambda lines: lines[:2] + [lines[2].rsplit(" ", 1)[0] + " NA"] + lines[3:], "row 3: p-value 'nan' is not a number in (0, 1]"),
    (lambda lines: lines + [lines[1]], "appears more than once"),
    (lambda lines: lines + ["NA 0.5"], "missing variant id"),
])
def test_bad_reports_are_named(report, spoil, message, bed_backend):
    path, run = report
    lines = path.read_text().splitlines()
    path.write_text("\n".join(spoil(lines)) + "\n")
    result = run()
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output


def test_bad_filesets_and_options_are_named(report, family_data, tmp_path, bed_backend):
    path, run = report
    result = run("--r2", "1.5")
    assert result.exit_code == 2 and "--r2 must be in [0, 1), got 1.5" in result.output
    result = CliRunner().invoke(app, ["variants", "clump", "--bfile", str(tmp_path / "none"), "--sumstats", str(path),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "none.bed" in result.output and "file not found" in result.output
    for suffix in ("bed", "fam"):
        (tmp_path / f"ref.{suffix}").write_bytes(family_data["prefix"].with_suffix(f".{suffix}").read_bytes())
    bim = family_data["prefix"].with_suffix(".bim").read_text().splitlines()
    for lines, message in ((bim + [bim[0]], "duplicated variant id"),
                           ([bim[0].replace(bim[0].split()[3], "12x")] + bim[1:], "row 1: position '12x' is not a whole number"),
                           (bim[:-1], "the .bed file has")):
        (tmp_path / "ref.bim").write_text("\n".join(lines) + "\n")
        result = CliRunner().invoke(app, ["variants", "clump", "--bfile", str(tmp_path / "ref"), "--sumstats",
                                          str(path), "--out", str(tmp_path / "o")])
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split()), result.output


def test_other_layouts_clump_alike(family_data, tmp_path, bed_backend):
    """A CSV or TSV report (here with a BETA column next to P) goes through the general reader, same clumps."""
    lines = [line.split() for line in family_data["sumstats"].read_text().splitlines()]
    table = [["SNP", "BETA", "P"]] + [[snp, "0.1", p] for snp, p in lines[1:]]
    outputs = []
    for name, sep in (("gwas.assoc", " "), ("gwas.csv", ","), ("gwas.tsv", "\t")):
        path = tmp_path / name
        path.write_text("\n".join(sep.join(row) for row in table) + "\n")
        result = CliRunner().invoke(app, ["variants", "clump", "--bfile", str(family_data["prefix"]), "--sumstats",
                                          str(path), "--out", str(tmp_path / name), *ARGS])
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / f"{name}.clumped").read_text())
    assert outputs[0] == outputs[1] == outputs[2] and len(outputs[0].splitlines()) > 3
