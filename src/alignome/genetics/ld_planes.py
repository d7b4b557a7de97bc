"""Genotype-pair tables of clumping from bit planes of the ``.bed`` (the NumPy twin of the C kernel).

:class:`BedBitPlanes` turns ``.bed`` rows into four bit planes per variant (homozygous A1,
heterozygous, called, carrier of A1; 64 founders per word) with a 16-bit look-up table, block by
block through a bounded cache; :func:`pair_haplotype_tables` gets what the EM of
:mod:`alignome.genetics.ld` needs of one index variant against all its window candidates from
AND + popcount of the planes (three products per pair when both are fully called, the rest from
the margins); :func:`pair_tables` gives the full 3×3 tables (as :func:`alignome.genetics.ld.genotype_table`).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import numpy as np

@lru_cache(maxsize=1)
def _plane_table() -> np.ndarray:
    """uint32 per 16-bit chunk of a ``.bed`` row (8 calls): bytes of P0, P1 and C (the fourth is filled later)."""
    chunk = np.arange(1 << 16, dtype=np.uint32)
    table = np.zeros(1 << 16, dtype=np.uint32)
    for sample in range(8):
        code = (chunk >> (2 * sample)) & 3
        bit = np.uint32(1 << sample)
        table |= np.where(code == 0, bit, 0).astype(np.uint32)  # homozygous A1
        table |= np.where(code == 2, bit << 8, 0).astype(np.uint32)  # heterozygous
        table |= np.where(code != 1, bit << 16, 0).astype(np.uint32)  # called
    return table


class BedBitPlanes:
    """Genotypes of a PLINK 1 ``.bed`` as bit planes, read in blocks of variants.

    Each variant becomes four planes over the kept samples (founders), 64
    samples per ``uint64`` word: ``P0`` homozygous for A1 (the counted allele),
    ``P1`` heterozygous, ``C`` called and ``P0 | P1`` (carries A1). The
    ``.bed`` is read block by block (``block`` variants at a time) and
    converted by a 16-bit table look-up (8 calls to one byte of each plane);
    converted blocks are kept in a least-recently-used
    cache of at most ``cache_bytes``, so memory does not grow with the number
    of variants.

    Parameters
    ----------
    bed
        Path of the ``.bed`` file (SNP-major, checked by the caller).
    n_samples, n_variants
        Rows of the ``.fam`` and ``.bim``.
    keep
        Boolean mask of samples to use (PLINK's founders); all when None.
    block, cache_bytes
        Variants per block and the cache budget.
    """

    def __init__(self, bed, n_samples: int, n_variants: int, keep: np.ndarray | None = None, block: int = 2048,
                 cache_bytes: int = 128 * 2**20) -> None:
        self.path = bed
        self.n_samples = int(n_samples)
        self.n_variants = int(n_variants)
        self.row_bytes = (self.n_samples + 3) // 4
        self.words = (self.n_samples + 63) // 64
        keep = np.ones(self.n_samples, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
        self.n_kept = int(keep.sum())
        kept = np.zeros(self.words * 64, dtype=np.uint8)
        kept[:self.n_samples] = keep
        self._kept = np.packbits(kept, bitorder="little").view(np.uint64)  # kept samples, compact
        self.block = int(block)
        self.cache_bytes = int(cache_bytes)
        self._cache: OrderedDict = OrderedDict()
        self._cached = 0
        self._handle = open(bed, "rb")

    def close(self) -> None:
        """Close the ``.bed`` handle and drop the cache."""
        self._handle.close()
        self._cache.clear()
        self._cached = 0

    def __enter__(self) -> "BedBitPlanes":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _convert(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        start = b * self.block
        size = min(self.block, self.n_variants - start)
        out = np.empty((self.words, 4, size), dtype=np.uint64)
        counts = np.empty((3, size), dtype=np.int64)
        step = 512  # rows converted at a time: temporaries stay small whatever the block
        for lo in range(0, size, step):
            k = min(step, size - lo)
            self._handle.seek(3 + (start + lo) * self.row_bytes)
            raw = self._handle.read(k * self.row_bytes)
            if len(raw) != k * self.row_bytes:
                raise OSError(f"{self.path}: truncated .bed (block {b})")
            self._convert_rows(np.frombuffer(raw, dtype=np.uint8).reshape(k, self.row_bytes), out, counts, lo)
        return out, counts

    def _convert_rows(self, raw: np.ndarray, out: np.ndarray, counts: np.ndarray, lo: int) -> None:
        """Planes and counts of rows ``raw`` into columns ``lo:`` of ``out`` and ``counts``."""
        k = raw.shape[0]
        rows = np.zeros((k, self.words * 16), dtype=np.uint8)
        # 16 bits of a row = 8 samples -> one byte of each plane, by table look-up
        rows[:, :self.row_bytes] = raw
        looked = np.take(_plane_table(), rows.view(np.uint16), axis=0).view(np.uint8)
        looked = looked.reshape(k, self.words * 8, 4)
        packed = np.empty((4, k, self.words * 8), dtype=np.uint8)
        for plane in range(3):
            packed[plane] = looked[:, :, plane]
        packed = packed.view(np.uint64)  # (4, k, words)
        packed[:3] &= self._kept
        np.bitwise_or(packed[0], packed[1], out=packed[3])  # carries A1
        counts[:, lo:lo + k] = np.bitwise_count(packed[:3]).sum(axis=2, dtype=np.int64)
        out[:, :, lo:lo + k] = packed.transpose(2, 0, 1)

    def _get(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        hit = self._cache.get(b)
        if hit is not None:
            self._cache.move_to_end(b)
            return hit
        hit = self._convert(b)
        size = hit[0].nbytes + hit[1].nbytes
        while self._cache and self._cached + size > self.cache_bytes:
            _, old = self._cache.popitem(last=False)
            self._cached -= old[0].nbytes + old[1].nbytes
        self._cache[b] = hit
        self._cached += size
        return hit

    def spans(self, lo: int, hi: int):
        """Yield ``(first, planes, counts)`` views covering variants ``lo:hi`` block by block (no copies)."""
        first = lo
        while first < hi:
            b = first // self.block
            planes, counts = self._get(b)
            start = b * self.block
            last = min(hi, start + planes.shape[2])
            yield first, planes[:, :, first - start:last - start], counts[:, first - start:last - start]
            first = last

    def gather(self, variants: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Planes ``(words, 4, k)`` and counts ``(3, k)`` (|P0|, |P1|, |C|) of ``variants`` (sorted)."""
        variants = np.asarray(variants, dtype=np.int64)
        blocks = variants // self.block
        cuts = np.flatnonzero(np.diff(blocks)) + 1
        parts, counts = [], []
        for chunk in np.split(variants, cuts) if variants.size else []:
            planes, cnt = self._get(int(chunk[0] // self.block))
            local = chunk - (chunk[0] // self.block) * self.block
            if local.size == planes.shape[2] and local[0] == 0:
                parts.append(planes)
                counts.append(cnt)
            else:
                parts.append(np.take(planes, local, axis=2))  # C order: unit stride along the variants
                counts.append(cnt[:, local])
        if not parts:
            return np.zeros((self.words, 4, 0), dtype=np.uint64), np.zeros((3, 0), dtype=np.int64)
        if len(parts) == 1:
            return parts[0], counts[0]
        return np.concatenate(parts, axis=2), np.concatenate(counts, axis=1)


def pair_tables(index_planes: np.ndarray, index_counts: np.ndarray, planes: np.ndarray, counts: np.ndarray,
                n_kept: int) -> np.ndarray:
    """3×3 genotype-pair tables (as :func:`genotype_table`) from bit planes.

    Parameters
    ----------
    index_planes, index_counts
        ``(words, 3)`` planes and ``(3,)`` counts of the index variant.
    planes, counts
        ``(words, 3, k)`` planes and ``(3, k)`` counts of ``k`` candidates
        (:meth:`BedBitPlanes.gather`).
    n_kept
        Number of samples in the planes.

    Returns
    -------
    np.ndarray
        ``(k, 9)`` float counts over samples called at both variants.

    Notes
    -----
    Only the four cells hom/het × hom/het need a popcount when both variants
    are fully called; the rest follow from the margins. Missing calls add the
    products with the called planes (pairwise-complete margins).
    """
    k = planes.shape[2]
    index_complete = int(index_counts[2]) == n_kept
    cand_complete = counts[2] == n_kept
    nr = 2 if index_complete else 3
    nc = 2 if bool(cand_complete.all()) else 3
    a = np.ascontiguousarray(index_planes[:, :nr])  # (words, nr)
    words = planes.shape[0]
    acc = np.zeros((nr, nc, k), dtype=np.int64)
    step = 16  # words per pass: partial popcount sums stay below 2^16
    for w in range(0, words, step):
        both = planes[w:w + step, None, :nc, :] & a[w:w + step, :, None, None]
        acc += np.bitwise_count(both).sum(axis=0, dtype=np.uint16)
    n00, n01, n10, n11 = acc[0, 0], acc[0, 1], acc[1, 0], acc[1, 1]
    if nc == 3:
        r0, r1 = acc[0, 2], acc[1, 2]
    else:
        r0 = np.full(k, int(index_counts[0]), dtype=np.int64)
        r1 = np.full(k, int(index_counts[1]), dtype=np.int64)
    if nr == 3:
        c0, c1 = acc[2, 0], acc[2, 1]
        total = acc[2, 2] if nc == 3 else np.full(k, int(index_counts[2]), dtype=np.int64)
    else:
        c0, c1, total = counts[0], counts[1], counts[2]
    n20 = c0 - n00 - n10
    n21 = c1 - n01 - n11
    table = np.stack([n00, n01, r0 - n00 - n01, n10, n11, r1 - n10 - n11, n20, n21, total - r0 - r1 - n20 - n21],
                     axis=1)
    return table.astype(np.float64)


# (index plane, candidate plane) products; planes: 0 P0, 1 P1, 2 C, 3 P0|P1
_INTERIOR = ((0, 3), (3, 0), (1, 1))  # n00+n01, n00+n10, n11
_ROWS = ((0, 2), (3, 2))  # n0.+n00.. over pairs called at the candidate: r0, r0 + r1
_COLS = ((2, 0), (2, 3))  # c0, c0 + c1
_BOTH = ((2, 2),)  # N


def pair_haplotype_tables(index_planes: np.ndarray, index_counts: np.ndarray, planes: np.ndarray,
                          counts: np.ndarray, n_kept: int) -> np.ndarray:
    """Tables equivalent to :func:`pair_tables` for the EM, with fewer popcounts.

    PLINK's EM (and so :func:`r2_from_counts` and :func:`r2_screen`) reads a
    table only through the known haplotype counts ``k11 = 2n00 + n01 + n10``,
    ``k12``, ``k21``, ``k22`` and the double heterozygotes ``n11``. With the
    margins, ``k11 = |P0ᵃ ∧ (P0|P1)ᵇ| + |(P0|P1)ᵃ ∧ P0ᵇ|`` and ``n11`` take
    three popcounts per pair (instead of four cells) when both variants are
    fully called. The result is the table ``[k11/2, 0, k12/2, 0, n11, 0,
    k21/2, 0, k22/2]``, which gives bit-identical EM results.
    """
    k = planes.shape[2]
    index_complete = int(index_counts[2]) == n_kept
    cand_complete = bool((counts[2] == n_kept).all())
    pairs = list(_INTERIOR)
    if not cand_complete:
        pairs += _ROWS
    if not index_complete:
        pairs += _COLS
        if not cand_complete:
            pairs += _BOTH
    acc = np.zeros((len(pairs), k), dtype=np.int64)
    step = 16  # words per pass: partial popcount sums stay below 2^16
    for w in range(0, planes.shape[0], step):
        for j, (left, right) in enumerate(pairs):
            both = planes[w:w + step, right, :] & index_planes[w:w + step, left, None]
            acc[j] += np.bitwise_count(both).sum(axis=0, dtype=np.uint16)
    k11 = acc[0] + acc[1]
    center = acc[2]
    q = 3
    if not cand_complete:
        row1, row2 = acc[q], acc[q + 1]  # r0, r0 + r1 over pairs called at both
        q += 2
    else:
        row1 = np.full(k, int(index_counts[0]), dtype=np.int64)
        row2 = np.full(k, int(index_counts[0] + index_counts[1]), dtype=np.int64)
    if not index_complete:
        col1, col2 = acc[q], acc[q + 1]
        q += 2
        total = acc[q] if not cand_complete else np.full(k, int(index_counts[2]), dtype=np.int64)
    else:
        col1, col2 = counts[0], counts[0] + counts[1]
        total = counts[2]
    k12 = row1 + row2 - k11 - center
    k21 = col1 + col2 - k11 - center
    k22 = 2 * total - k11 - k12 - k21 - 2 * center
    table = np.zeros((k, 9))
    table[:, 0] = k11 * 0.5
    table[:, 2] = k12 * 0.5
    table[:, 4] = center
    table[:, 6] = k21 * 0.5
    table[:, 8] = k22 * 0.5
    return table
