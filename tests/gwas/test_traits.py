"""Phenotype/covariate tables for the GWAS (alignome.gwas.traits): formats, missing values, clear errors."""

from __future__ import annotations

import bz2
import gzip
import lzma
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from tests.helpers.gwas_data import write_small_fileset

from alignome.errors import DataError
from alignome.gwas.traits import TraitTable, as_trait_table, read_ids, read_trait_table

TAB = "FID\tIID\tT1\tT2\n0\t007\t1.5\tNA\n0\ts2\t-2\t3e-3\n0\ts3\t\t4\n"


def _check(table: TraitTable) -> None:
    assert list(table.ids) == ["007", "s2", "s3"]  # IDs stay text: the leading zeros are kept
    assert table.names == ["T1", "T2"]
    np.testing.assert_array_equal(table.values, [[1.5, np.nan], [-2.0, 3e-3], [np.nan, 4.0]])


def test_tab_comma_whitespace_gzip_and_parquet_read_alike(tmp_path):
    (tmp_path / "p.tsv").write_text(TAB)
    _check(read_trait_table(tmp_path / "p.tsv", "phenotype"))
    (tmp_path / "p.csv").write_text(TAB.replace("\t", ","))
    _check(read_trait_table(tmp_path / "p.csv", "phenotype"))
    spaced = "  FID   IID T1  T2 \n0 007   1.5 NA\n 0\ts2 -2 3e-3  \n0 s3 NaN 4\n"
    (tmp_path / "p.txt").write_text(spaced)
    _check(read_trait_table(tmp_path / "p.txt", "phenotype"))
    for suffix, compress in ((".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)):
        (tmp_path / f"p.tsv{suffix}").write_bytes(compress(TAB.encode()))
        _check(read_trait_table(tmp_path / f"p.tsv{suffix}", "phenotype"))
    (tmp_path / "none.tsv").write_text(TAB.replace("NA", "None").replace("\t\t", "\t<NA>\t"))
    _check(read_trait_table(tmp_path / "none.tsv", "phenotype"))  # pandas' missing-value spellings
    frame = pd.DataFrame({"IID": ["007", "s2", "s3"], "T1": [1.5, -2, None], "T2": [None, 3e-3, 4]})
    frame.to_parquet(tmp_path / "p.parquet")
    _check(read_trait_table(tmp_path / "p.parquet", "phenotype"))
    frame.iloc[[2, 0, 1]].to_parquet(tmp_path / "shuffled.parquet")  # pandas stores the (non-range) index
    shuffled = read_trait_table(tmp_path / "shuffled.parquet", "phenotype")
    assert shuffled.names == ["T1", "T2"] and list(shuffled.ids) == ["s3", "007", "s2"]
    _check(as_trait_table(frame, "phenotype"))  # the library path, from a DataFrame
    picked = read_trait_table(tmp_path / "p.tsv", "phenotype", columns=["T2"])
    assert picked.names == ["T2"] and picked.values.shape == (3, 1)


@pytest.mark.parametrize("text, message", [
    ("FID\tT1\n0\t1\n", "no IID column"),
    ("IID\tT1\tT2\na\t1\tx\n", r"non-numeric column\(s\) \['T2'\]"),
    ("IID\tT1\na\t1\na\t2\n", r"row 2: duplicated IID 'a' in rows \[2, 3\]"),  # file lines, header counted
    ("IID\tT1\tT1\na\t1\t2\n", "appears twice"),
    ("IID\tT1\na\t1\t5\n", "cannot parse the phenotype table"),
    ("", "cannot parse the phenotype table"),
    ("IID\na\n", "no value columns"),
])
def test_bad_tables_name_the_file_and_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.tsv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        read_trait_table(path, "phenotype")
    assert "bad.tsv" in str(info.value)


def test_a_non_numeric_column_points_at_the_right_fix(tmp_path):
    (tmp_path / "t.tsv").write_text("IID\tAGE\tSITE\na\t1\tx\n")
    with pytest.raises(DataError, match="(?s)non-numeric.*fix: choose numeric columns with --pheno-cols"):
        read_trait_table(tmp_path / "t.tsv", "phenotype")
    with pytest.raises(DataError) as info:  # --covar has no column picker: --pheno-cols would not help
        read_trait_table(tmp_path / "t.tsv", "covariate")
    assert "--pheno-cols" not in str(info.value) and "remove the non-numeric ones from the file" in str(info.value)


def test_unknown_columns_and_missing_files(tmp_path):
    (tmp_path / "p.tsv").write_text(TAB)
    with pytest.raises(DataError, match=r"column\(s\) \['zz'\] not in the phenotype table; available: \['T1', 'T2'\]"):
        read_trait_table(tmp_path / "p.tsv", "phenotype", columns=["zz"])
    with pytest.raises(DataError, match=r"picked more than once"):
        read_trait_table(tmp_path / "p.tsv", "phenotype", columns=["T1", "T1"])
    with pytest.raises(DataError, match="IID is the sample-ID column"):
        read_trait_table(tmp_path / "p.tsv", "phenotype", columns=["IID", "T1"])
    with pytest.raises(DataError, match="file not found"):
        read_trait_table(tmp_path / "absent.tsv", "covariate")


def test_sample_id_lists(tmp_path):
    (tmp_path / "ids.txt").write_text("a\nb\n\nc\n")
    assert read_ids(tmp_path / "ids.txt") == ["a", "b", "c"]
    (tmp_path / "pairs.txt").write_text("f1 a\nf2 b\n")
    assert read_ids(tmp_path / "pairs.txt") == ["a", "b"]
    (tmp_path / "table.tsv").write_text("#FID\tIID\tX\nf\ta\t1\nf\tNA\t2\nf\tc\t3\n\tid5\t4\nf\t\t5\n")
    assert read_ids(tmp_path / "table.tsv") == ["a", "c", "id5"]  # an empty FID cell is still a cell


def test_gwas_command_imports_no_pandas_scipy_or_matplotlib(tmp_path):
    """``alignome gwas --no-plots --no-loci`` starts light: its start-up is part of every scan's wall time."""
    _, ids = write_small_fileset(tmp_path)
    prefix = tmp_path / "g"
    pheno = tmp_path / "p.tsv"
    rng = np.random.default_rng(0)
    pheno.write_text("IID\tA\tB\n" + "".join(f"{i}\t{rng.normal():.4f}\t{rng.normal():.4f}\n" for i in ids))
    code = ("import sys; from alignome.cli import app; sys.argv = ['alignome', 'gwas', '--bfile', sys.argv[1], "
            "'--pheno', sys.argv[2], '--no-plots', '--no-loci', '--out', sys.argv[3]]\n"
            "try:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(prefix), str(pheno), str(tmp_path / "o")],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
    assert (tmp_path / "o.multi.tsv").is_file()
