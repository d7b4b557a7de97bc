"""Trait and covariate tables keyed by sample IID: what a scan tests and adjusts for.

A :class:`TraitTable` is the IIDs, the column names and a float64 matrix (NaN missing).
:func:`read_trait_table` reads one from a file with pyarrow (tab-, comma- or
whitespace-separated text, optionally gzipped, or Parquet) and :func:`as_trait_table`
takes a pandas DataFrame (the library API); neither needs pandas for a file, which keeps
``alignome gwas`` quick to start.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alignome.errors import DataError
from alignome.io.fields import check_unique

#: Sample-ID columns (plink2 writes ``#IID``/``#FID`` when the file has no FID / starts with it).
IID_COLUMNS = ("IID", "#IID")
FID_COLUMNS = ("FID", "#FID")
_PARQUET = (".parquet", ".pq")
#: Compressed text tables, by suffix.
_DECOMPRESS = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress}
#: Text read as a missing value: pandas' default list (what users' tables were written for).
NA_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
             "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


@dataclass(frozen=True)
class TraitTable:
    """Values keyed by sample: ``ids`` (str, object array), ``names`` of the columns, ``values`` (n × k float64)."""

    ids: np.ndarray
    names: list[str]
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def to_frame(self):
        """As a pandas DataFrame indexed by ``IID``."""
        import pandas as pd

        return pd.DataFrame(self.values, index=pd.Index(self.ids, name="IID", dtype=object), columns=self.names)


def _checked(ids: np.ndarray, names: list[str], values: np.ndarray, what: str, path: Path | None) -> TraitTable:
    check_unique(ids.tolist(), path, "IID", f"give each sample one row in the {what} table", field="IID",
                 line=lambda row: row + 2 if path is not None else row + 1)  # the header is line 1 of a file
    if not names:
        raise DataError(f"the {what} table has no value columns", file=path,
                        fix=f"give at least one numeric {what} column")
    return TraitTable(ids=ids, names=names, values=values)


def as_trait_table(table, what: str) -> TraitTable:
    """A :class:`TraitTable` of a DataFrame (index = IID, or an ``IID``/``#IID`` column; ``FID`` dropped)."""
    if isinstance(table, TraitTable):
        return _checked(table.ids, table.names, table.values, what, None)
    import pandas as pd

    frame = table.copy()
    for col in IID_COLUMNS:
        if col in frame.columns:
            frame = frame.set_index(col)
            break
    frame = frame.drop(columns=[c for c in FID_COLUMNS if c in frame.columns])
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(f"non-numeric {what} column(s) {bad[:5]}", field=str(bad[0]),
                        fix=f"keep only numeric {what} columns (encode categories as 0/1 columns)")
    ids = np.array([str(i) for i in frame.index], dtype=object)
    return _checked(ids, [str(c) for c in frame.columns], frame.to_numpy(dtype=np.float64), what, None)


def _separator(first_line: bytes) -> str:
    """Tab, comma or whitespace, from the header line (as :func:`alignome.io.tables.read_delimited`)."""
    if b"\t" in first_line and first_line.count(b"\t") >= first_line.count(b","):
        return "\t"
    return "," if b"," in first_line else " "


def _read_arrow(path: Path):
    """The file as an Arrow table, ID columns as text (a Parquet file's pandas index as a column only when it
    is the IID)."""
    import pyarrow as pa

    if path.suffix.lower() in _PARQUET:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        index = (table.schema.pandas_metadata or {}).get("index_columns", [])
        stored = [c for c in index if isinstance(c, str) and c in table.column_names and c not in IID_COLUMNS]
        return table.drop_columns(stored) if stored else table
    from pyarrow import csv

    data = path.read_bytes()
    decompress = _DECOMPRESS.get(path.suffix.lower())
    if decompress is not None:
        data = decompress(data)
    sep = _separator(data.split(b"\n", 1)[0])
    if sep == " ":  # runs of blanks separate; leading and trailing blanks do not
        data = re.sub(rb"[ \t]+", b"\t", re.sub(rb"(?m)^[ \t]+|[ \t]+(?=\r?$)", b"", data))
        sep = "\t"
    text_ids = {c: pa.string() for c in (*IID_COLUMNS, *FID_COLUMNS)}
    return csv.read_csv(pa.BufferReader(data), parse_options=csv.ParseOptions(delimiter=sep),
                        convert_options=csv.ConvertOptions(column_types=text_ids, null_values=NA_VALUES))


def _numeric(column) -> bool:
    import pyarrow as pa

    t = column.type
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t) \
        or pa.types.is_null(t)


def _float_values(column) -> np.ndarray:
    """A numeric Arrow column as float64 NumPy, nulls as NaN (from its buffers: ``to_numpy`` and ``cast`` would
    import pandas and pyarrow.compute, a tenth of a second of start-up)."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n, t = len(array), array.type
    if pa.types.is_null(t):
        return np.full(n, np.nan)
    if not (pa.types.is_floating(t) or pa.types.is_integer(t)) or pa.types.is_float16(t):
        array, t = array.cast(pa.float64()), pa.float64()  # booleans, decimals
    validity, data = array.buffers()
    values = np.frombuffer(data, dtype=t.to_pandas_dtype(), count=array.offset + n)[array.offset:]
    values = values.astype(np.float64)
    if array.null_count:
        valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[array.offset:array.offset + n]
        values[valid == 0] = np.nan
    return values


#: The fix of a non-numeric column, by table: phenotype columns are picked on the command line, covariates are not.
_NON_NUMERIC_FIX = {
    "phenotype": "choose numeric columns with --pheno-cols, or encode categories as 0/1 columns",
    "covariate": "every column of the --covar file but FID/IID is a covariate: remove the non-numeric ones from "
                 "the file, or encode categories as 0/1 columns",
}


def read_trait_table(path: str | Path, what: str, columns: list[str] | None = None) -> TraitTable:
    """Read a table with an ``IID`` (or ``#IID``) column and numeric value columns (``FID`` dropped).

    ``columns`` picks value columns (default: all).  Missing values (``NA``, ``NaN``, empty, …) become NaN.
    """
    import pyarrow as pa

    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path, fix=f"give an existing {what} file")
    try:
        table = _read_arrow(path)
    except (pa.ArrowInvalid, OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot parse the {what} table: {exc}", file=path,
                        fix="write a header line with IID and one column per value") from None
    if table.num_rows == 0:
        raise DataError(f"the {what} table has a header line but no data rows", file=path,
                        fix="write one row per sample below the header")
    names = [str(c) for c in table.column_names]
    iid = next((c for c in IID_COLUMNS if c in names), None)
    if iid is None:
        raise DataError(f"no IID column; columns are {names[:10]}", file=path, field="IID",
                        fix="name the sample-id column IID (as in a plink2 .psam/--pheno file)")
    if len(set(names)) != len(names):
        dup = next(c for c in names if names.count(c) > 1)
        raise DataError(f"column '{dup}' appears twice in the header", file=path, field=dup,
                        fix="give every column its own name")
    value_names = [c for c in names if c != iid and c not in FID_COLUMNS]
    if columns:
        ids = [c for c in columns if c in (*IID_COLUMNS, *FID_COLUMNS)]
        if ids:
            raise DataError(f"{ids[0]} is the sample-ID column, not a value column", file=path, field=ids[0],
                            fix=f"pick value columns of the {what} table; the IDs are matched by themselves")
        missing = [c for c in columns if c not in names]
        if missing:
            raise DataError(f"column(s) {missing} not in the {what} table; available: {value_names[:20]}",
                            file=path, field=missing[0], fix="pick columns from the table's header")
        repeated = sorted({c for c in columns if list(columns).count(c) > 1})
        if repeated:
            raise DataError(f"column(s) {repeated} picked more than once", file=path, field=repeated[0],
                            fix="name each column once")
        value_names = list(columns)
    bad = [c for c in value_names if not _numeric(table.column(c))]
    if bad:
        fix = _NON_NUMERIC_FIX.get(what, "keep only numeric columns, encoding categories as 0/1 columns")
        raise DataError(f"non-numeric column(s) {bad[:5]}", file=path, field=bad[0], fix=fix)
    id_column = table.column(iid)
    if id_column.null_count:
        raise DataError(f"{id_column.null_count} row(s) without an IID", file=path, field=iid,
                        fix="give every row a sample ID")
    ids = np.array([str(i) for i in id_column.to_pylist()], dtype=object)
    values = np.empty((len(ids), len(value_names)), dtype=np.float64)
    for j, name in enumerate(value_names):
        values[:, j] = _float_values(table.column(name))
    return _checked(ids, value_names, values, what, path)


def read_ids(path: str | Path) -> list[str]:
    """Sample IDs: one per line, or a table with an IID column (FID/IID pairs use IID).

    Tab-separated lines are split on tabs (an empty cell stays a cell), others on blanks; missing IDs
    (``NA``, empty, …) are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path, fix="give a file of sample IDs")
    text = path.read_text()
    split = (lambda line: line.rstrip("\r").split("\t")) if "\t" in text.split("\n", 1)[0] else str.split
    lines = [[cell.strip() for cell in split(ln)] for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    head = [h.lstrip("#") for h in lines[0]]
    if "IID" in head:
        col = head.index("IID")
        return [parts[col] for parts in lines[1:] if len(parts) > col and parts[col] not in NA_VALUES]
    return [parts[1] if len(parts) == 2 else parts[0] for parts in lines]
