"""After the scan: λGC, then plots, independent loci and recovery of known loci, on one page.

* :func:`report_gwas` — writes λGC, the plots (:mod:`alignome.gwas.plots`), the clumped loci
  and the recovery of known loci (:mod:`alignome.gwas.loci`), ``{out}.summary.json`` and
  ``{out}.report.html``.  Without plots, loci or known loci it needs neither pandas nor
  matplotlib. λGC and the genome-wide threshold are :mod:`alignome.gwas.significance`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from alignome.gwas.significance import GENOME_WIDE, lambda_gc

if TYPE_CHECKING:
    import pandas as pd


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


class _Test:
    """One test of a scan (a trait, or the joint test): its name, label, P and its rows as a frame."""

    def __init__(self, name: str, label: str, p: Callable[[], np.ndarray], frame: Callable[[], pd.DataFrame]):
        self.name, self.label, self.p, self.frame = name, label, p, frame


def _tests(result) -> tuple[bool, list[_Test], int]:
    """``(single, tests, variants)`` of a ``run_gwas`` frame or a ``GwasScan`` (no pandas for a ``GwasScan``)."""
    if hasattr(result, "p") and hasattr(result, "mode"):  # a GwasScan
        if result.mode == "multi":
            tests = [_Test("multi", f"multi-trait ({result.method}, D={len(result.traits)})",
                           lambda: result.p["multi"], lambda: result.test_frame("multi"))]
        else:
            tests = [_Test(t, f"{t} (single-trait)", lambda t=t: result.p[t], lambda t=t: result.test_frame(t))
                     for t in result.traits]
        return result.mode == "single", tests, result.n_variants
    n_variants = int(result["ID"].nunique())
    if "PHENO" not in result.columns:
        label = f"multi-trait ({result['METHOD'].iloc[0]}, D={result['D'].iloc[0]})" if len(result) else "multi-trait"
        return False, [_Test("multi", label, lambda: result["P"].to_numpy(float), lambda: result)], n_variants
    return True, [_Test(str(k), f"{k} (single-trait)", lambda g=g: g["P"].to_numpy(float), lambda g=g: g)
                  for k, g in result.groupby("PHENO", sort=False)], n_variants


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
    With ``known_loci`` (a file for :func:`~alignome.gwas.loci.read_known_loci`, or
    its result) also ``{out}.known_loci.tsv`` (per known locus).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    single, tests, n_variants = _tests(result)
    summary: dict = {"lambda_gc": {}, "n_variants": n_variants,
                     "clump": {"p1": p1, "r2": r2, "kb": kb}, "files": []}
    loci_frames, recov, recovery_tables = [], {}, []
    known = known_loci
    if isinstance(known_loci, (str, Path)):
        from alignome.gwas.loci import read_known_loci

        known = read_known_loci(known_loci, bfile, p1=p1, r2=r2, kb=kb)
    for test in tests:
        name = test.name
        stem = out.parent / (f"{out.name}.{name}" if single else out.name)
        lam = lambda_gc(test.p())
        summary["lambda_gc"][name] = lam
        if not (plots or loci or known is not None):
            continue
        frame = test.frame()  # one test's rows at a time
        if plots:
            from alignome.gwas.plots import manhattan_plot, qq_plot

            summary["files"] += [str(manhattan_plot(frame, f"{stem}.manhattan.png", title=f"{test.label}, λGC = {lam:.3f}")),
                                 str(qq_plot(frame["P"].to_numpy(float), f"{stem}.qq.png", title=test.label))]
        if loci:
            from alignome.gwas.loci import independent_loci

            lf = independent_loci(bfile, frame, p1=p1, r2=r2, kb=kb)
            if single:
                lf.insert(0, "PHENO", name)
            loci_frames.append(lf)
        if known is not None:
            from alignome.gwas.loci import recovery

            rec, table = recovery(frame, known, window_kb=window_kb, threshold=p1)
            recov[name] = rec
            if single:
                table.insert(0, "PHENO", name)
            recovery_tables.append(table)
    loci_table = None
    if loci:
        import pandas as pd

        loci_table = pd.concat(loci_frames, ignore_index=True)
        path = out.parent / f"{out.name}.loci.tsv"
        loci_table.to_csv(path, sep="\t", index=False, float_format="%.6g")
        summary["n_loci"] = {t.name: int((loci_table["PHENO"] == t.name).sum()) if single else len(loci_table)
                             for t in tests}
        summary["files"].append(str(path))
    if known is not None:
        import pandas as pd

        path = out.parent / f"{out.name}.known_loci.tsv"
        pd.concat(recovery_tables, ignore_index=True).to_csv(path, sep="\t", index=False, float_format="%.6g")
        summary["known_loci"] = {"source": known.attrs.get("source", str(known_loci)), "window_kb": window_kb}
        summary["recovery"] = recov
        summary["files"].append(str(path))
    from alignome.gwas.report_page import write_gwas_page

    figures = [Path(f) for f in summary["files"] if str(f).endswith(".png")]
    page = write_gwas_page(summary, loci_table, figures, out)
    summary["files"].append(str(page))
    write_summary(out.parent / f"{out.name}.summary.json", summary)
    return summary
