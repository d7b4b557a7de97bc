"""LD clumping with PLINK 1.9 ``--clump`` semantics and ``.clumped`` output.

What PLINK 1.9 does (``clump_reports`` in plink-ng ``1.9/plink_ld.c``), and so
what :func:`clump` does, for one summary-statistics file:

* A row whose variant is not in the ``.bim`` is dropped; if its p ≤ p1 it is a
  "top variant missing from the dataset" and PLINK warns about it.
* Rows with p ≤ ``load`` = max(0.05, p2) (or p1·(1+2^-44) when p1 is larger)
  are *entries*; rows with a larger p (≥ 0.05) only count towards NSIG.
* Index variants are entries with p ≤ p1, taken by ascending p, ties broken by
  ``.bim`` order. An index variant that an earlier clump absorbed is skipped.
* The window is the index's chromosome, |bp − index bp| ≤ kb·1000 − 1.
* A window variant not yet absorbed joins when its r² (EM haplotype
  frequencies over pairwise-complete founders, :mod:`alignome.genetics.ld`)
  is strictly greater than ``r2``. It is then absorbed (never reused), counted
  in TOTAL and the p-value bins, and listed in SP2 only if its p < p2.

How: the ``.bed`` is streamed in blocks into bit planes
(:class:`alignome.genetics.ld.BedBitPlanes`, bounded cache), one chromosome at
a time (clumps of different chromosomes never interact); for each index, the
genotype-pair tables against all its not-yet-absorbed window candidates come
from popcounts of the planes (:func:`~alignome.genetics.ld.pair_haplotype_tables`), and
the EM r² is computed only where the bounds of
:func:`~alignome.genetics.ld.r2_screen` cannot decide, and for SP2 members.
Conversion and popcounts run in the C kernel ``alignome.genetics._bedscore`` when
it is built (NumPy otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.errors import ConfigError, DataError
from alignome.genetics.ld import (SMALL_EPSILON, BedBitPlanes, founder_mask, pair_haplotype_tables, r2_from_counts,
                                  r2_screen, read_fileset)


@dataclass
class Clump:
    """One clump of the ``.clumped`` report.

    Attributes
    ----------
    index
        Index variant id.
    chrom, bp, p
        Its chromosome (as in the ``.bim``), position and p-value.
    members
        Variants listed in SP2 (p < p2), in ``.bim`` order.
    r2
        Signed r² of each member with the index (negative: repulsion).
    bins
        Counts of absorbed variants with p ≥ 0.05, [0.01, 0.05), [0.001, 0.01),
        [1e-4, 0.001) and < 1e-4 (NSIG, S05, S01, S001, S0001).
    """

    index: str
    chrom: str
    bp: int
    p: float
    members: list[str] = field(default_factory=list)
    r2: list[float] = field(default_factory=list)
    bins: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])

    @property
    def total(self) -> int:
        """Number of variants absorbed into the clump (TOTAL)."""
        return int(sum(self.bins))


@dataclass
class ClumpResult:
    """Clumps, in PLINK's order, and the top variants missing from the ``.bim``.

    Attributes
    ----------
    clumps
        One :class:`Clump` per index variant.
    missing
        ``(variant, p)`` of sumstats rows with p ≤ p1 whose variant is not in
        the ``.bim`` (PLINK warns about these), sorted by p.
    snp_width
        Width of the SNP column as PLINK sets it for this ``.bim``.
    index_candidates
        Number of variants with p ≤ p1 found in the ``.bim``.
    """

    clumps: list[Clump]
    missing: list[tuple[str, float]]
    snp_width: int
    index_candidates: int

    @property
    def index_variants(self) -> list[str]:
        """Index variant ids, in output order."""
        return [c.index for c in self.clumps]


def _bin(p: float) -> int:
    if p < 0.001:
        return 4 if p < 0.0001 else 3
    if p < 0.01:
        return 2
    if p < 0.05:
        return 1
    return 0


def plink_snp_width(ids: pd.Index) -> int:
    """Width PLINK 1.9 gives the SNP column (``calc_plink_maxsnp``)."""
    lengths = pd.Index(ids).astype(str).str.len().to_numpy().tolist()
    longest = max(lengths, default=0)
    width = 4
    for length in lengths:
        if length > width:
            width = length + 2
            if width >= longest:
                return width
    return width


def _read_whitespace_sumstats(path: Path, snp_field: str, p_field: str) -> pd.DataFrame | None:
    """Fast read of a plain whitespace-separated report (PLINK's own format); None when in doubt."""
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".tab", ".gz", ".parquet", ".pq") or not path.is_file():
        return None
    with open(path, errors="replace") as handle:
        first = handle.readline()
    if "\t" in first or "," in first or snp_field not in first.split() or p_field not in first.split():
        return None
    try:
        frame = pd.read_csv(path, sep=r"\s+", usecols=[snp_field, p_field], na_filter=False,
                            dtype={snp_field: object, p_field: np.float64})
    except Exception:  # non-numbers and the like: let the general reader explain
        return None
    variant = frame[snp_field]
    p = frame[p_field].to_numpy(dtype=float)
    from pandas._libs.parsers import STR_NA_VALUES  # the strings the general reader takes for missing

    if variant.isin(list(STR_NA_VALUES)).any() or not ((p > 0) & (p <= 1)).all() or variant.duplicated().any():
        return None
    return pd.DataFrame({"variant": variant.to_numpy(dtype=object), "p": p})


def read_clump_sumstats(path: str | Path, snp_field: str = "SNP", p_field: str = "P") -> pd.DataFrame:
    """Read a PLINK-style association report for clumping (columns ``variant``, ``p``).

    Parameters
    ----------
    path
        Whitespace/CSV/TSV table (e.g. a ``plink --assoc`` or ``--linear`` report).
    snp_field, p_field
        Column names of variant ids and p-values (PLINK's defaults).
    """
    fast = _read_whitespace_sumstats(Path(path), snp_field, p_field)
    if fast is not None:
        return fast
    from alignome.cohort.sumstats import read_sumstats
    from alignome.config import SumstatsSource

    return read_sumstats(SumstatsSource(path=Path(path), columns={"variant": snp_field, "p": p_field}))


def _check(p1: float, p2: float, r2: float, kb: float) -> None:
    for name, value in (("p1", p1), ("p2", p2)):
        if not 0 < value <= 1:
            raise ConfigError(f"--{name} must be in (0, 1], got {value}", field=name, fix=f"e.g. --{name} 1e-4")
    if not 0 <= r2 < 1:
        raise ConfigError(f"--r2 must be in [0, 1), got {r2}", field="r2", fix="e.g. --r2 0.5")
    if not kb > 0:
        raise ConfigError(f"--kb must be positive, got {kb}", field="kb", fix="e.g. --kb 250")


def clump(
    bfile: str | Path,
    sumstats: pd.DataFrame,
    p1: float = 1e-4,
    p2: float = 1e-2,
    r2: float = 0.5,
    kb: float = 250,
    cache_bytes: int = 64 * 2**20,
    block: int | None = None,
) -> ClumpResult:
    """Clump association results as ``plink --clump`` (PLINK 1.9) does.

    Parameters
    ----------
    bfile
        PLINK 1 binary fileset prefix (LD reference).
    sumstats
        Columns ``variant`` and ``p`` (e.g. from :func:`read_clump_sumstats`).
    p1, p2, r2, kb
        ``--clump-p1``, ``--clump-p2``, ``--clump-r2``, ``--clump-kb``
        (PLINK's defaults).
    cache_bytes, block
        Genotypes are streamed from the ``.bed`` in blocks of ``block``
        variants, converted to bit planes (four bits per founder and variant)
        and kept in a least-recently-used cache of at most ``cache_bytes``:
        memory does not grow with the number of variants. ``block`` defaults
        to about the typical window (256 to 4096 variants, at most a sixth of
        the cache). Windows larger than the cache still work, re-reading
        blocks; raise ``cache_bytes`` for speed with very many samples and
        wide windows.

    Returns
    -------
    ClumpResult
        Write it with :func:`write_clumped`.

    Examples
    --------
    >>> res = clump("ref", read_clump_sumstats("gwas.assoc"), p1=1e-5, r2=0.05, kb=5000)  # doctest: +SKIP
    >>> res.index_variants[:3]  # doctest: +SKIP
    """
    _check(p1, p2, r2, kb)
    if not {"variant", "p"} <= set(sumstats.columns):
        raise DataError("summary statistics need columns 'variant' and 'p'", field="variant/p",
                        fix="read the file with read_clump_sumstats(path, snp_field=..., p_field=...)")
    bed, fam, variants = read_fileset(bfile)
    founders = founder_mask(fam)
    n_var = len(variants)
    chrom = variants["chrom"].astype(str).to_numpy()
    pos = variants["pos"].to_numpy(dtype=np.int64)
    ids = variants.index
    id_text = ids.to_numpy(dtype=object)

    load = max(0.05, p2)
    if p1 >= load:
        load = p1 * (1 + SMALL_EPSILON)
    where = ids.get_indexer(pd.Index(sumstats["variant"].astype(str)))
    pvals = sumstats["p"].to_numpy(dtype=float)
    found = where >= 0
    lost = np.flatnonzero(~found & (pvals <= p1))
    names = sumstats["variant"].to_numpy()
    missing = sorted(((str(names[i]), float(pvals[i])) for i in lost), key=lambda t: t[1])
    entry_p = np.full(n_var, np.nan)
    rows, p_found = where[found], pvals[found]
    nsig = np.bincount(rows[(p_found > load) & (p_found >= 0.05)], minlength=n_var).astype(np.int64)
    entry = p_found <= load
    entry_p[rows[entry]] = p_found[entry]  # a repeated variant keeps its last row, as before
    is_entry = ~np.isnan(entry_p)
    present = is_entry | (nsig > 0)
    index_ok = is_entry & (entry_p <= p1)
    order = np.flatnonzero(index_ok)
    order = order[np.lexsort((order, entry_p[order]))]

    radius = int(kb * 1000 * (1 + SMALL_EPSILON)) - 1
    absorbed = np.zeros(n_var, dtype=bool)
    chrom_code = pd.factorize(chrom)[0]
    rank = np.empty(n_var, dtype=np.int64)
    rank[order] = np.arange(order.size)
    by_rank: dict[int, Clump] = {}
    n_samples = len(fam)
    if block is None:
        # blocks about as wide as the windows (narrow windows: convert little beyond them),
        # at most a sixth of the cache and 4096 variants
        per_variant = 32 * ((n_samples + 63) // 64) + 24
        widths = []
        for code in pd.unique(chrom_code[order]):
            on = np.sort(pos[chrom_code == code])
            at = pos[order[chrom_code[order] == code]]
            widths.append(np.searchsorted(on, at + radius, side="right") - np.searchsorted(on, at - radius))
        typical = float(np.median(np.concatenate(widths))) if widths else 1.0
        block = int(np.clip(2 ** np.ceil(np.log2(max(typical, 1.0))), 256, 4096))
        block = int(np.clip(min(block, cache_bytes // (6 * per_variant)), 64, 4096))
    with BedBitPlanes(bed, n_samples, n_var, keep=founders, block=block, cache_bytes=cache_bytes) as planes:
        # clumps of different chromosomes never interact: one chromosome at a time keeps the cache warm
        for code in pd.unique(chrom_code[order]):
            on_chrom = np.flatnonzero(chrom_code == code)
            by_pos = np.argsort(pos[on_chrom], kind="stable")
            sorted_pos = pos[on_chrom][by_pos]
            in_order = bool(np.all(by_pos == np.arange(by_pos.size)))
            for ivar in order[chrom_code[order] == code]:
                if absorbed[ivar]:
                    continue
                bp = int(pos[ivar])
                lo = int(np.searchsorted(sorted_pos, bp - radius, side="left"))
                hi = int(np.searchsorted(sorted_pos, bp + radius, side="right"))
                window = on_chrom[lo:hi] if in_order else np.sort(on_chrom[by_pos[lo:hi]])
                cand = window[present[window] & ~absorbed[window] & (window != ivar)]
                result = Clump(index=str(id_text[ivar]), chrom=str(chrom[ivar]), bp=bp, p=float(entry_p[ivar]))
                by_rank[int(rank[ivar])] = result
                if not cand.size:
                    continue
                index_planes, index_counts = planes.gather(np.array([ivar]))
                index_planes, index_counts = index_planes[:, :, 0].copy(), index_counts[:, 0].copy()
                if in_order and 2 * cand.size >= hi - lo:
                    # most of the window still counts: work on the cached blocks in place, then pick
                    parts = [pair_haplotype_tables(index_planes, index_counts, view, counts, planes.n_kept)
                             for _, view, counts in planes.spans(int(window[0]), int(window[-1]) + 1)]
                    tables = np.concatenate(parts)[cand - window[0]]
                else:
                    cand_planes, cand_counts = planes.gather(cand)
                    tables = pair_haplotype_tables(index_planes, index_counts, cand_planes, cand_counts, planes.n_kept)
                above, undecided = r2_screen(tables, r2)
                # the EM runs once, for the undecided and for the SP2 members (whose r² is kept)
                listed = is_entry[cand] & (entry_p[cand] < p2)
                exact = np.flatnonzero(undecided | (above & listed))
                signed = {}
                if exact.size:
                    values = r2_from_counts(tables[exact], signed=True)
                    with np.errstate(invalid="ignore"):
                        above[exact] = np.abs(values) > r2
                    signed = dict(zip(exact.tolist(), values.tolist()))
                joined = np.flatnonzero(above)
                if not joined.size:
                    continue
                for j in joined.tolist():
                    v = int(cand[j])
                    if is_entry[v]:
                        p = float(entry_p[v])
                        result.bins[_bin(p)] += 1
                        if p < p2:
                            result.members.append(str(id_text[v]))
                            result.r2.append(signed[j])
                    result.bins[0] += int(nsig[v])
                    absorbed[v] = True
    clumps = [by_rank[r] for r in sorted(by_rank)]
    return ClumpResult(clumps=clumps, missing=missing, snp_width=plink_snp_width(ids),
                       index_candidates=int(index_ok.sum()))


def _g3(value: float) -> str:
    return f"{value:.3g}"


def format_clumped(result: ClumpResult) -> str:
    """The ``.clumped`` report exactly as PLINK 1.9 writes it (non-verbose)."""
    w = result.snp_width
    lines = [" CHR    F " + "SNP".rjust(w) + "         BP        " + "P    TOTAL   NSIG    S05    S01   S001  S0001"
             + "    SP2\n"]
    for c in result.clumps:
        text = c.chrom.rjust(4) + " " + "1".rjust(4) + " " + c.index.rjust(w) + " " + str(c.bp).rjust(10) + " "
        text += _g3(c.p).rjust(10) + " " + str(c.total).rjust(8) + " "
        text += "".join(str(b).rjust(6) + " " for b in c.bins)
        text += ",".join(f"{m}(1)" for m in c.members) if c.members else "NONE"
        lines.append(text + "\n")
    return "".join(lines) + "\n\n"


def write_clumped(result: ClumpResult, out_prefix: str | Path) -> Path:
    """Write ``<out_prefix>.clumped``; returns its path."""
    path = Path(f"{out_prefix}.clumped")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_clumped(result))
    return path
