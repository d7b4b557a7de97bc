"""The one PLINK fileset reader (alignome.io.plink_fileset): checks, columns, positions, founders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from alignome.cli import app
from alignome.errors import DataError
from alignome.io.plink_fileset import founder_flags, founder_mask, read_bim_fields, read_fileset
from tests.helpers.gwas_data import write_small_fileset


def _fileset(prefix: Path, positions=("10", "20", "30"), iids=("a", "b", "c", "d")) -> Path:
    """Four samples (one .bed byte per variant), three variants."""
    prefix.with_suffix(".fam").write_text("".join(f"f {iid} 0 0 {1 + i % 2} -9\n" for i, iid in enumerate(iids)))
    prefix.with_suffix(".bim").write_text("".join(f"1 v{j} 0 {pos} A G\n" for j, pos in enumerate(positions)))
    prefix.with_suffix(".bed").write_bytes(b"\x6c\x1b\x01" + bytes([0b00011011] * len(positions)))
    return prefix


def test_read_fileset_columns_and_arrays(tmp_path):
    fs = read_fileset(_fileset(tmp_path / "x").with_suffix(".bed"))  # a suffix is dropped
    assert (fs.n, fs.m, fs.width) == (4, 3, 1) and fs.ids == ["v0", "v1", "v2"] and fs.fam[1] == ["a", "b", "c", "d"]
    assert fs.sex().tolist() == [1, 2, 1, 2]
    frame = fs.variants_frame()
    assert list(frame.index) == fs.ids and frame["pos"].dtype == np.int64 and frame["a1"].tolist() == ["A"] * 3
    assert [k.tolist() for k in fs.kinds()] == [[False] * 3] * 3


def test_positions_are_whole_numbers(tmp_path):
    fs = read_fileset(_fileset(tmp_path / "x", positions=("10", "-5", "0")))  # PLINK: negative = excluded, 0 = unknown
    assert fs.positions().dtype == np.int64 and fs.positions().tolist() == [10, -5, 0]
    for positions, row, text in ((("10", "abc", "30"), 2, "abc"), (("10", "20", "1_000"), 3, "1_000"),
                                 (("1.5", "20", "30"), 1, "1.5"), (("10", "20", "99999999999999999999"), 3, "9999")):
        with pytest.raises(DataError) as info:  # plink1.9 and plink2 refuse such a .bim too
            read_fileset(_fileset(tmp_path / "x", positions=positions))
        message = str(info.value)
        assert "x.bim" in message and "field 'position (column 4)'" in message and f"row {row}: position '{text}" in message
        assert "fix: write each variant's base-pair position" in message
    assert read_bim_fields(tmp_path / "x.bim", (1, 3))[1].tolist() == ["10", "20", "99999999999999999999"]


def test_rows_are_file_lines(tmp_path):
    """A DataError's row is the line an editor shows: blank lines counted."""
    prefix = _fileset(tmp_path / "x", positions=("10", "20", "x30"))
    bim = prefix.with_suffix(".bim")
    bim.write_text("\n" + bim.read_text().replace("\n", "\n\n", 1))
    with pytest.raises(DataError, match="row 5: position 'x30'"):
        read_fileset(prefix)
    bim.write_text("1 v0 0 10 A G\n\n1 v1 0 20 A\n1 v2 0 30 A G\n")
    with pytest.raises(DataError, match="row 3: expected 6 whitespace-separated columns, found 5"):
        read_fileset(prefix)
    bim.write_text("1 v0 0 10 A G\n\n1 v1 0 20 A G\n1 v0 0 30 A G\n")
    with pytest.raises(DataError, match=r"duplicated variant id 'v0' in rows \[1, 4\]"):
        read_fileset(prefix)


def test_bad_filesets_name_file_and_row(tmp_path):
    prefix = _fileset(tmp_path / "x", iids=("a", "b", "a", "d"))
    with pytest.raises(DataError, match="duplicated subject \\(IID\\) 'a' in rows \\[1, 3\\]"):
        read_fileset(prefix)
    prefix = _fileset(tmp_path / "y")
    with pytest.raises(DataError, match="field 'genotypes.bfile'.*not found"):
        read_fileset(tmp_path / "nope", field="genotypes.bfile")
    (tmp_path / "y.bed").write_bytes((tmp_path / "y.bed").read_bytes()[:-1])
    with pytest.raises(DataError, match="truncated"):
        read_fileset(prefix)


def test_founder_flags():
    fid, iid = ["f", "f", "f", "g"], ["a", "b", "c", "a"]
    assert founder_flags(fid, iid, ["0", "a", "0", "b"], ["0", "0", "b", "0"]) == bytes([1, 0, 0, 1])  # g's b is none
    assert founder_flags(fid, iid, ["0"] * 4, ["x"] * 4) == bytes([1] * 4)
    fam = [["f", "f"], ["a", "b"], ["0", "a"], ["0", "0"]]
    assert founder_mask(fam).tolist() == [True, False]


@pytest.mark.parametrize("command", [
    ["gwas", "--pheno", "{d}/p.tsv", "--no-plots", "--no-loci"],
    ["variants", "qc"],
    ["variants", "clump", "--sumstats", "{d}/r.assoc"],
    ["prs", "--score", "{d}/w.txt"],
])
def test_every_command_refuses_a_position_that_is_not_a_number(tmp_path, command):
    """One reader, one check: what plink refuses ("Invalid bp coordinate on line 5") every command refuses."""
    _, iids = write_small_fileset(tmp_path)
    bim = (tmp_path / "g.bim").read_text().splitlines()
    fields = bim[4].split("\t")
    fields[3] = "abc"
    (tmp_path / "g.bim").write_text("\n".join(bim[:4] + ["\t".join(fields)] + bim[5:]) + "\n")
    (tmp_path / "p.tsv").write_text("IID\tT\n" + "".join(f"{iid}\t{i % 7}\n" for i, iid in enumerate(iids)))
    (tmp_path / "r.assoc").write_text("SNP P\n" + bim[0].split("\t")[1] + " 1e-9\n")
    (tmp_path / "w.txt").write_text(bim[0].split("\t")[1] + " " + bim[0].split("\t")[4] + " 1\n")
    args = [a.format(d=tmp_path) for a in command]
    args += ["--bfile", str(tmp_path / "g"), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, args)
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "g.bim" in text and "field 'position (column 4)', row 5: position 'abc' is not a whole number" in text
    assert "fix: write each variant's base-pair position" in text
