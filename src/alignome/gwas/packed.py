"""Genotypes kept as PLINK ``.bed`` bytes (2 bits per call) until a consumer needs them.

A ``.bed`` byte holds the calls of four consecutive samples, sample ``4i + k`` in bits
``2k … 2k+1``: 00 → 2, 01 → missing, 10 → 1, 11 → 0 copies of A1 (bed-reader's
``count_A1=True``, as PLINK counts).  :func:`decode_packed` turns bytes into bed-reader's
float64 array; :class:`PackedBlock` serves the products the association tests need straight
from the bytes — through the C kernel ``alignome.gwas._packed`` when it is built (it skips decoding
to floats and the BLAS product; ``benchmarks/gwas_vs_plink2.py`` times both), else through NumPy, with the same results.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise

import numpy as np

from alignome._native import optional_extension

CODE_VALUES = np.array([2.0, np.nan, 1.0, 0.0])
_TILE = 16  # the C kernel's column tile (W's columns are padded to a multiple of it)


@lru_cache(maxsize=1)
def _byte_table() -> np.ndarray:
    """The four float64 genotypes of every .bed byte (samples 4i … 4i+3), as 32-byte records for ``np.take``."""
    codes = (np.arange(256)[:, None] >> (2 * np.arange(4))[None, :]) & 3
    return np.ascontiguousarray(CODE_VALUES[codes]).view("V32").ravel()


@lru_cache(maxsize=1)
def _kernel():
    """The compiled kernel module, or None where the optional extension was not built."""
    return optional_extension("alignome.gwas._packed")


def kernel_available() -> bool:
    """Whether products of packed genotypes run in the compiled kernel (else NumPy)."""
    return _kernel() is not None


def decode_packed(raw: np.ndarray, n: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Genotypes (float64, NaN missing; column-major n×m, or rows×m) of packed ``.bed`` bytes (m, ⌈n/4⌉).

    Equal to bed-reader's float64 decoding (A1 counted), one table lookup per byte.
    """
    m, width = raw.shape
    if rows is not None and not (rows.size == n and (rows == np.arange(n)).all()):
        # a subset (or reordering) of samples: gather their bytes, then one lookup per 2-bit code
        rows = np.asarray(rows, dtype=np.intp)
        codes = (np.take(raw, rows >> 2, axis=1) >> (2 * (rows & 3)).astype(np.uint8)) & 3
        return np.take(CODE_VALUES, codes).T  # (m, rows) C order → F order, as bed-reader gives it
    full = np.take(_byte_table(), raw).view(np.float64).reshape(m, 4 * width)  # (m, 4·width), C order
    if 4 * width != n:
        full = np.ascontiguousarray(full[:, :n])
    return full.T


_SMALL_GEMM = 1_000_000  # chunks stay above OpenBLAS's small-matrix threshold (M·N·K ≤ 100³), as whole blocks do


class PackedBlock:
    """Variants of a ``.bed`` (bytes ``raw``, (m, ⌈n/4⌉)) for sample ``rows`` of its n, still packed.

    :meth:`cross` gives ``W @ G₀`` and Σ G₀² per variant (G₀: missing calls set to 0) and
    :meth:`missing_entries` where the missing calls are — what the rank-k downdate of the
    association tests (:func:`alignome.gwas._linalg.drop_downdate`) needs — without decoding
    the block; anything else calls :meth:`dense` (or ``np.asarray``), bed-reader's float64
    array.  Sums of squares are exact integers; products agree with a BLAS product of the
    decoded block to rounding (≲1e-12 relative, as changing ``block_size`` does).
    """

    def __init__(self, raw: np.ndarray, n: int, rows: np.ndarray | None = None):
        if rows is not None and rows.size == n and (rows == np.arange(n)).all():
            rows = None
        self.raw, self.n = raw, n
        self.rows = None if rows is None else np.asarray(rows, dtype=np.intp)
        self.shape = (n if self.rows is None else self.rows.size, raw.shape[0])
        self._dense: np.ndarray | None = None
        self._missing: tuple[np.ndarray, np.ndarray] | None = None

    def dense(self) -> np.ndarray:
        """The decoded block (float64, NaN missing, column-major), as :func:`read_block` returns it."""
        if self._dense is None:
            self._dense = decode_packed(self.raw, self.n, self.rows)
        return self._dense

    def __array__(self, dtype=None, copy=None):
        out = self.dense()
        return out if dtype is None else out.astype(dtype, copy=False)

    def take_rows(self, keep: np.ndarray) -> PackedBlock:
        """The same variants for the selected samples ``keep`` (a boolean mask or indices of this block's rows)."""
        selected = np.arange(self.n) if self.rows is None else self.rows
        return PackedBlock(self.raw, self.n, selected[keep])

    def zero_filled(self, columns: np.ndarray) -> np.ndarray:
        """Decoded variants ``columns`` with missing calls as 0 (G₀)."""
        return np.nan_to_num(decode_packed(self.raw[columns], self.n, self.rows), nan=0.0)

    def complete(self) -> bool:
        """True when no selected sample has a missing call (code 01) in this block."""
        return not self.missing_entries()[0].size

    def _missing_bits(self) -> np.ndarray:
        """(m, ⌈n/4⌉) bytes with bit 2k set where sample 4i + k's call is missing (padding calls cleared)."""
        raw = self.raw
        miss = (raw & ~(raw >> 1)) & 0x55  # low bit set, high bit clear
        if self.n % 4 and miss.size:
            miss[:, -1] &= (1 << (2 * (self.n % 4))) - 1  # padding calls of the last byte are not samples
        return miss

    def missing_entries(self) -> tuple[np.ndarray, np.ndarray]:
        """``(columns, rows)`` of the missing calls, grouped by variant, rows ascending within one.

        Rows are positions in this block's sample order; the same entries as
        ``np.nonzero(np.isnan(self.dense()).T)``, found from the bytes that hold a missing call.
        """
        if self._missing is None:
            self._missing = self._find_missing()
        return self._missing

    def _find_missing(self) -> tuple[np.ndarray, np.ndarray]:
        miss = self._missing_bits()
        if not miss.any():  # the common case: one reduction instead of np.nonzero
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        var, byte = np.nonzero(miss)
        bits = miss[var, byte]
        cols, rows = [], []
        for k in range(4):
            hit = (bits >> (2 * k)) & 1 == 1
            cols.append(var[hit])
            rows.append(4 * byte[hit] + k)
        cols, rows = np.concatenate(cols), np.concatenate(rows)
        if self.rows is not None:  # .fam index → position among the selected samples (−1: not selected)
            position = np.full(4 * self.raw.shape[1], -1, dtype=np.intp)
            position[self.rows] = np.arange(self.rows.size)
            rows = position[rows]
            cols = cols[rows >= 0]
            rows = rows[rows >= 0]
        order = np.lexsort((rows, cols))
        return cols[order], rows[order]

    def cross(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(w @ G₀, Σ G₀²)`` per variant, G₀ the block with missing calls set to 0; ``w`` is (P, rows)."""
        w = np.asarray(w, dtype=np.float64)
        kernel = _kernel()
        if kernel is not None and (self.rows is None or np.unique(self.rows).size == self.rows.size):
            return self._cross_kernel(kernel, w)
        if self.rows is None and self.complete():
            return self._cross_chunked(w)
        g0 = np.nan_to_num(self.dense(), nan=0.0)
        return w @ g0, np.einsum("ij,ij->j", g0, g0)

    def _cross_kernel(self, kernel, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m, width = self.raw.shape
        p = w.shape[0]
        ppad = -(-p // _TILE) * _TILE
        wt = np.zeros((4 * width, ppad))  # W's rows scattered to .fam order; unselected samples weigh 0
        mask = np.zeros(4 * width, dtype=np.uint8)
        selected = slice(0, self.n) if self.rows is None else self.rows
        wt[selected, :p] = w.T
        mask[selected] = 1
        out = np.empty((m, ppad))
        sumsq = np.empty(m)
        kernel.cross(np.ascontiguousarray(self.raw), wt, mask, out, sumsq, m, width, ppad)
        return out[:, :p].T, sumsq

    def _cross_chunked(self, w: np.ndarray, chunk_bytes: int = 1 << 21) -> tuple[np.ndarray, np.ndarray]:
        """NumPy path for a complete block of all samples: decode a cache-sized chunk at a time."""
        n_rows, m = self.shape
        out = np.empty((w.shape[0], m))
        # Chunks of ~chunk_bytes of float64, never so thin that BLAS switches to its small-matrix kernel
        # (OpenBLAS: M·N·K ≤ 100³); a short tail joins the chunk before it.
        thin = _SMALL_GEMM // max(w.shape[0] * n_rows, 1) + 1
        step = max(8, thin, chunk_bytes // (8 * max(n_rows, 1)))
        bounds = list(range(0, m, step))
        if len(bounds) > 1 and m - bounds[-1] < step:
            bounds.pop()
        bounds.append(m)
        width = self.raw.shape[1]
        table = _byte_table()
        longest = max((e - s for s, e in pairwise(bounds)), default=0)
        buf = np.empty((longest, width), dtype=table.dtype)
        for s, e in pairwise(bounds):
            part = np.take(table, self.raw[s:e], out=buf[: e - s], mode="clip").view(np.float64)  # unbuffered
            g = part.reshape(e - s, 4 * width)[:, : self.n].T
            out[:, s:e] = w @ (np.asfortranarray(g) if 4 * width != self.n else g)
        # Σ g² of 0/1/2 calls from the bytes (an exact integer, as the float sum is): no pass over the floats
        sumsq = np.zeros(m)
        if m:
            tail = self.n - 4 * (width - 1)  # calls in the last byte (the rest is padding)
            sumsq[:] = np.take(_square_table(), self.raw[:, : width - 1], mode="clip").sum(axis=1, dtype=np.uint32)
            sumsq += _square_table(tail)[self.raw[:, width - 1]]
        return out, sumsq


@lru_cache(maxsize=8)
def _square_table(samples: int = 4) -> np.ndarray:
    """Σ g² (uint8) over the first ``samples`` calls of every .bed byte, for complete data."""
    codes = (np.arange(256)[:, None] >> (2 * np.arange(samples))[None, :]) & 3
    return (np.nan_to_num(CODE_VALUES[codes]) ** 2).sum(axis=1).astype(np.uint8)
