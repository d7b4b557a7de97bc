"""The IDX format of MNIST and EMNIST (plain or gzip-compressed).

An IDX file is two zero bytes, a type code, the number of dimensions, each dimension as a
big-endian uint32, then the values in C order, big-endian.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from alignome.errors import DataError

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IDX_FIX = "give an IDX file as distributed with (E)MNIST, e.g. emnist-byclass-train-images-idx3-ubyte.gz"


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (gzip detected by its magic bytes), in native byte order.

    Raises
    ------
    DataError
        The file is missing, not IDX, or its size disagrees with its header.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path, fix=IDX_FIX)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataError(f"the gzip stream is damaged ({error})", file=path, fix=IDX_FIX) from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in IDX_TYPES:
        raise DataError("not an IDX file (the first bytes are not 0, 0, a type code, dimensions)",
                        file=path, fix=IDX_FIX)
    dtype, ndim = np.dtype(IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"the header announces {ndim} dimensions but the file ends before them",
                        file=path, fix=IDX_FIX)
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"the header announces shape {shape} ({expected} bytes) but the data hold {len(raw)}",
                        file=path, fix=IDX_FIX)
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))
