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

How: the ``.bim`` and a PLINK-style report are read as columns of byte spans
(:mod:`alignome.io.fields`, :mod:`alignome.io.plink_fileset`) and the report's ids found in the ``.bim`` by
hashing; the C kernel ``alignome.genetics._bedscore`` (``clump``) then does the
rest: entries, index order, windows, and each pair's haplotype counts from AND +
popcount of the 2-bit calls of the memory-mapped ``.bed``, the EM only where
bounds on its solution cannot decide r² against the threshold, and for SP2
members. With the kernel, ``alignome variants clump`` imports neither pandas nor
NumPy. Without it, :mod:`alignome.genetics.clump_numpy` (bit planes, NumPy)
gives the same clumps.
"""

from __future__ import annotations

import mmap
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alignome.errors import ConfigError, DataError
from alignome.io import fields
from alignome.io.fields import Strings, parse_numbers, read_fields
from alignome.io.plink_fileset import bim_positions, check_variant_ids, founder_flags, read_bim_fields, read_fam_columns
from alignome.io.plink_files import check_bed, fileset_paths

if TYPE_CHECKING:
    import pandas as pd

# Neither pandas nor NumPy is imported on the path of ``alignome variants clump`` (read_clump_columns →
# clump_columns → write_clumped) for a PLINK-style report when the C kernel is built; the DataFrame functions
# import pandas, the kernel's twin NumPy, when called.

#: PLINK 1.9's SMALL_EPSILON (plink_common.h), as in alignome.genetics.ld
SMALL_EPSILON = 2.0**-44


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


def plink_snp_width(ids: Strings | list[str]) -> int:
    """Width PLINK 1.9 gives the SNP column (``calc_plink_maxsnp``) for the ``.bim`` ids."""
    ids = ids if isinstance(ids, Strings) else Strings.from_list([str(i) for i in ids])
    longest, spans = ids.longest(), ids.spans
    width = 4
    for start, end in zip(spans[0::2], spans[1::2]):  # 2 more than each record length, until it covers the longest
        if end - start > width:
            width = end - start + 2
            if width >= longest:
                break
    return width


# --------------------------------------------------------------------------
# Reading the report and the reference
# --------------------------------------------------------------------------

#: Ids pandas reads as missing (``pandas._libs.parsers.STR_NA_VALUES``): the general reader refuses them.
NA_IDS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
          "NA", "NULL", "NaN", "None", "n/a", "nan", "null")


def _read_plink_report(path: Path, snp_field: str, p_field: str) -> tuple[Strings, array] | None:
    """Ids and p-values of a plain whitespace-separated report (PLINK's own layout) whose rows all read cleanly;
    None when in doubt (another layout, or something for the general reader to report)."""
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".tab", ".gz", ".parquet", ".pq") or not path.is_file():
        return None
    data = path.read_bytes()
    end = data.find(b"\n")
    header = data if end < 0 else data[:end]
    if b"\t" in header or b"," in header or b'"' in data:
        return None
    names = header.split()
    snp, p = snp_field.encode(), p_field.encode()
    if snp not in names or p not in names or snp == p:
        return None
    columns = read_fields(data, len(names), (names.index(snp), names.index(p)))
    if columns is None or len(columns[0]) < 2:
        return None
    variant, p_text = (c.rows_from(1) for c in columns)
    values, bad = parse_numbers(p_text, decimal=True, low=5e-324, high=1.0)  # p in (0, 1]
    if bad >= 0:
        return None
    na_rows, repeat = variant.index(Strings.from_list(list(NA_IDS)))
    if repeat >= 0 or max(na_rows) >= 0:
        return None
    return variant, values


def _read_general(path: str | Path, snp_field: str, p_field: str) -> pd.DataFrame:
    from alignome.genetics.select import read_sumstats  # pandas: only for reports the fast reader leaves

    return read_sumstats(Path(path), {"variant": snp_field, "p": p_field},
                         options={"variant": "--snp-field", "p": "--p-field"})


def read_clump_columns(path: str | Path, snp_field: str = "SNP", p_field: str = "P") -> tuple[Strings, array]:
    """:func:`read_clump_sumstats` as columns for :func:`clump_columns`: the variant ids and the p-values.

    A plain whitespace-separated report (PLINK's layout) is read without pandas. Other layouts, and files
    with something to report (a missing column, a p-value that is not a number in (0, 1], a missing or
    repeated id), go through the general reader (pandas), which names the file, column and row.
    """
    fast = _read_plink_report(Path(path), snp_field, p_field)
    if fast is not None:
        return fast
    import numpy as np

    frame = _read_general(path, snp_field, p_field)
    return Strings.from_list(frame["variant"].astype(str).tolist()), np.ascontiguousarray(frame["p"], dtype=float)


def read_clump_sumstats(path: str | Path, snp_field: str = "SNP", p_field: str = "P") -> pd.DataFrame:
    """Read a PLINK-style association report for clumping (a pandas DataFrame, columns ``variant``, ``p``).

    Parameters
    ----------
    path
        Whitespace/CSV/TSV table (e.g. a ``plink --assoc`` or ``--linear`` report).
    snp_field, p_field
        Column names of variant ids and p-values (PLINK's defaults).
    """
    fast = _read_plink_report(Path(path), snp_field, p_field)
    if fast is None:
        return _read_general(path, snp_field, p_field)
    import numpy as np
    import pandas as pd

    return pd.DataFrame({"variant": np.array(fast[0].tolist(), dtype=object), "p": np.asarray(fast[1])})


@dataclass
class _Reference:
    """What clumping reads of the LD reference: the ``.bed``, its samples and founders, the ``.bim`` columns."""

    bed: Path
    n_samples: int
    founders: bytes
    chrom: Strings
    ids: Strings
    pos: array


def _read_reference(bfile: str | Path, variant: Strings) -> tuple[_Reference, array]:
    """Read and check the fileset with the parts of :func:`alignome.io.plink_fileset.read_fileset` (files
    present, six columns, unique sample and variant ids, SNP-major ``.bed`` of the right size), the ``.bim``
    columns kept as byte spans, and whole-number positions; and find the report's ``variant`` ids in the
    ``.bim`` (row, -1 where absent)."""
    bed, bim, fam = fileset_paths(bfile)
    fam_columns = read_fam_columns(fam)
    chrom, ids, pos_text = read_bim_fields(bim, (0, 1, 3))
    where, repeat = ids.index(variant)
    if repeat >= 0:
        check_variant_ids(ids.tolist(), bim)
    check_bed(bed, len(fam_columns[1]), len(ids))
    pos = bim_positions(pos_text, bim)
    founders = founder_flags(*fam_columns[:4])
    return _Reference(bed=bed, n_samples=len(fam_columns[1]), founders=founders, chrom=chrom, ids=ids, pos=pos), where


# --------------------------------------------------------------------------
# Clumping
# --------------------------------------------------------------------------

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
        A pandas DataFrame with columns ``variant`` and ``p`` (e.g. from :func:`read_clump_sumstats`); a variant
        given twice keeps its last row.
    p1, p2, r2, kb
        ``--clump-p1``, ``--clump-p2``, ``--clump-r2``, ``--clump-kb``
        (PLINK's defaults).
    cache_bytes, block
        The C kernel reads the ``.bed`` mapped into memory (the operating
        system pages it in and out as the windows move). Without the kernel,
        genotypes are streamed from the ``.bed`` in blocks of ``block``
        variants, converted to bit planes and kept in a least-recently-used
        cache of at most ``cache_bytes``: memory does not grow with the number
        of variants. ``block`` defaults to about the typical window (256 to
        4096 variants, at most a sixth of the cache); windows larger than the
        cache still work, re-reading blocks.

    Returns
    -------
    ClumpResult
        Write it with :func:`write_clumped`. :func:`clump_columns` gives the same without pandas.

    Examples
    --------
    >>> res = clump("ref", read_clump_sumstats("gwas.assoc"), p1=1e-5, r2=0.05, kb=5000)  # doctest: +SKIP
    >>> res.index_variants[:3]  # doctest: +SKIP
    """
    import numpy as np

    if not {"variant", "p"} <= set(sumstats.columns):
        raise DataError("summary statistics need columns 'variant' and 'p'", field="variant/p",
                        fix="read the file with read_clump_sumstats(path, snp_field=..., p_field=...)")
    p = np.ascontiguousarray(sumstats["p"].to_numpy(dtype=float))
    return clump_columns(bfile, Strings.from_list(sumstats["variant"].astype(str).tolist()), p, p1=p1, p2=p2, r2=r2,
                         kb=kb, cache_bytes=cache_bytes, block=block)


def clump_columns(bfile: str | Path, variant: Strings, p, p1: float = 1e-4, p2: float = 1e-2, r2: float = 0.5,
                  kb: float = 250, cache_bytes: int = 64 * 2**20, block: int | None = None) -> ClumpResult:
    """:func:`clump` without pandas: the report as its variant ids and p-values (any float64 buffer), e.g. from
    :func:`read_clump_columns`."""
    _check(p1, p2, r2, kb)
    ref, where = _read_reference(bfile, variant)
    load = max(0.05, p2)
    if p1 >= load:
        load = p1 * (1 + SMALL_EPSILON)
    radius = int(kb * 1000 * (1 + SMALL_EPSILON)) - 1
    chrom = ref.chrom.first_rows()  # the same number for every variant of a chromosome
    work = (ref.founders, chrom, ref.pos, where, p, float(p1), float(p2), float(r2), float(load), radius)
    kernel = fields.bed_kernel()
    if kernel is not None:
        with open(ref.bed, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as bed:
            found = kernel.clump(bed, (ref.n_samples + 3) // 4, *work, True)  # pages released as it goes
    else:
        from alignome.genetics.clump_numpy import clump_variants

        found = clump_variants(ref.bed, ref.n_samples, *work, block=block, cache_bytes=cache_bytes)
    index, index_p, bins, members, member_r2, lost, candidates = found
    names, chroms = ref.ids.take(index), ref.chrom.take(index)
    clumps = [Clump(index=name, chrom=c, bp=ref.pos[row], p=q, members=ref.ids.take(m), r2=v, bins=b)
              for name, c, row, q, m, v, b in zip(names, chroms, index, index_p, members, member_r2, bins)]
    missing = list(zip(variant.take(lost), (float(p[row]) for row in lost)))
    return ClumpResult(clumps=clumps, missing=missing, snp_width=plink_snp_width(ref.ids),
                       index_candidates=candidates)


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
