"""Figure of every figure of merit per encoder with its interval (bootstrap over test subjects, or range over seeds)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.report.figures import _method_colours, house_style, new_figure, save_figure

#: Panels per figure row.
COLUMNS = 4
#: Characters per line of a panel's title.
TITLE_WIDTH = 34


def merit_figure(cells: pd.DataFrame, panels: list[tuple[str, str, str]], methods: list[str], path: Path,
                 title: str) -> Path | None:
    """One panel per (task, metric, label) of ``panels``: a dot per method at ``value`` with a bar from ``low`` to ``high``.

    ``cells`` has columns method, task, metric, value, low, high (NaN bounds: no bar).
    Returns None when no panel has a value.
    """
    panels = [p for p in panels if ((cells["task"] == p[0]) & (cells["metric"] == p[1])
                                    & cells["value"].notna()).any()]
    if not panels:
        return None
    colours = _method_colours(methods)
    ypos = {m: len(methods) - 1 - i for i, m in enumerate(methods)}
    ncols = min(COLUMNS, len(panels))
    nrows = -(-len(panels) // ncols)
    with house_style():
        fig = new_figure((3.4 * ncols + 1.2, (0.32 * len(methods) + 1.4) * nrows + 0.5))
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax in axes.ravel()[len(panels):]:
            ax.set_visible(False)
        for ax, (task, metric, label) in zip(axes.ravel(), panels):
            sub = cells[(cells["task"] == task) & (cells["metric"] == metric)]
            for rec in sub.itertuples(index=False):
                if rec.method not in ypos or not np.isfinite(rec.value):
                    continue
                bar = None
                if np.isfinite(rec.low) and np.isfinite(rec.high):
                    bar = [[max(rec.value - rec.low, 0.0)], [max(rec.high - rec.value, 0.0)]]
                ax.errorbar(rec.value, ypos[rec.method], xerr=bar, fmt="o", color=colours[rec.method],
                            ms=5, capsize=3, lw=1.5)
            ax.set_yticks(list(ypos.values()))
            ax.set_yticklabels(list(ypos.keys()) if ax in axes[:, 0] else [])
            ax.set_ylim(-0.6, len(methods) - 0.4)
            ax.grid(axis="y", alpha=0.0)
            ax.set_title(textwrap.fill(label, TITLE_WIDTH), fontsize=9)
            ax.locator_params(axis="x", nbins=4)
        fig.suptitle(title, fontsize=11)
        fig.tight_layout()
        return save_figure(fig, path)
