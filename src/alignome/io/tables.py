"""Read user tables (CSV, TSV, whitespace text, Parquet) into alignome's column names.

Text tables are read with every value as a string so that identifiers keep
their leading zeros and a bad number can be reported with its row; numeric
columns are converted explicitly with :func:`numeric`.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alignome.errors import DataError

_PARQUET = (".parquet", ".pq")


@dataclass
class Table:
    """A table read from ``path`` whose mapped columns carry alignome's names.

    Attributes
    ----------
    frame
        The data. Columns named in the mapping are renamed to alignome's names;
        all other columns keep the user's names. The index is the 0-based line
        of the file, the header being line 0: ``index + 1`` is the 1-based line an
        editor shows (the ``row`` of a :class:`~alignome.errors.DataError`), exact
        where the file has no blank lines; for Parquet, the data row + 1.
    path
        The file read.
    section
        The recipe data section it came from (``visits``, ``volumes``, ...).
    names
        alignome name -> the user's column name, for every mapped column present.
    """

    frame: pd.DataFrame
    path: Path
    section: str
    names: dict[str, str]

    def user(self, name: str) -> str:
        """The user's column name for alignome's ``name`` (for messages)."""
        return self.names.get(name, name)

    def has(self, name: str) -> bool:
        """Whether alignome's column ``name`` is present."""
        return name in self.frame.columns


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zst"):
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _sniff_separator(path: Path) -> str:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", errors="replace") as handle:  # type: ignore[operator]
        first = handle.readline()
    if "\t" in first and first.count("\t") >= first.count(","):
        return "\t"
    if "," in first:
        return ","
    return r"\s+"


def read_delimited(path: str | Path, **read_csv_args) -> pd.DataFrame:
    """A tab-, comma- or whitespace-separated text table (separator sniffed from the first line), C parser.

    Unlike pandas' own sniffing (``sep=None``), a one-column file stays one column.
    """
    path = Path(path)
    return pd.read_csv(path, sep=_sniff_separator(path), **read_csv_args)


def read_raw(path: Path, section: str) -> pd.DataFrame:
    """Read a table file as it is (text values as strings).

    Parameters
    ----------
    path
        CSV (``.csv``), tab-separated (``.tsv``/``.txt`` or sniffed),
        whitespace-separated (sniffed) or Parquet (``.parquet``/``.pq``) file,
        optionally gzip-compressed.
    section
        Recipe data section, used in error messages.

    Returns
    -------
    pandas.DataFrame
        Indexed by the 0-based line of the file (the header is line 0, the first data row line 1),
        column names stripped.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            "file not found",
            file=path,
            field=section,
            fix=f"check the path given in the recipe's data section ({section}); relative paths are relative to the recipe file",
        )
    ext = _suffix(path)
    try:
        if ext in _PARQUET:
            frame = pd.read_parquet(path)
        else:
            sep = "," if ext == ".csv" else "\t" if ext in (".tsv", ".txt", ".tab") else _sniff_separator(path)
            frame = pd.read_csv(path, sep=sep, dtype=str, skipinitialspace=True, engine="python" if sep == r"\s+" else "c")
    except DataError:
        raise
    except Exception as exc:  # parser errors of many kinds
        raise DataError(
            f"could not be read as a table: {exc}",
            file=path,
            field=section,
            fix="give a CSV, TSV or Parquet file with one header line",
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataError("the table has no data rows", file=path, field=section, fix="check that the file is the right one")
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def read_table(
    path: Path,
    section: str,
    columns: dict[str, str],
    required: list[str],
    optional: list[str] = (),  # type: ignore[assignment]
    id_columns: tuple[str, ...] = ("subject",),
    options: dict[str, str] | None = None,
) -> Table:
    """Read a table and rename the user's columns to alignome's names.

    Parameters
    ----------
    path
        The table file.
    section
        Recipe data section (``visits``, ``volumes``, ...), for messages.
    columns
        alignome name -> user column (the recipe's ``columns`` mapping).
        A name not in the mapping is looked up under its own name.
    required
        alignome names that must be present.
    optional
        alignome names used when present; an explicitly mapped optional
        column must exist.
    id_columns
        alignome names read as stripped strings (empty -> missing).
    options
        alignome name -> the command-line option that names its column (e.g. ``--snp-field``), for a
        table given on the command line: the fix of a missing column suggests it instead of the recipe's
        ``columns:`` mapping.

    Returns
    -------
    Table
    """
    path = Path(path)
    known = list(required) + list(optional)
    unknown = sorted(set(columns) - set(known))
    if unknown:
        raise DataError(
            f"unknown alignome column name(s) {unknown} in the columns mapping",
            file=path,
            field=f"{section}.columns",
            fix=f"keys of 'columns' are alignome's names, one of {known}; values are your column names",
        )
    frame = read_raw(path, section)
    available = list(frame.columns)
    names: dict[str, str] = {}
    for name in known:
        user = columns.get(name, name)
        if user in frame.columns:
            names[name] = user
        elif name in required or name in columns:
            raise DataError(
                f"missing column '{user}'" + (f" (alignome's '{name}')" if user != name else "")
                + f"; available columns: {available}",
                file=path,
                field=user,
                fix=f"name your column with `{options[name]} <your column>`" if name in (options or {})
                else f"set `columns: {{{name}: <your column>}}` in the recipe's data section ({section})",
            )
    shadowed = [n for n, u in names.items() if n != u and n in frame.columns and n not in names.values()]
    frame = frame.drop(columns=shadowed)
    frame = frame.rename(columns={u: n for n, u in names.items()})
    for name in id_columns:
        if name in frame.columns:
            frame[name] = as_id(frame[name])
    return Table(frame=frame, path=path, section=section, names=names)


def as_id(series: pd.Series) -> pd.Series:
    """Identifiers as stripped strings; integral floats lose their ``.0``; empty -> NA."""
    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return text or None

    return pd.Series([one(v) for v in series], index=series.index, dtype=object)


def numeric(table: Table, name: str, frame: pd.DataFrame | None = None, fix: str | None = None) -> pd.Series:
    """Column ``name`` as float, or a :class:`DataError` naming the first bad row.

    Parameters
    ----------
    table
        The table (for file and column names).
    name
        alignome (or user) column name in ``table.frame``.
    frame
        A row subset of ``table.frame`` to convert instead of all of it.
    fix
        The fix to suggest (default: correct the value or leave the cell empty, for a column where a missing
        value is allowed).
    """
    frame = table.frame if frame is None else frame
    raw = frame[name]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = values.isna() & raw.notna()
    if bad.any():
        position = bad.to_numpy().nonzero()[0][0]
        label = raw.index[position]
        raise DataError(
            f"non-numeric value '{raw.iloc[position]}' in numeric column '{table.user(name)}'"
            f" ({int(bad.sum())} such value(s) in all)",
            file=table.path,
            field=table.user(name),
            row=int(label) + 1,
            fix=fix or "correct the value, or leave the cell empty (or NA) for a missing value",
        )
    return values
