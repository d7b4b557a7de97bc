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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.cohort.genotypes import open_plink
from alignome.config import SumstatsSource
from alignome.errors import ConfigError, DataError
from alignome.genetics.ld import SMALL_EPSILON, r2_em


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
    lengths = [len(str(v)) for v in ids]
    longest = max(lengths, default=0)
    width = 4
    for length in lengths:
        if length > width:
            width = length + 2
            if width >= longest:
                return width
    return width


def _founders(fam: Path) -> np.ndarray:
    frame = pd.read_csv(fam, sep=r"\s+", header=None, dtype=str, usecols=[0, 1, 2, 3])
    present = set(zip(frame[0], frame[1]))
    father = [(f, p) in present for f, p in zip(frame[0], frame[2])]
    mother = [(f, m) in present for f, m in zip(frame[0], frame[3])]
    return ~(np.asarray(father, dtype=bool) | np.asarray(mother, dtype=bool))


def read_clump_sumstats(path: str | Path, snp_field: str = "SNP", p_field: str = "P") -> pd.DataFrame:
    """Read a PLINK-style association report for clumping (columns ``variant``, ``p``).

    Parameters
    ----------
    path
        Whitespace/CSV/TSV table (e.g. a ``plink --assoc`` or ``--linear`` report).
    snp_field, p_field
        Column names of variant ids and p-values (PLINK's defaults).
    """
    from alignome.cohort.sumstats import read_sumstats

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
    cache_bytes: int = 512 * 2**20,
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
    cache_bytes
        Genotypes of all variants in the sumstats are read once when they fit
        in this many bytes (float32); otherwise each index window is read.

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
    geno = open_plink(Path(bfile))
    founders = _founders(Path(str(geno.path)[:-4] + ".fam"))
    variants = geno.variants
    n_var = len(variants)
    chrom = variants["chrom"].astype(str).to_numpy()
    pos = variants["pos"].to_numpy(dtype=np.int64)
    ids = variants.index

    load = max(0.05, p2)
    if p1 >= load:
        load = p1 * (1 + SMALL_EPSILON)
    where = ids.get_indexer(pd.Index(sumstats["variant"].astype(str)))
    pvals = sumstats["p"].to_numpy(dtype=float)
    found = where >= 0
    missing = sorted(
        ((str(v), float(p)) for v, p, ok in zip(sumstats["variant"], pvals, found) if not ok and p <= p1),
        key=lambda t: t[1],
    )
    entry_p = np.full(n_var, np.nan)
    nsig = np.zeros(n_var, dtype=np.int64)
    for idx, p in zip(where[found], pvals[found]):
        if p > load:
            if p >= 0.05:
                nsig[idx] += 1
        else:
            entry_p[idx] = p
    is_entry = ~np.isnan(entry_p)
    present = is_entry | (nsig > 0)
    index_ok = is_entry & (entry_p <= p1)
    order = np.flatnonzero(index_ok)
    order = order[np.lexsort((order, entry_p[order]))]

    radius = int(kb * 1000 * (1 + SMALL_EPSILON)) - 1
    absorbed = np.zeros(n_var, dtype=bool)
    chrom_code = pd.factorize(chrom)[0]
    # read every variant that can take part once, when it fits (else per index window)
    usable = np.flatnonzero(present)
    column = np.full(n_var, -1, dtype=np.intp)
    cache = None
    if order.size and int(founders.sum()) * usable.size * 4 <= cache_bytes:
        cache = geno.reader(usable.astype(np.intp))[founders]
        column[usable] = np.arange(usable.size)

    def read(cols: np.ndarray) -> np.ndarray:
        if cache is not None:
            return cache[:, column[cols]].astype(np.float64)
        return geno.reader(cols.astype(np.intp))[founders].astype(np.float64)

    clumps: list[Clump] = []
    for ivar in order:
        if absorbed[ivar]:
            continue
        bp = int(pos[ivar])
        window = np.flatnonzero((chrom_code == chrom_code[ivar]) & (pos >= bp - radius) & (pos <= bp + radius))
        cand = window[(window != ivar) & present[window] & ~absorbed[window]]
        block = read(np.concatenate([[ivar], cand]))
        result = Clump(index=str(ids[ivar]), chrom=str(chrom[ivar]), bp=bp, p=float(entry_p[ivar]))
        if cand.size:
            r2_values = r2_em(block[:, 0], block[:, 1:], signed=True)
            with np.errstate(invalid="ignore"):
                joins = np.abs(r2_values) > r2
            for j, value in zip(cand[joins], r2_values[joins]):
                if is_entry[j]:
                    p = float(entry_p[j])
                    result.bins[_bin(p)] += 1
                    if p < p2:
                        result.members.append(str(ids[j]))
                        result.r2.append(float(value))
                result.bins[0] += int(nsig[j])
                absorbed[j] = True
        clumps.append(result)
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
