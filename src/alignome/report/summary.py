"""Summary table of a run in the shape of paper 000, Table 1."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from alignome.errors import DataError
from alignome.report.intervals import LEVEL, AucBootstrap, fold_interval
from alignome.report.ordering import MethodOrder, is_oracle, order_tasks, task_classes

#: Columns ``results.csv`` must have.
RESULT_COLUMNS = ("method", "task", "metric", "fold", "value")
#: Table row each metric is shown in; the AUC row holds binary AUC for two-class
#: tasks and macro one-vs-rest AUC for three-class tasks.
METRIC_ROW = {"auc": "AUC", "auc_macro_ovr": "AUC", "mmse_rmse": "RMSE"}
#: Which direction is better for each table row.
HIGHER_IS_BETTER = {"AUC": True, "RMSE": False}
#: Decimals shown in every cell; ties for best are judged on these rounded values.
DECIMALS = 3
#: ``interval`` column: how a cell's 95 % interval was made.
BOOTSTRAP, FOLDS = "bootstrap", "folds"
#: Marks a cell whose interval is over folds, not over test subjects.
FOLD_MARK = "†"
#: Range of an AUC and of a difference of two AUCs, to which fold-level intervals are clipped.
AUC_BOUNDS, DIFFERENCE_BOUNDS = (0.0, 1.0), (-1.0, 1.0)
#: Shown in a cell without a value.
MISSING = "–"
#: Columns of :func:`summarise`'s table (and of ``summary.csv``).
SUMMARY_COLUMNS = ("method", "row", "task", "metric", "mean", "std", "n", "best", "ci_low", "ci_high", "interval",
                   "diff_vs", "diff", "diff_low", "diff_high", "diff_interval")


def _check_columns(results: pd.DataFrame) -> None:
    missing = [c for c in RESULT_COLUMNS if c not in results.columns]
    if missing:
        raise DataError(
            f"results table lacks column(s) {', '.join(missing)}",
            file="results.csv",
            field=missing[0],
            fix="results.csv must have columns method,task,metric,fold,value (one row per outer fold)",
        )


def _auc_metric_for(task: str, metrics: set[str]) -> str:
    """AUC metric a task's AUC cell uses: macro OvR for 3+ classes when present."""
    if len(task_classes(task)) > 2 and "auc_macro_ovr" in metrics:
        return "auc_macro_ovr"
    return "auc"


def _auc_intervals(out: pd.DataFrame, fold_values: "pd.api.typing.SeriesGroupBy",
                   intervals: AucBootstrap | None) -> None:
    """Fill ``ci_low, ci_high, interval`` of AUC rows: bootstrap over subjects, else t over folds."""
    for i, rec in out[out["row"] == "AUC"].iterrows():
        ci = intervals.interval(rec["method"], rec["task"]) if intervals is not None else None
        kind = BOOTSTRAP
        if ci is None:
            ci, kind = fold_interval(fold_values.get_group((rec["method"], rec["task"], rec["metric"])).to_numpy(),
                                     AUC_BOUNDS), FOLDS
        if ci is not None:
            out.loc[i, ["ci_low", "ci_high", "interval"]] = [ci[0], ci[1], kind]


def _differences(out: pd.DataFrame, df: pd.DataFrame, intervals: AucBootstrap | None, comparator: str) -> None:
    """Fill ``diff_vs, diff, diff_low, diff_high`` of AUC rows: method − comparator, paired."""
    auc = df[df["metric"].isin(["auc", "auc_macro_ovr"])]
    by_fold = auc.pivot_table(index=["task", "metric", "fold"], columns="method", values="value", aggfunc="first")
    if comparator not in by_fold.columns:
        return
    for i, rec in out[(out["row"] == "AUC") & (out["method"] != comparator)].iterrows():
        if rec["method"] not in by_fold.columns:
            continue
        folds = by_fold.loc[(rec["task"], rec["metric"])]
        paired = (folds[rec["method"]] - folds[comparator]).dropna()
        if paired.empty:
            continue
        ci = intervals.difference(rec["method"], comparator, rec["task"]) if intervals is not None else None
        kind = BOOTSTRAP
        if ci is None:
            ci, kind = fold_interval(paired.to_numpy(), DIFFERENCE_BOUNDS), FOLDS
        out.loc[i, ["diff_vs", "diff"]] = [comparator, float(paired.mean())]
        if ci is not None:
            out.loc[i, ["diff_low", "diff_high", "diff_interval"]] = [ci[0], ci[1], kind]


def summarise(results: pd.DataFrame, order: MethodOrder = MethodOrder(), intervals: AucBootstrap | None = None,
              comparator: str | None = None) -> pd.DataFrame:
    """Mean and standard deviation over outer folds, and the AUC's 95 % interval, per method, task and table row.

    Parameters
    ----------
    results
        Long table with columns ``method, task, metric, fold, value``, one row per
        outer fold. Metrics ``auc`` (binary ROC-AUC), ``auc_macro_ovr`` (macro
        one-vs-rest ROC-AUC of a 3-class task) and ``mmse_rmse`` (RMSE of min-max
        scaled MMSE) are summarised; other metrics are ignored. NaN values are
        dropped before averaging.
    order
        Display order of the methods.
    intervals
        Bootstrap of the run's test subjects (:func:`alignome.report.intervals.bootstrap_auc`);
        AUC rows without draws there get a t-interval over folds.
    comparator
        Method every AUC row is compared with (paired difference); None for none.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`. ``row`` is ``"AUC"`` or ``"RMSE"``; ``std`` is the
        sample standard deviation (``ddof=1``, NaN for a single fold); ``best`` marks the
        highest AUC or lowest RMSE per task among non-oracle methods, judged on values rounded
        to 3 decimals so that displayed ties are all best. AUC rows carry a 95 % interval
        ``ci_low, ci_high`` made as ``interval`` says (``"bootstrap"`` over test subjects,
        ``"folds"`` a t-interval over fold values, empty for none), and, with a
        ``comparator``, the mean paired difference ``diff`` to ``diff_vs`` over their common
        folds with its 95 % interval, made as ``diff_interval`` says (same resamples for both
        methods, or t over fold differences). Rows are in display order (methods as ``order`` says, oracle last).

    Raises
    ------
    DataError
        If a required column is missing.
    """
    _check_columns(results)
    df = results.loc[:, list(RESULT_COLUMNS)].copy()
    df["method"] = df["method"].astype(str)
    df["task"] = df["task"].astype(str)
    df["metric"] = df["metric"].astype(str).str.strip()
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    df = df[df["metric"].isin(list(METRIC_ROW)) & df["value"].notna()]

    # Keep, per task, the AUC flavour the table shows (macro OvR for 3-class).
    keep = np.ones(len(df), dtype=bool)
    for task, sub in df.groupby("task"):
        auc_metric = _auc_metric_for(task, set(sub["metric"]))
        drop = sub["metric"].isin(["auc", "auc_macro_ovr"]) & (sub["metric"] != auc_metric)
        keep[df.index.get_indexer(sub.index[drop])] = False
    df = df[keep]

    if df.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    grouped = df.groupby(["method", "task", "metric"], sort=False)["value"]
    out = grouped.agg(mean="mean", std=lambda v: v.std(ddof=1), n="count").reset_index()
    out["row"] = out["metric"].map(METRIC_ROW)

    out["best"] = False
    for (row, _task), sub in out.groupby(["row", "task"]):
        candidates = sub[~sub["method"].map(is_oracle)]
        if candidates.empty:
            continue
        rounded = candidates["mean"].round(DECIMALS)
        target = rounded.max() if HIGHER_IS_BETTER[row] else rounded.min()
        out.loc[candidates.index[rounded == target], "best"] = True

    out = out.assign(ci_low=np.nan, ci_high=np.nan, interval="", diff_vs="", diff=np.nan, diff_low=np.nan,
                     diff_high=np.nan, diff_interval="")
    _auc_intervals(out, grouped, intervals)
    if comparator is not None:
        _differences(out, df, intervals, comparator)

    method_rank = {m: i for i, m in enumerate(order.methods(out["method"]))}
    task_rank = {t: i for i, t in enumerate(order_tasks(out["task"]))}
    row_rank = {"AUC": 0, "RMSE": 1}
    out = out.sort_values(
        by=["method", "row", "task"],
        key=lambda s: s.map({"method": method_rank, "row": row_rank, "task": task_rank}[s.name]),
    )
    return out.loc[:, list(SUMMARY_COLUMNS)].reset_index(drop=True)


def _is_nan(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_interval(low: float, high: float, kind: str = BOOTSTRAP, signed: bool = False) -> str:
    """An interval as ``[low, high]`` with 3 decimals (``+`` shown when ``signed``), marked when over folds."""
    spec = f"+.{DECIMALS}f" if signed else f".{DECIMALS}f"
    return f"[{low:{spec}}, {high:{spec}}]" + (FOLD_MARK if kind == FOLDS else "")


def format_cell(mean: float, std: float, best: bool = False, interval: tuple[float, float] | None = None,
                kind: str = BOOTSTRAP) -> str:
    """Format one table cell as ``mean ± std`` with 3 decimals, then the interval if any, bold if best.

    Parameters
    ----------
    mean, std
        Fold mean and sample standard deviation; a NaN std (one fold) shows as ``–``.
    best
        Wrap the cell in ``**…**``.
    interval
        ``(low, high)`` shown as ``[low, high]``; None shows none.
    kind
        How the interval was made; one over folds is marked with :data:`FOLD_MARK`.

    Returns
    -------
    str
        Markdown text of the cell.
    """
    std_text = MISSING if _is_nan(std) else f"{std:.{DECIMALS}f}"
    text = f"{mean:.{DECIMALS}f} ± {std_text}"
    if interval is not None:
        text += " " + format_interval(*interval, kind=kind)
    return f"**{text}**" if best else text


def cell_interval(rec: object) -> tuple[float, float] | None:
    """The ``(ci_low, ci_high)`` of a summary row, None when it has none."""
    low, high = getattr(rec, "ci_low"), getattr(rec, "ci_high")
    return None if _is_nan(low) or _is_nan(high) else (float(low), float(high))


def _fold_counts_text(summary: pd.DataFrame) -> str:
    counts = sorted(set(int(n) for n in summary["n"]))
    if not counts:
        return "n = 0 folds"
    if len(counts) == 1:
        return f"n = {counts[0]} outer fold{'' if counts[0] == 1 else 's'} per cell"
    return f"n = {counts[0]}–{counts[-1]} outer folds per cell (differs between cells)"


def interval_note(kinds: set[str], intervals: AucBootstrap | None) -> str:
    """Sentences saying how intervals of the given ``kinds`` (:data:`BOOTSTRAP`, :data:`FOLDS`) were made."""
    level = f"{(intervals.level if intervals is not None else LEVEL) * 100:g} %"
    parts = []
    if BOOTSTRAP in kinds and intervals is not None:
        parts.append(
            f"Brackets hold a {level} percentile interval from {intervals.n_boot} bootstrap resamples "
            f"(seed {intervals.seed}) of each outer fold's test subjects, drawn within each class so that "
            "every resample keeps all the task's classes; each fold's AUC is recomputed on its resample and "
            "averaged over folds, as the point estimate is. The fitted models are held fixed, so the interval "
            "reflects which subjects were tested, not retraining.")
    if FOLDS in kinds:
        parts.append(
            f"An interval marked {FOLD_MARK} has no per-subject predictions behind it (predictions.csv absent "
            f"or incomplete): it is a {level} Student-t interval over the outer-fold values (mean ± t·sd/√n, "
            "clipped to the possible range), which treats folds as independent and is wide with few folds.")
    return " ".join(parts)


def table_markdown(summary: pd.DataFrame, order: MethodOrder = MethodOrder(),
                   intervals: AucBootstrap | None = None) -> str:
    """Markdown of :func:`summarise`'s table in the shape of paper 000 Table 1, with its note.

    One row pair per method (AUC row, RMSE row), one column per task, cells ``mean ± std``
    over outer folds with 3 decimals and, in AUC rows, the 95 % interval in brackets; the
    best cell per column in bold (highest AUC, lowest RMSE, ties all bold). The oracle is
    listed last and never bold because it sees the ground truth.
    """
    if summary.empty:
        return "_No AUC or RMSE results in results.csv._\n"
    tasks = order_tasks(summary["task"])
    rows_present = [r for r in ("AUC", "RMSE") if r in set(summary["row"])]
    lookup = {(r.method, r.row, r.task): r for r in summary.itertuples(index=False)}

    lines = [
        "| Model | Metric | " + " | ".join(tasks) + " |",
        "|---|---|" + "|".join("---" for _ in tasks) + "|",
    ]
    for method in order.methods(summary["method"]):
        for i, row in enumerate(rows_present):
            label = method + (" (sees ground truth)" if is_oracle(method) else "") if i == 0 else ""
            cells = []
            for task in tasks:
                rec = lookup.get((method, row, task))
                cells.append(MISSING if rec is None else
                             format_cell(rec.mean, rec.std, bool(rec.best), cell_interval(rec), rec.interval))
            lines.append(f"| {label} | {row} | " + " | ".join(cells) + " |")

    multi_class = [t for t in tasks if len(task_classes(t)) > 2]
    auc_text = "AUC is ROC-AUC" + (
        f"; for {', '.join(multi_class)} it is the macro-averaged one-vs-rest ROC-AUC." if multi_class else "."
    )
    note = (
        "Cells are mean ± standard deviation over outer folds (sample std, ddof=1; "
        f"{_fold_counts_text(summary)}). {auc_text} RMSE is the root mean squared error "
        "of MMSE after min-max scaling to 0–1; RMSE cells carry no interval. Bold marks the best "
        "cell per column (highest AUC, lowest RMSE, ties all bold, judged on the shown 3 decimal "
        "means); the oracle is listed last and excluded from best because it sees the ground truth."
    )
    if summary["std"].isna().any():
        note += " A cell from a single fold has no standard deviation and shows – in its place."
    auc_kinds = summary.loc[summary["row"] == "AUC", "interval"]
    intervals_text = interval_note(set(auc_kinds), intervals)
    if intervals_text:
        note += " " + intervals_text
    if (auc_kinds == "").any():
        note += " AUC cells without brackets have neither per-subject predictions nor two folds."
    return "\n".join(lines) + "\n\n" + note + "\n"


def summary_markdown(results: pd.DataFrame, order: MethodOrder = MethodOrder(),
                     intervals: AucBootstrap | None = None) -> str:
    """Markdown table in the shape of paper 000 Table 1 plus an explanatory note (see :func:`table_markdown`).

    Parameters
    ----------
    results
        Long table as read from ``results.csv`` (see :func:`summarise`).
    order
        Display order of the methods.
    intervals
        Bootstrap of the test subjects; without it AUC intervals are over folds.

    Returns
    -------
    str
        The table followed by a blank line and a note paragraph.

    Raises
    ------
    DataError
        If a required column is missing.
    """
    return table_markdown(summarise(results, order, intervals), order, intervals)
