"""IDX files written here byte by byte, read back (plain and gzip) and refused when damaged."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from alignome.errors import DataError
from alignome.io.idx import read_idx


def idx_bytes(values: np.ndarray, code: int, big_endian: str) -> bytes:
    header = bytes([0, 0, code, values.ndim]) + b"".join(struct.pack(">I", d) for d in values.shape)
    return header + values.astype(big_endian).tobytes()


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_returns_the_written_array(tmp_path, compress):
    values = np.arange(2 * 3 * 4, dtype=np.int32).reshape(2, 3, 4) * 1000 - 7000
    raw = idx_bytes(values, 0x0C, ">i4")
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    got = read_idx(path)
    assert got.shape == (2, 3, 4) and got.dtype.isnative
    np.testing.assert_array_equal(got, values)


def test_read_idx_refuses_a_size_that_disagrees_with_the_header(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(idx_bytes(np.zeros((3, 2), dtype=np.uint8), 0x08, ">u1")[:-1])
    with pytest.raises(DataError, match="announces shape"):
        read_idx(path)


def test_read_idx_refuses_a_file_of_another_format(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)
