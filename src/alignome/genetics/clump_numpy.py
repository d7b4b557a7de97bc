"""The NumPy twin of the C kernel's ``clump`` (``alignome.genetics._bedscore``): the same clumps where the
optional extension is not built.

Entries, NSIG counts and index variants as :mod:`alignome.genetics.clump` describes them; the genotypes
as bit planes (:class:`~alignome.genetics.ld_planes.BedBitPlanes`, blocks through a bounded cache); each index
variant's pair tables with its window from their popcounts
(:func:`~alignome.genetics.ld_planes.pair_haplotype_tables`), the r² screen (:func:`~alignome.genetics.ld.r2_screen`),
then the EM (:func:`~alignome.genetics.ld.r2_from_counts`) where the screen cannot decide and for SP2 members.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alignome.genetics.ld import r2_from_counts, r2_screen
from alignome.genetics.ld_planes import BedBitPlanes, pair_haplotype_tables

#: p-value bin edges: bin 4 − (edges at or below p) counts NSIG (0) … S0001 (4)
_BIN_EDGES = np.array([1e-4, 1e-3, 1e-2, 0.05])


def clump_variants(bed: Path, n_samples: int, founders: bytes, chrom, pos, where, p, p1: float, p2: float,
                   r2: float, load: float, radius: int, block: int | None = None,
                   cache_bytes: int = 64 * 2**20) -> tuple:
    """The kernel's ``clump`` (same arguments after the ``.bed`` path and sample count, same result), reading
    the ``.bed`` as bit planes in blocks of ``block`` variants through a cache of ``cache_bytes``.

    Returns
    -------
    tuple
        Per clump, in PLINK's order: its index variant (``.bim`` row), p, bins [NSIG, S05, S01, S001,
        S0001], SP2 members (``.bim`` rows, in ``.bim`` order) and their signed r²; then the report rows with
        p ≤ p1 absent from the ``.bim`` (by p) and the number of index variants.
    """
    chrom, pos, where = (np.asarray(a, dtype=np.int64) for a in (chrom, pos, where))
    p = np.asarray(p, dtype=np.float64)
    n_var = chrom.size
    found = where >= 0
    lost = np.flatnonzero(~found & (p <= p1))
    lost = lost[np.argsort(p[lost], kind="stable")]
    entry_p = np.full(n_var, np.nan)
    rows, p_found = where[found], p[found]
    nsig = np.bincount(rows[(p_found > load) & (p_found >= 0.05)], minlength=n_var).astype(np.int64)
    entry = p_found <= load
    entry_p[rows[entry]] = p_found[entry]  # a repeated variant keeps its last row
    present = ~np.isnan(entry_p) | (nsig > 0)
    order = np.flatnonzero(entry_p <= p1)
    order = order[np.lexsort((order, entry_p[order]))]
    by_pos, lo, hi = _windows(chrom, pos, order, radius)
    if block is None:
        block = _block_size(n_samples, hi - lo, cache_bytes)

    clumps: tuple[list, ...] = ([], [], [], [], [])
    absorbed = np.zeros(n_var, dtype=bool)
    keep = np.frombuffer(founders, dtype=np.uint8).astype(bool)
    with BedBitPlanes(bed, n_samples, n_var, keep=keep, block=block, cache_bytes=cache_bytes) as planes:
        for r, ivar in enumerate(order.tolist()):
            if absorbed[ivar]:
                continue
            bins, members, values = np.zeros(5, dtype=np.int64), [], []
            window = by_pos[lo[r]:hi[r]]
            if (np.diff(window) < 0).any():  # positions out of .bim order: the window in .bim order
                window = np.sort(window)
            cand = window[present[window] & ~absorbed[window] & (window != ivar)]
            if cand.size:
                tables = _pair_tables(planes, ivar, window, cand)
                above, undecided = r2_screen(tables, r2)
                listed = entry_p[cand] < p2
                exact = np.flatnonzero(undecided | (above & listed))  # the EM: undecided, and SP2 members' r²
                signed = np.full(cand.size, np.nan)
                if exact.size:
                    signed[exact] = r2_from_counts(tables[exact], signed=True)
                    with np.errstate(invalid="ignore"):
                        above[exact] = np.abs(signed[exact]) > r2
                joined = cand[above]
                absorbed[joined] = True
                pj = entry_p[joined]
                is_entry = ~np.isnan(pj)
                bins += np.bincount(4 - np.searchsorted(_BIN_EDGES, pj[is_entry], side="right"), minlength=5)
                bins[0] += nsig[joined].sum()
                sp2 = is_entry & (pj < p2)
                members, values = joined[sp2].tolist(), signed[above][sp2].tolist()
            for out, value in zip(clumps, (ivar, float(entry_p[ivar]), bins.tolist(), members, values)):
                out.append(value)
    return (*clumps, lost.tolist(), int(order.size))


def _pair_tables(planes: BedBitPlanes, ivar: int, window: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """What the EM needs of ``ivar`` with each of ``cand`` (of ``window``, in ``.bim`` order)."""
    index_planes, index_counts = planes.gather(np.array([ivar]))
    index_planes, index_counts = index_planes[:, :, 0].copy(), index_counts[:, 0].copy()
    if window[-1] - window[0] + 1 == window.size and 2 * cand.size >= window.size:
        # most of a contiguous window still counts: work on the cached blocks in place, then pick
        parts = [pair_haplotype_tables(index_planes, index_counts, view, counts, planes.n_kept)
                 for _, view, counts in planes.spans(int(window[0]), int(window[-1]) + 1)]
        return np.concatenate(parts)[cand - window[0]]
    cand_planes, cand_counts = planes.gather(cand)
    return pair_haplotype_tables(index_planes, index_counts, cand_planes, cand_counts, planes.n_kept)


def _windows(chrom: np.ndarray, pos: np.ndarray, order: np.ndarray, radius: int) -> tuple[np.ndarray, ...]:
    """The variants by chromosome and position, ``.bim`` order breaking ties (``by_pos``), and the window of
    each index variant of ``order`` in it, ``by_pos[lo:hi]``: its chromosome and ``|bp − its bp| ≤ radius``."""
    steps = np.diff(chrom)
    if (steps >= 0).all() and ((np.diff(pos) >= 0) | (steps != 0)).all():
        by_pos = np.arange(chrom.size)
    else:
        by_pos = np.lexsort((pos, chrom))
    sorted_chrom, sorted_pos = chrom[by_pos], pos[by_pos]
    lo, hi = np.empty(order.size, dtype=np.int64), np.empty(order.size, dtype=np.int64)
    codes, bp = chrom[order], pos[order]
    for code in set(codes.tolist()):
        sel = codes == code
        a, b = np.searchsorted(sorted_chrom, code, side="left"), np.searchsorted(sorted_chrom, code, side="right")
        lo[sel] = a + np.searchsorted(sorted_pos[a:b], bp[sel] - radius, side="left")
        hi[sel] = a + np.searchsorted(sorted_pos[a:b], bp[sel] + radius, side="right")
    return by_pos, lo, hi


def _block_size(n_samples: int, widths: np.ndarray, cache_bytes: int) -> int:
    """Variants per block: about the typical window (narrow windows convert little beyond them), at most a
    sixth of the cache and 4096."""
    per_variant = 32 * ((n_samples + 63) // 64) + 24
    typical = float(np.median(widths)) if widths.size else 1.0
    block = int(np.clip(2 ** np.ceil(np.log2(max(typical, 1.0))), 256, 4096))
    return int(np.clip(min(block, cache_bytes // (6 * per_variant)), 64, 4096))
