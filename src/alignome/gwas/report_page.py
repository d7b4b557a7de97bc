"""One self-contained HTML page of a GWAS run: λGC, loci, recovery and the plots."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from alignome.report.html import figure_html, html_document, markdown_to_html

if TYPE_CHECKING:
    import pandas as pd

#: Loci listed on the page at most (all are in ``{out}.loci.tsv``).
MAX_LOCI_SHOWN = 25


#: Longest cell text shown (clump member lists can be long; the TSV has them whole).
MAX_CELL = 48


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    text = str(value).replace("|", "/")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _markdown_table(columns: list[str], rows) -> str:
    lines = ["| " + " | ".join(map(str, columns)) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _trait_table(summary: dict) -> str:
    rows = []
    for name, lam in summary["lambda_gc"].items():
        row = {"trait": name, "λGC": lam if lam is not None else float("nan")}
        if "n_loci" in summary:
            row["independent loci"] = summary["n_loci"].get(name, 0)
        rec = summary.get("recovery", {}).get(name)
        if rec is not None:
            row["known loci recovered, genome-wide"] = f"{rec.recovered_genome_wide}/{rec.n_known}"
            row["known loci recovered, Bonferroni"] = f"{rec.recovered_bonferroni}/{rec.n_known}"
        rows.append(row)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return _markdown_table(columns, [[row.get(c, "") for c in columns] for row in rows])


def write_gwas_page(summary: dict, loci: pd.DataFrame | None, figures: list[Path], out: Path) -> Path:
    """Write ``{out}.report.html`` from :func:`alignome.gwas.report.report_gwas`'s summary, loci and plots.

    Returns the path of the page: one file with the PNGs inlined, which opens without network.
    """
    out = Path(out)
    title = f"alignome GWAS — {out.name}"
    clump = summary["clump"]
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="subtitle">{summary["n_variants"]:,} variants tested; loci are clumped at '
            f'P &lt; {clump["p1"]:g}, r² {clump["r2"]:g}, {clump["kb"]:g} kb.</p>',
            "<h2>Per trait</h2>", markdown_to_html(_trait_table(summary)),
            '<p class="note">λGC is the median χ² over its null expectation; on a few Mb of linked variants '
            "it swings between about 0.9 and 1.2 for a null trait, so judge calibration on unlinked variants.</p>"]
    if loci is not None:
        body.append("<h2>Independent loci</h2>")
        if loci.empty:
            body.append('<p class="note">No variant passed the clumping threshold.</p>')
        else:
            shown = loci.head(MAX_LOCI_SHOWN)
            shown = shown.drop(columns=["SP2"], errors="ignore")
            body.append(markdown_to_html(_markdown_table(list(shown.columns), shown.itertuples(index=False))))
            tsv = f"{html.escape(out.name)}.loci.tsv"
            body.append(f'<p class="note">{len(shown)} of {len(loci)} loci shown; all, with their clump members '
                        f"(SP2), are in {tsv}.</p>" if len(loci) > len(shown) else
                        f'<p class="note">The clump members (SP2) of each locus are in {tsv}.</p>')
    if figures:
        body.append("<h2>Figures</h2>")
        for path in figures:
            kind = "Manhattan plot" if path.name.endswith(".manhattan.png") else "QQ plot"
            caption = ("−log10 P along the genome, genome-wide line at 5e-8." if kind == "Manhattan plot"
                       else "Observed against expected −log10 P; points above the diagonal at the top are signal, "
                            "a lift along the whole line is inflation.")
            body.append(figure_html(path, f"{kind} — {path.name}", caption))
    page = out.parent / f"{out.name}.report.html"
    page.write_text(html_document(title, body), encoding="utf-8")
    return page
