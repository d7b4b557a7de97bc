"""NumPy and Python values as Arrow arrays, built from their buffers.

``pyarrow.array`` imports pandas on its first call (to look for pandas types), which costs
``alignome gwas`` 0.1–0.2 s of start-up; these builders hand Arrow the buffers directly.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def numbers(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A numeric NumPy vector as Arrow, null where ``missing``."""
    values = np.ascontiguousarray(values)
    if values.ndim != 1 or values.dtype.kind not in "iuf":
        raise TypeError(f"expected a 1-D numeric array, got {values.dtype} of shape {values.shape}")
    validity = None
    if missing is not None and missing.any():
        validity = pa.py_buffer(np.packbits(~np.asarray(missing, dtype=bool), bitorder="little"))
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [validity, pa.py_buffer(values)])


def _strings(n: int, offsets: np.ndarray, data: bytes) -> pa.Array:
    """Arrow strings from int64 offsets: ``string`` (int32 offsets, what pyarrow makes of Python strings) while
    the text fits, ``large_string`` beyond 2 GiB."""
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)])
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def texts(values) -> pa.Array:
    """Values as Arrow strings (``str()`` of each; None is not allowed)."""
    strings = values if isinstance(values, list) else list(values)
    try:
        joined = "".join(strings)
    except TypeError:  # not all str
        strings = [str(v) for v in strings]
        joined = "".join(strings)
    data = joined.encode()
    if len(data) == len(joined):  # ASCII: a string's bytes are its characters
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    else:
        encoded = [v.encode() for v in strings]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return _strings(len(strings), offsets, data)


def repeated(text: str, n: int) -> pa.Array:
    """``n`` copies of ``text`` as Arrow strings, without ``n`` Python strings."""
    encoded = text.encode()
    return _strings(n, np.arange(n + 1, dtype=np.int64) * len(encoded), encoded * n)


def column(values) -> pa.Array:
    """One result column: numbers (NaN → null) or text (object/str arrays)."""
    values = np.asarray(values)
    if values.dtype == object or values.dtype.kind in "US":
        return texts(values.tolist())
    if values.dtype.kind == "f":
        return numbers(values, np.isnan(values))
    if values.dtype.kind == "b":
        return numbers(values.astype(np.int8))  # 0/1
    return numbers(values)
