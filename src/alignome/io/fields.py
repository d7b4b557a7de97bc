"""Columns of PLINK-style whitespace-separated text, read without a Python object per cell.

A ``.bim`` or an association report of millions of lines is read column by column: a
:class:`Strings` keeps the file's bytes and the ``[start, end)`` span of each row's field,
numbers are parsed from the spans (:func:`parse_numbers`) and the rows of one column are
found in another by hashing (:meth:`Strings.index`); Python strings are made only for the
rows asked for. :func:`read_columns` gives small files (a ``.fam``) as lists of str.
The C kernel ``alignome.genetics._bedscore`` (``fields``, ``numbers``, ``match``,
``text_columns``; loaded by name, :func:`bed_kernel`) does the work where it is built;
otherwise the standard library and NumPy give the same results. Importing this module
imports no NumPy: with the kernel, ``alignome variants clump`` runs without it.
"""

from __future__ import annotations

import re
from array import array
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from alignome._native import optional_extension
from alignome.io.plink_files import PLINK_FIX
from alignome.errors import DataError

_DECIMAL = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(rb"[+-]?[0-9]+")


@lru_cache(maxsize=1)
def _extension():
    return optional_extension("alignome.genetics._bedscore")


def bed_kernel():
    """The C kernels (``alignome.genetics._bedscore``), or None where the optional extension was not built (tests
    replace this function to run the fallbacks)."""
    return _extension()


def _int64s(n: int) -> array:
    return array("q", bytes(8 * n))


class Strings:
    """A column of text: UTF-8 ``data`` and the ``[start, end)`` byte span of each row.

    Parameters
    ----------
    data
        The bytes the spans point into.
    spans
        Any buffer of int64, ``start, end`` per row (e.g. an ``(n, 2)`` NumPy array).
    longest, tokens
        The longest row in bytes and the rows as bytes, where known.
    """

    __slots__ = ("data", "spans", "_longest", "_tokens")

    def __init__(self, data: bytes, spans, longest: int | None = None, tokens: list[bytes] | None = None) -> None:
        self.data = data
        view = memoryview(spans)
        if view.format != "q" or view.ndim != 1:
            view = view.cast("B").cast("q") if view.nbytes else memoryview(array("q"))
        self.spans = view
        self._longest = longest
        self._tokens = tokens

    @classmethod
    def from_list(cls, values: list[str]) -> Strings:
        """The column of a list of str."""
        text = "\n".join(values)
        data = text.encode()
        lengths = list(map(len, values)) if len(data) == len(text) else [len(v.encode()) for v in values]
        spans = array("q", bytes(16 * len(values)))
        ends = list(accumulate(n + 1 for n in lengths))
        spans[1::2] = array("q", (e - 1 for e in ends))
        spans[0::2] = array("q", (e - 1 - n for e, n in zip(ends, lengths)))
        return cls(data, spans, max(lengths, default=0))

    def __len__(self) -> int:
        return len(self.spans) // 2

    def __getitem__(self, row: int) -> str:
        return self.data[self.spans[2 * row]:self.spans[2 * row + 1]].decode()

    def rows_from(self, first: int) -> Strings:
        """The rows from ``first`` on (e.g. without a header line)."""
        return Strings(self.data, self.spans[2 * first:], tokens=None if self._tokens is None else self._tokens[first:])

    def take(self, rows) -> list[str]:
        """The rows ``rows`` (ints) as str."""
        data, spans = self.data, self.spans
        return [data[spans[2 * r]:spans[2 * r + 1]].decode() for r in rows]

    def tolist(self) -> list[str]:
        """Every row as str."""
        return self.take(range(len(self)))

    def tokens(self) -> list[bytes]:
        """Every row as bytes."""
        if self._tokens is None:
            data = self.data
            self._tokens = [data[s:e] for s, e in zip(self.spans[0::2].tolist(), self.spans[1::2].tolist())]
        return self._tokens

    def longest(self) -> int:
        """Bytes of the longest row."""
        if self._longest is None:
            spans = self.spans
            self._longest = max((e - s for s, e in zip(spans[0::2], spans[1::2])), default=0)
        return self._longest

    def index(self, keys: Strings) -> tuple[array, int]:
        """Where ``keys`` are: for each of its rows the first row here with the same text (int64, -1 where none),
        and the first row here that repeats an earlier one (-1 when the rows are distinct)."""
        kernel = bed_kernel()
        if kernel is not None:
            out = _int64s(len(keys))
            return out, int(kernel.match(self.data, self.spans, keys.data, keys.spans, out))
        rows = self.tokens()
        first = dict(zip(reversed(rows), range(len(rows) - 1, -1, -1)))  # the first row of each text wins
        repeat = -1 if len(first) == len(rows) else next(i for i, t in enumerate(rows) if first[t] != i)
        get = first.get
        return array("q", [get(t, -1) for t in keys.tokens()]), repeat

    def first_rows(self) -> array:
        """For each row, the first row with the same text (a row is repeated where this is not itself)."""
        return self.index(self)[0]


def read_fields(data: bytes, count: int, wanted: tuple[int, ...]) -> list[Strings] | None:
    """Columns ``wanted`` (0-based) of a text whose non-blank lines all hold ``count`` whitespace-separated fields.

    None where a non-blank line holds another number of fields or a byte is not printable ASCII: the caller
    then reads the text another way (to name the row, or to split non-ASCII text as ``str.split`` does).
    """
    kernel = bed_kernel()
    if kernel is not None and max(wanted) < 256:  # field numbers go to the kernel as bytes
        found = kernel.fields(data, count, bytes(wanted))
        if found is None:
            return None
        raw, rows, longest = found
        view, size = memoryview(raw).cast("q"), len(raw) // 8 // len(wanted)
        return [Strings(data, view[j * size:j * size + 2 * rows], longest[j]) for j in range(len(wanted))]
    spans = _field_spans(data, count)
    if spans is None:
        return None
    import numpy as np

    tokens = data.split()  # every line holds `count` fields: field j of each line is tokens[j::count]
    return [Strings(data, np.ascontiguousarray(spans[:, j]), int(np.diff(spans[:, j]).max(initial=0)),
                    tokens[j::count]) for j in wanted]


#: The bytes that separate fields (ASCII whitespace, as bytes.split() splits), and those of plain ASCII text.
_BLANK = bytes(b in (9, 10, 11, 12, 13, 32) for b in range(256))
_TEXT = bytes(b in (9, 10, 11, 12, 13) or 32 <= b < 127 for b in range(256))


def _field_spans(data: bytes, count: int):
    """The kernel's ``fields`` in NumPy: the spans of all ``count`` fields of every non-blank line,
    ``(lines, count, 2)``; None as there."""
    import numpy as np

    b = np.frombuffer(data, dtype=np.uint8)
    if np.bincount(b, minlength=256)[~np.frombuffer(_TEXT, dtype=bool)].any():
        return None
    blank = np.ones(b.size + 2, dtype=bool)
    blank[1:-1] = (b == 32) | (b - np.uint8(9) <= 4)  # space, or \t … \r (uint8: bytes below 9 wrap around)
    starts = np.flatnonzero(blank[:-1] & ~blank[1:])  # a field starts at byte i
    ends = np.flatnonzero(~blank[:-1] & blank[1:])  # and ends before byte i
    line = np.searchsorted(np.flatnonzero(b == 10), starts)  # the line each field starts on
    per_line = np.bincount(line) if line.size else line
    if ((per_line != 0) & (per_line != count)).any():
        return None
    return np.stack([starts, ends], axis=1).reshape(-1, count, 2).astype(np.int64)


def parse_numbers(column: Strings, decimal: bool, low: float = float("-inf"),
                  high: float = float("inf")) -> tuple[array, int]:
    """The rows of ``column`` as numbers (meaningful where all are) and the first row that is not one (-1 when all
    are).

    ``decimal``: float64 of ``[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`` (correctly rounded, as
    ``strtod`` and ``float`` read it), within ``[low, high]``; else int64 of ``[+-]?digits`` (out of range:
    not a number).
    """
    kernel = bed_kernel()
    if kernel is not None:
        out = array("d", bytes(8 * len(column))) if decimal else _int64s(len(column))
        return out, int(kernel.numbers(column.data, column.spans, decimal, out, low, high))
    tokens = column.tokens()
    pattern, kind, convert = (_DECIMAL, "d", float) if decimal else (_INTEGER, "q", int)
    try:  # over these bytes, float() and int() read exactly what the patterns match
        if b"".join(tokens).translate(None, b"0123456789+-.eE" if decimal else b"0123456789+-"):
            raise ValueError
        values = list(map(convert, tokens))
    except ValueError:  # name the first row that is not a number
        return array(kind), next(r for r, t in enumerate(tokens) if not pattern.fullmatch(t))
    inside = (lambda v: low <= v <= high) if decimal else (lambda v: -(2**63) <= v < 2**63)
    if values and not (inside(min(values)) and inside(max(values))):
        return array(kind), next(r for r, v in enumerate(values) if not inside(v))
    return array(kind, values), -1


# --------------------------------------------------------------------------
# Small PLINK text files as lists of str
# --------------------------------------------------------------------------

def read_columns(path: Path, count: int, what: str) -> list[list[str]]:
    """The ``count`` whitespace-separated columns of a PLINK text file (blank lines skipped), as lists of str.

    The kernel's ``text_columns`` splits plain ASCII text; anything else (or a row of another width, to
    name it) is split here, as ``str.split`` does.
    """
    data = path.read_bytes()
    kernel = bed_kernel()
    columns = kernel.text_columns(data, count) if kernel is not None else None
    if columns is not None and columns[0]:
        return columns
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc})", file=path, fix=PLINK_FIX) from None
    tokens = text.split()
    if not tokens:
        raise DataError(f"empty {what} file", file=path, fix=PLINK_FIX)
    if len(tokens) % count == 0:
        import numpy as np

        # Tokens per line from the bytes (a token starts at a non-blank byte after a blank or a line start).
        b = np.frombuffer(data, dtype=np.uint8)
        blank = np.concatenate(([True], np.frombuffer(_BLANK, dtype=bool)[b]))
        start = blank[:-1] > blank[1:]  # a token starts at byte i
        lines = np.flatnonzero(b == 10) + 1
        lines = np.concatenate(([0], lines[lines < b.size]))  # first byte of each line
        per_line = np.add.reduceat(start.view(np.uint8), lines, dtype=np.int64)
        if int(per_line.sum()) == len(tokens) and ((per_line == 0) | (per_line == count)).all():
            return [tokens[i::count] for i in range(count)]
    rows = [line.split() for line in text.split("\n")]  # something is off: find the line to name
    for number, row in enumerate(rows, start=1):
        if row and len(row) != count:
            raise DataError(f"expected {count} whitespace-separated columns, found {len(row)}", file=path,
                            row=number, fix=PLINK_FIX)
    rows = [r for r in rows if r]
    return [list(column) for column in zip(*rows)]


def file_line(path: Path | None, row: int, header: int = 0) -> int:
    """The 1-based line of ``path`` (what an editor shows) that holds the 0-based data ``row``: the ``row``-th
    non-blank line after ``header`` lines. Without a readable text file (None), ``row + 1 + header``."""
    if path is not None:
        with open(path, "rb") as handle:
            seen = -1
            for number, line in enumerate(handle, start=1):
                if number > header and line.strip():
                    seen += 1
                    if seen == row:
                        return number
    return row + 1 + header


def check_unique(ids: list[str], path: Path | None, what: str, fix: str, field: str | None = None,
                 line=None) -> None:
    """Raise :class:`DataError` naming the first repeated id and its rows (file lines).

    ``line`` maps a 0-based row of ``ids`` to the line reported (default: :func:`file_line` of ``path``, a
    PLINK text file without a header).
    """
    if len(set(ids)) == len(ids):
        return
    line = line or (lambda row: file_line(path, row))
    seen: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value in seen:
            rows = [line(j) for j in [j for j, v in enumerate(ids) if v == value][:5]]
            raise DataError(f"duplicated {what} '{value}' in rows {rows}", file=path, field=field, row=rows[0],
                            fix=fix)
        seen[value] = i
