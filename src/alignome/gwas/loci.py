"""A scan's independent loci and its recovery of known disease loci (paper 003).

* :func:`independent_loci` — PLINK 1.9 clumping (:func:`alignome.genetics.clump.clump`)
  of the GWAS P at ``p1 = 5e-8``; defaults ``r2 = 0.05`` and ``kb = 5000`` as in paper 003
  ("r² < 0.05 within a 5 Mb window").
* :func:`read_known_loci`, :func:`recovery` — fraction of known disease loci
  recovered at genome-wide (5e-8) and Bonferroni (0.05 / known loci tested)
  significance within ± ``window_kb`` of each known lead variant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.io.tables import read_delimited
from alignome.errors import DataError
from alignome.gwas.significance import GENOME_WIDE


def independent_loci(bfile: str | Path, result: pd.DataFrame, p1: float = GENOME_WIDE, r2: float = 0.05,
                     kb: float = 5000, p2: float = 1e-2) -> pd.DataFrame:
    """Clump the GWAS P (PLINK 1.9 ``--clump`` on ``bfile``) into independent loci.

    Returns one row per clump: ``LOCUS #CHROM POS ID P TOTAL N_SP2 START END SP2``;
    START/END span the index and its SP2 members (p < ``p2``).
    """
    from alignome.genetics.clump import clump

    sumstats = pd.DataFrame({"variant": result["ID"].astype(str).to_numpy(), "p": result["P"].to_numpy(float)})
    sumstats = sumstats[np.isfinite(sumstats["p"])]
    res = clump(bfile, sumstats, p1=p1, p2=p2, r2=r2, kb=kb)
    pos = pd.Series(result["POS"].to_numpy(), index=result["ID"].astype(str).to_numpy())
    pos = pos[~pos.index.duplicated()]
    rows = []
    for i, c in enumerate(res.clumps, start=1):
        span = [c.bp, *(int(pos[m]) for m in c.members if m in pos.index)]
        rows.append({"LOCUS": i, "#CHROM": c.chrom, "POS": c.bp, "ID": c.index, "P": c.p, "TOTAL": c.total,
                     "N_SP2": len(c.members), "START": min(span), "END": max(span),
                     "SP2": ",".join(c.members) if c.members else "NONE"})
    frame = pd.DataFrame(rows, columns=["LOCUS", "#CHROM", "POS", "ID", "P", "TOTAL", "N_SP2", "START", "END", "SP2"])
    # typed even when empty, so that tables of several traits concatenate to numeric columns
    return frame.astype({"LOCUS": np.int64, "POS": np.int64, "P": np.float64, "TOTAL": np.int64, "N_SP2": np.int64,
                         "START": np.int64, "END": np.int64})


_ALIASES = {
    "chrom": ("#chrom", "chrom", "chr", "chromosome", "#chr"),
    "pos": ("pos", "bp", "position", "base_pair_location"),
    "id": ("id", "snp", "rsid", "variant", "variant_id", "markername"),
    "p": ("p", "pval", "p_value", "pvalue", "p-value"),
}


def _find(columns: list[str], key: str) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[a] for a in _ALIASES[key] if a in lower), None)


def read_known_loci(path: str | Path, bfile: str | Path | None = None, *, p1: float = GENOME_WIDE,
                    r2: float = 0.05, kb: float = 5000) -> pd.DataFrame:
    """Known disease loci as lead variants: columns ``ID``, ``#CHROM``, ``POS``.

    ``path`` is either a list of lead variants (ID and/or CHROM+POS; positions
    of IDs alone are looked up in ``bfile``'s ``.bim``) or disease summary
    statistics (a P column): those are clumped on ``bfile`` at ``p1`` /
    ``r2`` / ``kb`` (paper 003: 5e-8, 0.05, 5 Mb) and the index variants kept.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path, fix="give a table of known loci or disease summary statistics")
    frame = read_delimited(path)
    cols = [str(c) for c in frame.columns]
    frame.columns = cols
    c_id, c_chrom, c_pos, c_p = (_find(cols, k) for k in ("id", "chrom", "pos", "p"))
    bim = None
    if bfile is not None:
        from alignome.gwas.stream import open_bed_stream

        bim = open_bed_stream(bfile).variants
    if c_p is not None:
        if bim is None or c_id is None:
            raise DataError("summary statistics of known loci need a variant ID column and --bfile to clump on",
                            file=path, field="ID", fix="give an ID/SNP column (ids as in the .bim)")
        from alignome.genetics.clump import clump

        res = clump(bfile, pd.DataFrame({"variant": frame[c_id].astype(str), "p": frame[c_p].astype(float)}),
                    p1=p1, p2=min(max(p1, 1e-2), 1.0), r2=r2, kb=kb)
        lead = pd.DataFrame({"ID": [c.index for c in res.clumps], "#CHROM": [c.chrom for c in res.clumps],
                             "POS": [c.bp for c in res.clumps]})
        lead.attrs["source"] = f"clumped {path.name} (p1={p1:g}, r2={r2:g}, kb={kb:g}); {len(res.missing)} " \
                               "top variant(s) absent from the .bim"
        return lead
    if c_chrom is not None and c_pos is not None:
        lead = pd.DataFrame({"ID": frame[c_id].astype(str) if c_id else
                             frame[c_chrom].astype(str) + ":" + frame[c_pos].astype(str),
                             "#CHROM": frame[c_chrom].astype(str), "POS": frame[c_pos].astype(np.int64)})
    elif c_id is not None and bim is not None:
        where = pd.Index(bim["id"].astype(str)).get_indexer(frame[c_id].astype(str))
        if (where < 0).any():
            bad = frame[c_id].astype(str)[where < 0].iloc[0]
            raise DataError(f"{int((where < 0).sum())} known variant(s) not in the .bim (e.g. {bad})", file=path,
                            field=c_id, fix="add CHROM and POS columns for variants missing from the genotypes")
        lead = pd.DataFrame({"ID": frame[c_id].astype(str).to_numpy(),
                             "#CHROM": bim["chrom"].astype(str)[where],
                             "POS": bim["pos"].astype(np.int64)[where]})
    else:
        raise DataError(f"cannot find lead-variant columns in {cols[:10]}", file=path, field="ID",
                        fix="give CHROM and POS columns (or ID with --bfile), or summary statistics with ID and P")
    lead.attrs["source"] = f"{len(lead)} lead variants from {path.name}"
    return lead


@dataclass(frozen=True)
class Recovery:
    """Recovery of known loci by the GWAS (paper 003).

    ``n_tested`` known loci have at least one tested variant within the window;
    the fractions are over ``n_known``.
    """

    n_known: int
    n_tested: int
    window_kb: float
    genome_wide_threshold: float
    bonferroni_threshold: float
    recovered_genome_wide: int
    recovered_bonferroni: int
    fraction_genome_wide: float
    fraction_bonferroni: float


def _norm_chrom(values) -> np.ndarray:
    return np.array([re.sub(r"^chr", "", str(c), flags=re.IGNORECASE) for c in values], dtype=object)


def recovery(result: pd.DataFrame, known: pd.DataFrame, window_kb: float = 250.0,
             threshold: float = GENOME_WIDE, alpha: float = 0.05) -> tuple[Recovery, pd.DataFrame]:
    """Fraction of known loci with a GWAS hit within ± ``window_kb`` of the lead variant.

    A known locus is recovered at genome-wide significance when a tested variant
    with P < ``threshold`` lies within the window, and at Bonferroni significance
    when one with P < ``alpha / n_tested`` does (``n_tested``: known loci with
    any tested variant in their window).  ``window_kb = 0`` matches the lead
    variant's position only (the variant-level count of paper 003).

    Returns the summary and a per-locus table (``MIN_P``, ``BEST_ID``, flags).
    """
    p = result["P"].to_numpy(float)
    chrom = _norm_chrom(result["#CHROM"])
    pos = result["POS"].to_numpy(np.int64)
    radius = int(round(window_kb * 1000))
    by_chrom = {}
    for c in np.unique(chrom):
        idx = np.flatnonzero(chrom == c)
        idx = idx[np.argsort(pos[idx], kind="stable")]
        by_chrom[c] = (pos[idx], p[idx], result["ID"].to_numpy()[idx])
    rows = []
    for kid, kc, kp in zip(known["ID"], _norm_chrom(known["#CHROM"]), known["POS"].to_numpy(np.int64)):
        best_p, best_id, n_in = np.nan, "", 0
        if kc in by_chrom:
            ps, pv, ids = by_chrom[kc]
            lo, hi = np.searchsorted(ps, kp - radius, "left"), np.searchsorted(ps, kp + radius, "right")
            window = pv[lo:hi]
            ok = np.isfinite(window)
            n_in = int(ok.sum())
            if n_in:
                j = lo + int(np.nanargmin(np.where(ok, window, np.inf)))
                best_p, best_id = float(pv[j]), str(ids[j])
        rows.append({"ID": kid, "#CHROM": kc, "POS": int(kp), "N_TESTED": n_in, "MIN_P": best_p, "BEST_ID": best_id})
    table = pd.DataFrame(rows, columns=["ID", "#CHROM", "POS", "N_TESTED", "MIN_P", "BEST_ID"])
    n_known = len(table)
    n_tested = int((table["N_TESTED"] > 0).sum())
    bonf = alpha / max(n_tested, 1)
    table["GENOME_WIDE"] = table["MIN_P"] < threshold
    table["BONFERRONI"] = table["MIN_P"] < bonf
    gw, bf = int(table["GENOME_WIDE"].sum()), int(table["BONFERRONI"].sum())
    summary = Recovery(n_known=n_known, n_tested=n_tested, window_kb=window_kb, genome_wide_threshold=threshold,
                       bonferroni_threshold=bonf, recovered_genome_wide=gw, recovered_bonferroni=bf,
                       fraction_genome_wide=gw / n_known if n_known else float("nan"),
                       fraction_bonferroni=bf / n_known if n_known else float("nan"))
    return summary, table
