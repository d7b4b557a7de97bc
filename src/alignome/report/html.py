"""Self-contained HTML page of a run: inline CSS, images inlined as base64."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - the GWAS page imports this module without the run-report stack
    from alignome.report.rundir import RunFiles

#: Lines of run.log shown at the end of the page.
LOG_TAIL_LINES = 80

PAGE_CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --soft:#f6f8fa; --accent:#0b5cad; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
       font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, "DejaVu Sans", sans-serif; }
main { max-width: 1400px; margin: 0 auto; padding: 28px 24px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.subtitle { color: var(--muted); margin: 0 0 8px; }
.meta { display:flex; flex-wrap:wrap; gap:8px 20px; margin: 12px 0; padding:0; list-style:none; }
.meta li { background: var(--soft); border:1px solid var(--line); border-radius:6px; padding:4px 10px; }
.meta b { color: var(--muted); font-weight: 600; margin-right: 4px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; font-size: 14px; }
table.summary td:first-child, table.summary th:first-child { min-width: 15em; }  /* metric names, not wrapped word by word */
th, td { border: 1px solid var(--line); padding: 5px 10px; text-align: left; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; }
td.num { white-space: nowrap; }
table tr.pair-start td { border-top: 2px solid #8c959f; }
table.summary td strong { color: #0a3069; }
p.note strong { color: var(--fg); }
td .ci { display: block; font-size: 12.5px; color: var(--muted); }
.table-wrap { overflow-x: auto; }
.note, figcaption, .small { color: var(--muted); font-size: 13.5px; }
figure { margin: 22px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption b { color: var(--fg); }
details { margin: 10px 0; border: 1px solid var(--line); border-radius: 6px; background: var(--soft); }
summary { cursor: pointer; padding: 6px 12px; font-weight: 600; }
pre { margin: 0; padding: 10px 12px; overflow-x: auto; font: 12.5px/1.45 ui-monospace, Menlo, Consolas, monospace;
      background: #ffffff; border-top: 1px solid var(--line); white-space: pre; }
ul.notes { margin: 6px 0; padding-left: 20px; }
"""


@dataclass
class FigureEntry:
    """A figure to show in the report.

    Attributes
    ----------
    path
        The PNG file.
    title
        Short heading.
    caption
        One line telling the reader what to look at.
    """

    path: Path
    title: str
    caption: str


def _inline(text: str) -> str:
    """Escape text and turn markdown ``**bold**`` and ```code``` into HTML."""
    out = html.escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"(?<![\w*])_(.+?)_(?![\w*])", r"<em>\1</em>", out)
    return out


def _split_row(line: str) -> list[str]:
    inner = line.strip()
    if inner.startswith("|"):
        inner = inner[1:]
    if inner.endswith("|"):
        inner = inner[:-1]
    return [cell.strip() for cell in inner.split("|")]


def _is_separator(line: str) -> bool:
    return bool(re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", line.strip()))


#: A cell that reads as a number: optional bold, sign, digits (then anything, e.g. ``± std [low, high]``), or a dash.
_NUMERIC_CELL = re.compile(r"^(\*\*)?[-+−]?\d|^[–-]$")
#: An interval ``[low, high]`` in a numeric cell, with its optional mark; shown on a line of its own.
_INTERVAL = re.compile(r"\[([-+−]?\d[\d.]*, [-+−]?\d[\d.]*)\]([†*]?)")


def _numeric_cell_html(cell: str) -> str:
    return _INTERVAL.sub(r'<span class="ci">[\1]\2</span>', _inline(cell))


def _table_html(lines: list[str], css_class: str) -> str:
    """A pipe table; columns after the first whose cells all read as numbers are right-aligned.

    In a table whose first column is blank on continuation rows (a method's AUC and RMSE
    rows), each row that names a method starts a visibly separated group.
    """
    header = _split_row(lines[0])
    body = [_split_row(line) for line in lines[2:]]
    numeric = [i > 0 and bool(body) and all(_NUMERIC_CELL.match(row[i]) for row in body if i < len(row))
               for i in range(len(header))]
    grouped = any(row and not row[0] for row in body)
    parts = ['<div class="table-wrap">', f'<table class="{css_class}">', "<thead><tr>"]
    num = ' class="num"'
    parts += [f"<th{num if numeric[i] else ''}>{_inline(h)}</th>" for i, h in enumerate(header)]
    parts.append("</tr></thead><tbody>")
    for row in body:
        starts_group = grouped and bool(row and row[0])
        parts.append('<tr class="pair-start">' if starts_group else "<tr>")
        for i, cell in enumerate(row):
            cls = ' class="num"' if i < len(numeric) and numeric[i] else ""
            parts.append(f"<td{cls}>{_numeric_cell_html(cell) if cls else _inline(cell)}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def markdown_to_html(markdown: str, table_class: str = "summary") -> str:
    """Render the small markdown subset alignome writes: pipe tables and paragraphs.

    Parameters
    ----------
    markdown
        Text with GitHub-style pipe tables (header, ``---`` separator, rows),
        ``**bold**``, ```code``` and ``_emphasis_``; anything else becomes
        paragraphs, separated by blank lines.
    table_class
        CSS class of rendered tables.

    Returns
    -------
    str
        HTML fragment; all text is escaped.
    """
    lines = markdown.splitlines()
    out: list[str] = []
    i = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f'<p class="note">{_inline(" ".join(paragraph))}</p>')
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("|") and i + 1 < len(lines) and _is_separator(lines[i + 1]):
            flush()
            j = i + 2
            while j < len(lines) and lines[j].strip().startswith("|"):
                j += 1
            out.append(_table_html(lines[i:j], table_class))
            i = j
            continue
        if line.strip():
            paragraph.append(line.strip())
        else:
            flush()
        i += 1
    flush()
    return "\n".join(out)


def png_data_uri(path: Path) -> str:
    """A PNG file as a ``data:`` URI, so a page embeds it without a second file."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _fmt_seconds(value: Any) -> str:
    try:
        s = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    if s >= 3600:
        return f"{s / 3600:.2f} h"
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def _meta_items(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    items = []
    for key, label in (("contrastive_form", "contrastive loss"),):
        if metrics.get(key) is not None:
            value = str(metrics[key])
            if key == "contrastive_form":
                value += {
                    "decoupled": " (positive pair excluded from the denominator, as papers 000 and 003 write it)",
                    "standard": " (standard InfoNCE, positive in the denominator)",
                    "infonce": " (standard InfoNCE, positive in the denominator)",
                }.get(value.lower(), "")
            items.append((label, value))
    return items


def _counts_table(intro: str, counts: dict[str, Any]) -> str:
    """A one-row table of labelled counts after an introducing sentence."""
    head = "".join(f'<th class="num">{html.escape(str(k))}</th>' for k in counts)
    row = "".join(f'<td class="num">{html.escape(str(v))}</td>' for v in counts.values())
    return f"<p>{html.escape(intro)}</p><table><thead><tr>{head}</tr></thead><tbody><tr>{row}</tr></tbody></table>"


def _cohort_html(cohort: Any) -> str:
    if not isinstance(cohort, dict) or not cohort:
        return '<p class="note">No cohort counts recorded (metrics.json has no "cohort").</p>'
    parts = ['<ul class="meta">']
    for key, label in (("subjects", "subjects"), ("scans", "scans"),
                       ("single_visit_subjects", "subjects with one scan (evaluation only)")):
        if key in cohort:
            parts.append(f"<li><b>{label}</b>{html.escape(str(cohort[key]))}</li>")
    parts.append("</ul>")
    for key, intro in (("final_visits", "Final visits used by the classifier, by diagnosis:"),
                       ("split_subjects", "Subjects per split (subject-wise):")):
        counts = cohort.get(key)
        if isinstance(counts, dict) and counts:
            parts.append(_counts_table(intro, counts))
    drops = cohort.get("drops")
    if isinstance(drops, list) and drops:
        parts.append("<p>Records dropped while building the cohort:</p><ul class=\"notes\">")
        parts += [f"<li>{html.escape(str(d))}</li>" for d in drops]
        parts.append("</ul>")
    return "".join(parts)


def _timings_html(timings: Any) -> str:
    if not isinstance(timings, dict) or not timings:
        return '<p class="note">No timings recorded.</p>'
    rows = []
    total = 0.0
    for stage, seconds in timings.items():
        rows.append(f'<tr><td>{html.escape(str(stage))}</td><td class="num">{_fmt_seconds(seconds)}</td></tr>')
        try:
            total += float(seconds)
        except (TypeError, ValueError):
            pass
    rows.append(f'<tr><th>total</th><th class="num">{_fmt_seconds(total)}</th></tr>')
    return '<table><thead><tr><th>stage</th><th class="num">wall time</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"


def _details(summary: str, text: str | None, missing: str) -> str:
    if text is None:
        return f'<p class="note">{html.escape(missing)}</p>'
    return f"<details><summary>{html.escape(summary)}</summary><pre>{html.escape(text)}</pre></details>"


def render_html(
    run: RunFiles,
    summary_md: str,
    figures: list[FigureEntry],
    sections: list[tuple[str, str]] | None = None,
) -> str:
    """The report page of a run as one self-contained HTML document.

    Parameters
    ----------
    run
        Files of the run directory.
    summary_md
        Markdown of :func:`alignome.report.summary.summary_markdown`.
    figures
        Figures to embed, in order; each PNG is inlined as a base64 data URI.
    sections
        Further ``(heading, markdown)`` sections shown after the results table,
        e.g. the speed figures of a run.

    Returns
    -------
    str
        HTML text with inline CSS, no scripts, no links and no external resources.
    """
    metrics = run.metrics or {}
    recipe = metrics.get("recipe")
    title_bits = [f"recipe {recipe}" if recipe else f"run {run.run_dir.name}"]
    if metrics.get("preset"):
        title_bits.append(f"preset {metrics['preset']}")
    if metrics.get("seed") is not None:
        title_bits.append(f"seed {metrics['seed']}")
    title = "alignome report — " + ", ".join(title_bits)

    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="subtitle">Run directory: <code>{html.escape(run.run_dir.name)}</code></p>']
    meta = _meta_items(metrics)
    if meta:
        body.append('<ul class="meta">' + "".join(
            f"<li><b>{html.escape(k)}</b>{html.escape(v)}</li>" for k, v in meta) + "</ul>")

    body.append("<h2>Cohort</h2>")
    body.append(_cohort_html(metrics.get("cohort")))

    body.append("<h2>Results</h2>")
    body.append(markdown_to_html(summary_md))
    for heading, text in sections or []:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body.append(markdown_to_html(text))

    body.append("<h2>Figures</h2>")
    if not figures:
        body.append('<p class="note">No figure could be drawn from this run directory.</p>')
    for fig in figures:
        body.append(figure_html(fig.path, fig.title, fig.caption))

    body.append("<h2>Timings</h2>")
    body.append(_timings_html(metrics.get("timings_s")))

    if run.notes:
        body.append("<h2>Notes on the run directory</h2><ul class=\"notes small\">")
        body += [f"<li>{html.escape(n)}</li>" for n in run.notes]
        body.append("</ul>")

    body.append("<h2>Configuration and log</h2>")
    body.append(_details("Resolved configuration (config.resolved.yaml)", run.config_text,
                         "config.resolved.yaml is absent."))
    log_tail = None
    if run.log_text is not None:
        lines = run.log_text.splitlines()
        log_tail = "\n".join(lines[-LOG_TAIL_LINES:])
        label = f"Log tail (last {min(len(lines), LOG_TAIL_LINES)} of {len(lines)} lines of run.log)"
    else:
        label = "Log tail"
    body.append(_details(label, log_tail, "run.log is absent."))

    return html_document(title, body)


def html_document(title: str, body: list[str]) -> str:
    """A self-contained HTML page (inline CSS, no scripts, no external resources) around ``body``."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{PAGE_CSS}</style></head>"
        "<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n"
    )


def figure_html(path: Path, title: str, caption: str) -> str:
    """One embedded figure with its title and caption."""
    alt = html.escape(title, quote=True)
    return (f'<figure><img alt="{alt}" src="{png_data_uri(path)}">'
            f"<figcaption><b>{html.escape(title)}.</b> {html.escape(caption)}</figcaption></figure>")
