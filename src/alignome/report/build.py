"""Steps every run report shares: a fresh figures folder, figures drawn with notes for those skipped, the page."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from alignome.report.html import FigureEntry, render_html
from alignome.report.rundir import RunFiles

#: A figure to draw: file name, drawing function (None when there was nothing to draw), title, caption.
FigureSpec = tuple[str, Callable[[], Path | None], str, str]


def fresh_figure_dir(run_dir: Path, names: Iterable[str]) -> Path:
    """``run_dir/figures``, created, without the figures ``names`` of an earlier build (stale ones must not survive)."""
    fig_dir = run_dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    for name in names:
        (fig_dir / name).unlink(missing_ok=True)
    return fig_dir


def draw_figures(run: RunFiles, specs: Iterable[FigureSpec]) -> list[FigureEntry]:
    """Draw each figure; one with nothing to plot becomes a note in the report."""
    figures: list[FigureEntry] = []
    for name, draw, title, caption in specs:
        path = draw()
        if path is None:
            run.notes.append(f"{name} was not drawn: its input holds nothing to plot.")
            continue
        figures.append(FigureEntry(path=path, title=title, caption=caption))
    return figures


def write_report(run: RunFiles, summary_md: str, table_md: str, figures: list[FigureEntry],
                 sections: list[tuple[str, str]] | None = None, summary_table: pd.DataFrame | None = None) -> Path:
    """Write ``summary.md`` (and ``summary.csv`` from ``summary_table``) and the self-contained ``report.html``.

    Returns the page's path.
    """
    (run.run_dir / "summary.md").write_text(summary_md, encoding="utf-8")
    if summary_table is not None:
        summary_table.to_csv(run.run_dir / "summary.csv", index=False)
    report = run.run_dir / "report.html"
    report.write_text(render_html(run, table_md, figures, sections=sections), encoding="utf-8")
    return report
