"""Harmonise summary-statistic alleles against a PLINK ``.bim`` (A1 becomes the effect allele).

For each variant (matched by id) the pair (effect, other) is compared with
the ``.bim`` pair (A1, A2):

``keep``    same alleles, same order.
``swap``    effect allele is A2: beta is negated, alleles exchanged.
``flip``    the alleles are on the other strand (complements match, same order).
``flip_swap`` other strand and exchanged: beta negated.
Dropped, each with a count and the list of variants:
``ambiguous``  strand-ambiguous A/T or C/G SNPs (cannot tell flip from swap).
``mismatch``   alleles that match neither strand.
``not_in_bim`` variant id absent from the ``.bim``.

Without an ``other_allele`` (PLINK ``.qassoc``), the effect allele alone is
matched; a missing effect allele means "the ``.bim`` A1", as PLINK 1.9 reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.genetics.sumstats_io import normalise_chroms
from alignome.io.plink_fileset import read_fileset

_COMPLEMENT = {"A": "T", "T": "A", "C": "G", "G": "C"}
OUTCOMES = ("keep", "swap", "flip", "flip_swap", "ambiguous", "mismatch", "not_in_bim")


def _complement(allele: object) -> object:
    if not isinstance(allele, str):
        return allele
    return "".join(_COMPLEMENT.get(b, "?") for b in allele)


def is_ambiguous(a: object, b: object) -> bool:
    """True for strand-ambiguous SNP allele pairs (A/T, T/A, C/G, G/C)."""
    return isinstance(a, str) and isinstance(b, str) and len(a) == 1 and _COMPLEMENT.get(a) == b


@dataclass
class HarmoniseResult:
    """Harmonised statistics and what happened to every input row.

    Attributes
    ----------
    sumstats
        Kept rows in the standard frame, effect allele = ``.bim`` A1, chrom/pos from the ``.bim``.
    outcome
        ``variant`` → one of :data:`OUTCOMES`, for every input row.
    counts
        Rows per outcome (all of :data:`OUTCOMES`, zeros included).
    """

    sumstats: pd.DataFrame
    outcome: pd.Series
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: counts of each outcome."""
        return ", ".join(f"{k}={v}" for k, v in self.counts.items())


def read_bim(prefix: str | Path) -> pd.DataFrame:
    """``PREFIX.bim`` as ``variant`` (index), ``chrom`` (normalised), ``pos``, ``a1``, ``a2``."""
    variants = read_fileset(prefix).variants_frame()
    variants["chrom"] = normalise_chroms(variants["chrom"], file=f"{prefix}.bim").to_numpy()
    for name in ("a1", "a2"):
        variants[name] = variants[name].str.upper()
    return variants


def harmonise(sumstats: pd.DataFrame, bim: pd.DataFrame | str | Path, drop_ambiguous: bool = True) -> HarmoniseResult:
    """Align summary statistics to the ``.bim`` alleles (see the module docstring).

    Parameters
    ----------
    sumstats
        Standard frame (:func:`alignome.genetics.sumstats_io.read_sumstats_file`).
    bim
        :func:`read_bim` frame or a fileset prefix.
    drop_ambiguous
        Drop A/T and C/G SNPs (default, as most pipelines do).
    """
    if not isinstance(bim, pd.DataFrame):
        bim = read_bim(bim)
    ids = sumstats["variant"].astype(str).to_numpy()
    where = bim.index.get_indexer(pd.Index(ids))
    found = where >= 0
    a1 = np.where(found, bim["a1"].to_numpy(dtype=object)[where], None)
    a2 = np.where(found, bim["a2"].to_numpy(dtype=object)[where], None)
    ea = sumstats["effect_allele"].to_numpy(dtype=object)
    oa = sumstats["other_allele"].to_numpy(dtype=object)
    outcome = np.empty(len(ids), dtype=object)
    for i in range(len(ids)):
        if not found[i]:
            outcome[i] = "not_in_bim"
            continue
        e, o, x, y = ea[i], oa[i], a1[i], a2[i]
        e_na, o_na = not isinstance(e, str), not isinstance(o, str)
        if e_na:
            e, o, o_na = x, y, False
        if drop_ambiguous and (is_ambiguous(x, y) or (not o_na and is_ambiguous(e, o))):
            outcome[i] = "ambiguous"
        elif e == x and (o_na or o == y):
            outcome[i] = "keep"
        elif e == y and (o_na or o == x):
            outcome[i] = "swap"
        elif _complement(e) == x and (o_na or _complement(o) == y):
            outcome[i] = "flip"
        elif _complement(e) == y and (o_na or _complement(o) == x):
            outcome[i] = "flip_swap"
        else:
            outcome[i] = "mismatch"
    kept = np.isin(outcome, ["keep", "swap", "flip", "flip_swap"])
    out = sumstats.loc[kept].copy()
    sign = np.where(np.isin(outcome[kept], ["swap", "flip_swap"]), -1.0, 1.0)
    out["beta"] = out["beta"].to_numpy(dtype=float) * sign
    out["effect_allele"] = a1[kept]
    out["other_allele"] = a2[kept]
    out["chrom"] = bim["chrom"].to_numpy(dtype=object)[where[kept]]
    out["pos"] = bim["pos"].to_numpy(dtype=float)[where[kept]]
    out = out.reset_index(drop=True)
    out.attrs = dict(sumstats.attrs)
    counts = {k: int((outcome == k).sum()) for k in OUTCOMES}
    return HarmoniseResult(sumstats=out, outcome=pd.Series(outcome, index=pd.Index(ids, name="variant")),
                           counts=counts)
