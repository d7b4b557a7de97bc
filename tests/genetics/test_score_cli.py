"""`alignome prs` runs without pandas: its columns path writes the bytes of the DataFrame path, with the same errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from alignome.errors import DataError
from alignome.genetics.score import (
    polygenic_score,
    profile_columns,
    read_score_columns,
    read_score_file,
    write_profile,
    write_profile_columns,
)


def test_prs_command_imports_neither_pandas_nor_scipy(family_data, tmp_path):
    code = (
        "import sys\n"
        "from alignome.cli import app\n"
        "try:\n"
        "    app(['prs', '--bfile', sys.argv[1], '--score', sys.argv[2], '--out', sys.argv[3]])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'pyarrow') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(family_data["prefix"]), str(family_data["weights"]),
                           str(tmp_path / "o")], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout + proc.stderr
    # what it wrote is the DataFrame path's profile (the path compared with plink --score)
    frame, _ = polygenic_score(family_data["prefix"], read_score_file(family_data["weights"]))
    assert (tmp_path / "o.profile").read_text() == write_profile(frame, tmp_path / "frame").read_text()


@pytest.mark.parametrize("sum_, mean", [(False, True), (True, True), (False, False)])
def test_columns_path_writes_the_dataframe_bytes(family_data, tmp_path, bed_backend, sum_, mean):
    frame, used_frame = polygenic_score(family_data["prefix"], read_score_file(family_data["weights"]), sum_=sum_,
                                        mean_imputation=mean)
    columns, used = profile_columns(family_data["prefix"], *read_score_columns(family_data["weights"]), sum_=sum_,
                                    mean_imputation=mean)
    assert used.variants == used_frame.variants and used.skipped == used_frame.skipped
    a = write_profile(frame, tmp_path / "frame").read_bytes()
    b = write_profile_columns(columns, tmp_path / "columns").read_bytes()
    assert a == b


@pytest.mark.parametrize("text, header, match", [
    ("a A 1\nb C x\n", False, r"row 2: weight 'x' is not a number"),
    ("a A 1\n\nb C 2\na G 3\n", False, r"row 1: variant 'a' appears more than once"),
    ("a A\nb C\n", False, "cannot read three whitespace-separated columns"),
    ("", False, "cannot read three whitespace-separated columns"),
    ("a A NA\n", False, "row 1: weight 'NA' is not a number"),
    ("a A 1_0\n", False, "row 1: weight '1_0' is not a number"),
    ("V A W\nrs1 A 1\nrs2 A zz\n", True, "row 3: weight 'zz' is not a number"),
    ("a A 1\nb C\n", False, "row 2: weight 'nan' is not a number"),
])
def test_score_file_errors(tmp_path, bed_backend, text, header, match):
    path = tmp_path / "w.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=match):
        read_score_columns(path, header=header)
    with pytest.raises(DataError, match=match):
        read_score_file(path, header=header)


def test_score_file_layouts(tmp_path, bed_backend):
    path = tmp_path / "w.txt"
    path.write_text("SNP A W extra\n\n  rs1\tA  0.5 x\nrs2 C -1e-3\n")  # header, blank line, extra columns
    variant, allele, weight = read_score_columns(path, header=True)
    assert variant == ["rs1", "rs2"] and allele == ["A", "C"]
    np.testing.assert_array_equal(weight, [0.5, -1e-3])
    frame = read_score_file(path, header=True)
    assert frame["variant"].tolist() == variant and frame["weight"].tolist() == weight.tolist()
