"""Result rows as text, as plink2 writes them: tab-separated, floats in ``%.6g``, NaN as ``NA``.

:func:`format_rows` turns a block of result columns into the bytes of its TSV rows.  The C
extension ``alignome.gwas._tsv`` formats them outside the GIL (so the writing threads run beside
the block workers); without it the same text comes from Python's ``"%.6g"``.
"""

from __future__ import annotations

from typing import Union

import numpy as np
import pyarrow as pa

from alignome._native import optional_extension
from alignome.gwas.arrow_arrays import texts

#: One column of :func:`format_rows`: text repeated on every row, Arrow strings or int64, or NumPy numbers.
Column = Union[bytes, pa.Array, np.ndarray]

_kernel = optional_extension("alignome.gwas._tsv")


def _prepared(column: Column, count: int):
    """``column`` as the kernel takes it: bytes, ``(data, int64 offsets)`` of strings, or float64/int64 values."""
    if isinstance(column, bytes):
        return column
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if column.null_count:
            raise ValueError("a text column of result rows has missing values")
        if pa.types.is_int64(column.type):
            return np.frombuffer(column.buffers()[1], dtype=np.int64)[column.offset: column.offset + count]
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = column.cast(pa.string())
        _, offsets, data = column.buffers()
        width = np.int32 if pa.types.is_string(column.type) else np.int64
        offsets = np.frombuffer(offsets, dtype=width)[column.offset: column.offset + count + 1].astype(np.int64)
        return (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8), offsets)
    values = np.asarray(column)
    if values.dtype == object or values.dtype.kind in "US":
        distinct = set(values.tolist())
        if len(distinct) == 1:
            return str(next(iter(distinct))).encode()
        return _prepared(texts(values.tolist()), count)
    if values.dtype.kind in "iub":
        return np.ascontiguousarray(values, dtype=np.int64)
    return np.ascontiguousarray(values, dtype=np.float64)


def _python_rows(columns: list, count: int) -> bytes:
    """:func:`format_rows` without the kernel (same bytes)."""
    fields = []
    for column in columns:
        if isinstance(column, bytes):
            fields.append([column.decode()] * count)
        elif isinstance(column, tuple):
            data, offsets = column
            raw = data.tobytes()
            fields.append([raw[offsets[i]:offsets[i + 1]].decode() for i in range(count)])
        elif column.dtype == np.float64:
            fields.append(["NA" if v != v else "%.6g" % v for v in column.tolist()])
        else:
            fields.append([str(v) for v in column.tolist()])
    return "".join("\t".join(row) + "\n" for row in zip(*fields)).encode()


def format_rows(columns: list[Column], count: int, use_kernel: bool = True) -> bytes:
    """The ``count`` rows of ``columns`` as tab-separated text (floats ``%.6g``, NaN ``NA``), one line each."""
    prepared = [_prepared(c, count) for c in columns]
    if _kernel is not None and use_kernel:
        return _kernel.rows(tuple(prepared), count)
    return _python_rows(prepared, count)


def header(names: list[str]) -> bytes:
    """The header line of the given column names."""
    return ("\t".join(names) + "\n").encode()
