"""The one PLINK fileset reader (alignome.io.plink_fileset): checks, columns, positions, founders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alignome.errors import DataError
from alignome.io.plink_fileset import founder_flags, founder_mask, read_bim_fields, read_fileset


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


def test_positions_read_as_pandas_reads_them(tmp_path):
    fs = read_fileset(_fileset(tmp_path / "x", positions=("10", "NA", "1_000")))
    pos = fs.positions()
    assert pos[0] == 10 and np.isnan(pos[1]) and np.isnan(pos[2])  # int() would read 1_000; pandas does not
    assert read_bim_fields(tmp_path / "x.bim", (1, 3))[1].tolist() == ["10", "NA", "1_000"]


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
