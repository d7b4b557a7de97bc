"""Headline table: per task, the proposed method beside its baselines and the oracle, and its paired gain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from alignome.report.intervals import AucBootstrap
from alignome.report.ordering import is_oracle, order_tasks
from alignome.report.summary import MISSING, DECIMALS, cell_interval, format_interval, interval_note


@dataclass(frozen=True)
class BestOf:
    """A headline column showing, per task, whichever of ``methods`` has the highest mean AUC."""

    label: str
    methods: tuple[str, ...]


@dataclass(frozen=True)
class Headline:
    """What a recipe's headline table shows.

    Attributes
    ----------
    main
        The proposed method; the difference column is ``main`` − comparator.
    columns
        Columns after ``main``, in order: a method name, or a :class:`BestOf` group.
        Methods absent from a run are left out, with a sentence saying so.
    comparators
        Candidates for the difference column, most wanted first; the first present is used.
    """

    main: str
    columns: tuple[str | BestOf, ...]
    comparators: tuple[str, ...]

    def comparator(self, methods: Iterable[str]) -> str | None:
        """The first of :attr:`comparators` among ``methods``; None if none is."""
        present = set(map(str, methods))
        return next((m for m in self.comparators if m in present), None)


def _auc_text(rec: object, name: str = "") -> str:
    """``AUC (name) [low, high]``; the name says which method a best-of column picked."""
    interval = cell_interval(rec)
    text = f"{rec.mean:.{DECIMALS}f}" + (f" ({name})" if name else "")
    return text if interval is None else f"{text} {format_interval(*interval, kind=rec.interval)}"


def _diff_text(rec: object) -> str:
    if rec is None or rec.diff_vs == "":
        return MISSING
    text = f"{rec.diff:+.{DECIMALS}f}"
    if pd.notna(rec.diff_low):
        text += " " + format_interval(rec.diff_low, rec.diff_high, kind=rec.diff_interval, signed=True)
    return text


def _best_of(auc: dict[tuple[str, str], object], group: BestOf, task: str) -> object | None:
    candidates = [auc[(m, task)] for m in group.methods if (m, task) in auc]
    return max(candidates, key=lambda rec: rec.mean) if candidates else None


def headline_markdown(summary: pd.DataFrame, headline: Headline, intervals: AucBootstrap | None = None) -> str:
    """Markdown of the headline table (one row per task, AUC with 95 % interval) and its note.

    Parameters
    ----------
    summary
        Table of :func:`alignome.report.summary.summarise`, made with
        ``comparator=headline.comparator(...)`` so that it holds the differences.
    headline
        Which methods to show.
    intervals
        The bootstrap behind the intervals, for the note.

    Returns
    -------
    str
        A bold title line, the table and a note; empty when ``main`` has no AUC in ``summary``.
    """
    auc = {(r.method, r.task): r for r in summary[summary["row"] == "AUC"].itertuples(index=False)}
    methods = {m for m, _ in auc}
    if headline.main not in methods:
        return ""
    columns = [c for c in headline.columns
               if (isinstance(c, BestOf) and methods & set(c.methods)) or c in methods]
    absent = [c for c in headline.columns if c not in columns]
    comparator = next((r.diff_vs for r in auc.values() if r.method == headline.main and r.diff_vs), None)

    header = [headline.main] + [c.label if isinstance(c, BestOf) else
                                c + (" (sees ground truth)" if is_oracle(c) else "") for c in columns]
    if comparator:
        header.append(f"{headline.main} − {comparator}")
    lines = ["| Task | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    kinds: set[str] = set()
    for task in order_tasks(t for _, t in auc):
        main = auc.get((headline.main, task))
        cells = [MISSING if main is None else _auc_text(main)]
        for column in columns:
            rec = _best_of(auc, column, task) if isinstance(column, BestOf) else auc.get((column, task))
            named = rec.method if isinstance(column, BestOf) and rec is not None else ""
            cells.append(MISSING if rec is None else _auc_text(rec, named))
            kinds.add("" if rec is None else rec.interval)
        if comparator:
            cells.append(_diff_text(main))
            kinds.add("" if main is None else main.diff_interval)
        kinds.add("" if main is None else main.interval)
        lines.append(f"| {task} | " + " | ".join(cells) + " |")

    note = [f"AUC per task (mean over outer folds, as in the full table below) of {headline.main} beside the "
            "baselines; the oracle sees the ground truth and marks the ceiling."]
    note += [f"{c.label.capitalize()}: the highest mean AUC among {', '.join(c.methods)}, per task."
             for c in columns if isinstance(c, BestOf)]
    if comparator:
        note.append(f"The last column is the mean paired difference {headline.main} − {comparator} over the same "
                    "folds; its interval draws the same resamples for both methods because they are scored on "
                    "the same test subjects. An interval that excludes 0 is a difference the test subjects "
                    "support at the 95 % level.")
    if absent:
        names = [c.label if isinstance(c, BestOf) else c for c in absent]
        note.append(f"Not in this run, so not shown: {', '.join(names)}.")
    if comparator and comparator != headline.comparators[0]:
        note.append(f"The difference is against {comparator} in place of {headline.comparators[0]}.")
    intervals_text = interval_note(kinds, intervals)
    if intervals_text:
        note.append(intervals_text)
    title = f"**Headline: {headline.main} beside the baselines (AUC, 95 % interval)**"
    return title + "\n\n" + "\n".join(lines) + "\n\n" + " ".join(note) + "\n"
