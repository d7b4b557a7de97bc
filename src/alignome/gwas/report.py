"""After the scan: λGC, Manhattan/QQ plots, independent loci and recovery of known loci (paper 003).

* :func:`lambda_gc` — genomic inflation from p-values,
  ``qchisq(1 − median p, 1) / qchisq(0.5, 1)``.
* :func:`manhattan_plot`, :func:`qq_plot` — matplotlib (Agg) PNGs.
* :func:`independent_loci` — PLINK 1.9 clumping (:func:`alignome.genetics.clump.clump`)
  of the GWAS P at ``p1 = 5e-8``; defaults ``r2 = 0.05`` and ``kb = 5000`` as in paper 003
  ("r² < 0.05 within a 5 Mb window").
* :func:`read_known_loci`, :func:`recovery` — fraction of known disease loci
  recovered at genome-wide (5e-8) and Bonferroni (0.05 / known loci tested)
  significance within ± ``window_kb`` of each known lead variant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from alignome.cohort.tables import read_delimited
from alignome.errors import DataError

GENOME_WIDE = 5e-8


def lambda_gc(p: np.ndarray) -> float:
    """Genomic inflation factor from p-values (NaN ignored; 1-df χ² scale)."""
    p = np.asarray(p, dtype=float)
    p = p[np.isfinite(p)]
    if p.size == 0:
        return float("nan")
    # χ²₁ isf / median, as scipy.stats.chi2.isf / .ppf compute them (no scipy.stats import: ~1 s per CLI call)
    return float(special.chdtri(1, np.median(p)) / (2.0 * special.gammaincinv(0.5, 0.5)))


def _chrom_key(c: str) -> tuple:
    c = str(c).removeprefix("chr")
    return (0, int(c), "") if c.isdigit() else (1, 0, c)


def manhattan_plot(result: pd.DataFrame, path: str | Path, title: str = "", threshold: float = GENOME_WIDE) -> Path:
    """Manhattan plot: −log10 P by position, chromosomes in alternating colours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = result[["#CHROM", "POS", "P"]].dropna()
    frame = frame[frame["P"] > 0].assign(CH=frame["#CHROM"].astype(str)) if len(frame) else frame.assign(CH=[])
    chroms = sorted(frame["CH"].unique(), key=_chrom_key)
    fig, ax = plt.subplots(figsize=(11, 4), dpi=110)
    offset, ticks = 0.0, []
    colours = ("#1f4e79", "#7fa7d1")
    size = 4 if len(frame) > 20_000 else 10
    for i, ch in enumerate(chroms):
        sub = frame[frame["CH"] == ch]
        lo, hi = float(sub["POS"].min()), float(sub["POS"].max())
        x = offset + sub["POS"].to_numpy(dtype=float) - lo
        ax.scatter(x, -np.log10(sub["P"].to_numpy()), s=size, c=colours[i % 2], linewidths=0, rasterized=True)
        ticks.append((offset + (hi - lo) / 2, ch))
        offset += (hi - lo) + max(0.02 * (hi - lo), 1.0) + 1e5
    ymax = max(-np.log10(threshold) + 1, float(-np.log10(frame["P"].min())) * 1.05 if len(frame) else 0)
    ax.axhline(-np.log10(threshold), color="#c0392b", lw=0.8, ls="--", label=f"P = {threshold:g}")
    ax.set_xticks([t for t, _ in ticks], [c for _, c in ticks], fontsize=8)
    ax.set_xlim(-0.01 * max(offset, 1), offset * 1.01 if offset else 1)
    ax.set_ylim(0, ymax)
    ax.set_xlabel("chromosome")
    ax.set_ylabel(r"$-\log_{10} P$")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def qq_plot(p: np.ndarray, path: str | Path, title: str = "") -> Path:
    """QQ plot of −log10 P against the uniform expectation, with a 95 % band and λGC in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = np.sort(np.asarray(p, dtype=float)[np.isfinite(p)])
    p = np.clip(p, np.finfo(float).tiny, 1)
    n = p.size
    lam = lambda_gc(p)
    fig, ax = plt.subplots(figsize=(4.6, 4.6), dpi=110)
    if n:
        i = np.arange(1, n + 1)
        expected = -np.log10((i - 0.5) / n)
        from scipy import stats

        lo = -np.log10(stats.beta.ppf(0.975, i, n - i + 1))
        hi = -np.log10(stats.beta.ppf(0.025, i, n - i + 1))
        ax.fill_between(expected, lo, hi, color="0.85", lw=0, label="95% band")
        ax.scatter(expected, -np.log10(p), s=5, c="#1f4e79", linewidths=0, rasterized=True)
        top = float(expected[0]) * 1.05
        ax.plot([0, top], [0, top], color="#c0392b", lw=0.8)
        ax.set_xlim(0, top)
        ax.set_ylim(bottom=0)
    ax.set_xlabel(r"expected $-\log_{10} P$")
    ax.set_ylabel(r"observed $-\log_{10} P$")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"{title + ': ' if title else ''}λGC = {lam:.3f} ({n} tests)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


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
    return pd.DataFrame(rows, columns=["LOCUS", "#CHROM", "POS", "ID", "P", "TOTAL", "N_SP2", "START", "END", "SP2"])


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
                             "#CHROM": bim["chrom"].astype(str).to_numpy()[where],
                             "POS": bim["pos"].to_numpy(np.int64)[where]})
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


def write_summary(path: str | Path, payload: dict) -> Path:
    """Write a JSON summary (dataclasses converted, NaN → null)."""

    def conv(v):
        if hasattr(v, "__dataclass_fields__"):
            return conv(asdict(v))
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, (np.floating, float)):
            return None if not np.isfinite(v) else float(v)
        if isinstance(v, np.integer):
            return int(v)
        return v

    Path(path).write_text(json.dumps(conv(payload), indent=2) + "\n")
    return Path(path)


def _tests(result) -> tuple[bool, list[tuple[str, str, Callable[[], pd.DataFrame]]], int]:
    """``(single, [(name, label, rows of that test)], variants)`` of a ``run_gwas`` frame or a ``GwasScan``."""
    if isinstance(result, pd.DataFrame):
        if "PHENO" not in result.columns:
            label = (f"multi-trait ({result['METHOD'].iloc[0]}, D={result['D'].iloc[0]})" if len(result)
                     else "multi-trait")
            return False, [("multi", label, lambda: result)], int(result["ID"].nunique())
        return True, [(str(k), f"{k} (single-trait)", lambda g=g: g)
                      for k, g in result.groupby("PHENO", sort=False)], int(result["ID"].nunique())
    if result.mode == "multi":
        tests = [("multi", f"multi-trait ({result.method}, D={len(result.traits)})", lambda: result.test_frame("multi"))]
    else:
        tests = [(t, f"{t} (single-trait)", lambda t=t: result.test_frame(t)) for t in result.traits]
    return result.mode == "single", tests, len(result.variants)


def report_gwas(
    result,
    bfile: str | Path,
    out: str | Path,
    *,
    plots: bool = True,
    loci: bool = True,
    p1: float = GENOME_WIDE,
    r2: float = 0.05,
    kb: float = 5000,
    known_loci: str | Path | pd.DataFrame | None = None,
    window_kb: float = 250.0,
) -> dict:
    """Write λGC, plots, independent loci and recovery of known loci for a scan.

    ``result`` is a :func:`~alignome.gwas.run.run_gwas` frame or a
    :func:`~alignome.gwas.run.scan_gwas` :class:`~alignome.gwas.run.GwasScan`.

    Multi mode writes ``{out}.manhattan.png``, ``{out}.qq.png``, ``{out}.loci.tsv``;
    single mode the same per trait (``{out}.{trait}.…``; loci in one table with
    a ``PHENO`` column); ``{out}.summary.json`` holds λGC per trait (or the
    joint test), the number of loci, the clumping settings and the recovery;
    ``{out}.report.html`` shows all of it, plots inlined, on one page.
    With ``known_loci`` (a file for :func:`read_known_loci`, or its result) also
    ``{out}.known_loci.tsv`` (per known locus).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    single, groups, n_variants = _tests(result)
    summary: dict = {"lambda_gc": {}, "n_variants": n_variants,
                     "clump": {"p1": p1, "r2": r2, "kb": kb}, "files": []}
    loci_frames, recov = [], {}
    known = (known_loci if known_loci is None or isinstance(known_loci, pd.DataFrame)
             else read_known_loci(known_loci, bfile, p1=p1, r2=r2, kb=kb))
    for name, label, test_frame in groups:
        frame = test_frame()  # one test's rows at a time
        stem = out.parent / (f"{out.name}.{name}" if single else out.name)
        lam = lambda_gc(frame["P"].to_numpy(float))
        summary["lambda_gc"][name] = lam
        if plots:
            summary["files"] += [str(manhattan_plot(frame, f"{stem}.manhattan.png", title=f"{label}, λGC = {lam:.3f}")),
                                 str(qq_plot(frame["P"].to_numpy(float), f"{stem}.qq.png", title=label))]
        if loci:
            lf = independent_loci(bfile, frame, p1=p1, r2=r2, kb=kb)
            if single:
                lf.insert(0, "PHENO", name)
            loci_frames.append(lf)
        if known is not None:
            rec, table = recovery(frame, known, window_kb=window_kb, threshold=p1)
            recov[name] = rec
            if single:
                table.insert(0, "PHENO", name)
            recov.setdefault("_tables", []).append(table)
    if loci:
        loci_table = pd.concat(loci_frames, ignore_index=True)
        path = out.parent / f"{out.name}.loci.tsv"
        loci_table.to_csv(path, sep="\t", index=False, float_format="%.6g")
        summary["n_loci"] = {name: int((loci_table["PHENO"] == name).sum()) if single else len(loci_table)
                             for name, _, _ in groups}
        summary["files"].append(str(path))
    if known is not None:
        tables = recov.pop("_tables")
        path = out.parent / f"{out.name}.known_loci.tsv"
        pd.concat(tables, ignore_index=True).to_csv(path, sep="\t", index=False, float_format="%.6g")
        summary["known_loci"] = {"source": known.attrs.get("source", str(known_loci)), "window_kb": window_kb}
        summary["recovery"] = recov
        summary["files"].append(str(path))
    from alignome.gwas.report_page import write_gwas_page

    figures = [Path(f) for f in summary["files"] if str(f).endswith(".png")]
    page = write_gwas_page(summary, loci_table if loci else None, figures, out)
    summary["files"].append(str(page))
    write_summary(out.parent / f"{out.name}.summary.json", summary)
    return summary
