"""The counts of genotype QC: 2-bit calls of the packed ``.bed`` counted per sample and per variant.

Every statistic of :mod:`alignome.genetics.qc` is a count of calls, so the ``.bed`` bytes are counted as
they are, never decoded to numbers: :func:`scan` reads the ``.bed`` a block of variants at a time
(:func:`alignome.io.bed_blocks.bed_blocks`) for each sample's missing calls and each variant's missing,
heterozygous and homozygous-A2 calls in sample groups (:func:`sample_groups`): an AND with the group's bit
mask (:func:`group_masks`) and a popcount each. The C kernels of ``alignome.genetics._bedscore`` count
where that optional extension is built; the NumPy twins (``*_numpy``) count the same otherwise.
:func:`hwe_p` is the Hardy-Weinberg exact test of the counts (the kernel's, else SciPy's).
"""

from __future__ import annotations

import numpy as np

from alignome.genetics.qc_samples import Samples
from alignome.io.bed_blocks import bed_blocks
from alignome.io.fields import bed_kernel
from alignome.io.plink_fileset import Fileset

#: The low bit of every 2-bit call of a uint64 word.
_ODD = np.uint64(0x5555555555555555)


def group_masks(groups, n: int) -> np.ndarray:
    """Sample groups (boolean arrays over the ``.fam``) as uint64 words in the layout of a ``.bed`` row:
    bit 2k of word w set for sample 32w + k of the group; shape (groups, ⌈n/32⌉)."""
    words = (n + 31) // 32
    bits = np.zeros((len(groups), words * 32), dtype=np.uint64)
    for g, group in enumerate(groups):
        bits[g, :n] = np.asarray(group, dtype=bool)
    shifts = (2 * np.arange(32, dtype=np.uint64)).astype(np.uint64)
    return np.ascontiguousarray(np.bitwise_or.reduce(bits.reshape(len(groups), words, 32) << shifts, axis=2))


def missing_counts_numpy(raw: np.ndarray, masks: np.ndarray, which: np.ndarray, counts: np.ndarray) -> None:
    """NumPy twin of the kernel's ``missing_counts``."""
    width = raw.shape[1]
    mask_bytes = masks.view(np.uint8).reshape(masks.shape[0], -1)[:, :width]
    miss = raw & ~(raw >> 1) & mask_bytes[which]  # code 01 of the rows' groups, low bit of each call
    per_sample = counts.reshape(-1, 4)
    for c in range(4):
        per_sample[:width, c] += ((miss >> (2 * c)) & 1).sum(axis=0, dtype=np.int64)


def group_counts_numpy(raw: np.ndarray, masks: np.ndarray, out: np.ndarray) -> None:
    """NumPy twin of the kernel's ``group_counts``: out[g, :, v] = missing, het, hom A2 calls of group g."""
    k, width = raw.shape
    words = masks.shape[1]
    padded = np.zeros((k, words * 8), dtype=np.uint8)
    padded[:, :width] = raw
    x = padded.view(np.uint64)
    lo, hi = x & _ODD, (x >> np.uint64(1)) & _ODD
    for c, calls in enumerate((lo & ~hi, hi & ~lo, lo & hi)):
        for g in range(masks.shape[0]):
            out[g, c] = np.bitwise_count(calls & masks[g]).sum(axis=1, dtype=np.int64)


def sample_groups(fam: Samples, keep: np.ndarray) -> tuple[np.ndarray, ...]:
    """The sample groups of the variant counts: kept samples, kept males, then founders and founder controls
    (the ``--hwe`` set), each split into non-males and males (X and Y count males differently)."""
    male = fam.male & keep
    founders = fam.founder & keep
    controls = founders & fam.control
    return keep, male, founders & ~male, founders & male, controls & ~male, controls & male


def scan(fs: Fileset, block: int, is_y: np.ndarray | None = None, male: np.ndarray | None = None,
          groups: tuple[np.ndarray, ...] | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """One read of the ``.bed``: each sample's missing calls (when ``is_y`` is given; non-males' calls on Y
    left out), and each variant's missing, heterozygous and homozygous-A2 calls in each of ``groups``
    (int64 (groups, 3, m); when given)."""
    n, width = fs.n, fs.width
    kernel = bed_kernel()
    missing = out = None
    if is_y is not None:
        sample_masks = group_masks([np.ones(n, dtype=bool), male], n)
        which = is_y.astype(np.uint8)  # Y rows count the males only
        missing = np.zeros(sample_masks.shape[1] * 32, dtype=np.int64)
    if groups is not None:
        variant_masks = group_masks(groups, n)
        out = np.empty((len(groups), 3, fs.m), dtype=np.int64)
    for start, raw in bed_blocks(fs, block):
        k = raw.shape[0]
        if missing is not None:
            if kernel is not None:
                kernel.missing_counts(raw, k, width, sample_masks, which[start:start + k], missing)
            else:
                missing_counts_numpy(raw, sample_masks, which[start:start + k], missing)
        if out is not None:
            if kernel is not None:
                kernel.group_counts(raw, k, width, variant_masks, out, fs.m, start)
            else:
                group_counts_numpy(raw, variant_masks, out[:, :, start:start + k])
    return (None if missing is None else missing[:n]), out


def hwe_p(het: np.ndarray, hom1: np.ndarray, hom2: np.ndarray, midp: bool) -> np.ndarray:
    """Exact-test p-values: the kernel's, else :func:`alignome.genetics.hwe.hwe_exact` (SciPy)."""
    kernel = bed_kernel()
    if kernel is None:
        from alignome.genetics.hwe import hwe_exact

        return hwe_exact(het, hom1, hom2, midp=midp)
    het, hom1, hom2 = (np.ascontiguousarray(a, dtype=np.int64).ravel() for a in (het, hom1, hom2))
    out = np.empty(het.size)
    kernel.hwe(het, hom1, hom2, bool(midp), out)
    return out
