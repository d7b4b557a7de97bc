"""Summary table of a run in the shape of paper 000, Table 1."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from alignome.errors import DataError
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
_MISSING = "–"


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


def summarise(results: pd.DataFrame, order: MethodOrder = MethodOrder()) -> pd.DataFrame:
    """Mean and standard deviation over outer folds per method, task and table row.

    Parameters
    ----------
    results
        Long table with columns ``method, task, metric, fold, value``, one row per
        outer fold. Metrics ``auc`` (binary ROC-AUC), ``auc_macro_ovr`` (macro
        one-vs-rest ROC-AUC of a 3-class task) and ``mmse_rmse`` (RMSE of min-max
        scaled MMSE) are summarised; other metrics are ignored. NaN values are
        dropped before averaging.

    Returns
    -------
    pandas.DataFrame
        Columns ``method, row, task, metric, mean, std, n, best``. ``row`` is
        ``"AUC"`` or ``"RMSE"``; ``std`` is the sample standard deviation
        (``ddof=1``, NaN for a single fold); ``best`` marks the highest AUC or
        lowest RMSE per task among non-oracle methods, judged on values rounded to
        3 decimals so that displayed ties are all best. Rows are in display order
        (methods as ``order`` says, oracle last).

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

    columns = ["method", "row", "task", "metric", "mean", "std", "n", "best"]
    if df.empty:
        return pd.DataFrame(columns=columns)
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

    method_rank = {m: i for i, m in enumerate(order.methods(out["method"]))}
    task_rank = {t: i for i, t in enumerate(order_tasks(out["task"]))}
    row_rank = {"AUC": 0, "RMSE": 1}
    out = out.sort_values(
        by=["method", "row", "task"],
        key=lambda s: s.map({"method": method_rank, "row": row_rank, "task": task_rank}[s.name]),
    )
    return out.loc[:, columns].reset_index(drop=True)


def format_cell(mean: float, std: float, best: bool = False) -> str:
    """Format one table cell as ``mean ± std`` with 3 decimals, bold if best.

    Parameters
    ----------
    mean, std
        Fold mean and sample standard deviation; a NaN std (one fold) shows as ``–``.
    best
        Wrap the cell in ``**…**``.

    Returns
    -------
    str
        Markdown text of the cell.
    """
    std_text = _MISSING if std is None or (isinstance(std, float) and math.isnan(std)) else f"{std:.{DECIMALS}f}"
    text = f"{mean:.{DECIMALS}f} ± {std_text}"
    return f"**{text}**" if best else text


def _fold_counts_text(summary: pd.DataFrame) -> str:
    counts = sorted(set(int(n) for n in summary["n"]))
    if not counts:
        return "n = 0 folds"
    if len(counts) == 1:
        return f"n = {counts[0]} outer fold{'' if counts[0] == 1 else 's'} per cell"
    return f"n = {counts[0]}–{counts[-1]} outer folds per cell (differs between cells)"


def summary_markdown(results: pd.DataFrame, order: MethodOrder = MethodOrder()) -> str:
    """Markdown table in the shape of paper 000 Table 1 plus an explanatory note.

    One row pair per method (AUC row, RMSE row), one column per task, cells
    ``mean ± std`` over outer folds with 3 decimals, the best cell per column in
    bold (highest AUC, lowest RMSE, ties all bold). The oracle is listed last and
    never bold because it sees the ground truth.

    Parameters
    ----------
    results
        Long table as read from ``results.csv`` (see :func:`summarise`).
    order
        Display order of the methods.

    Returns
    -------
    str
        The table followed by a blank line and a note paragraph.

    Raises
    ------
    DataError
        If a required column is missing.
    """
    summary = summarise(results, order)
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
                cells.append(_MISSING if rec is None else format_cell(rec.mean, rec.std, bool(rec.best)))
            lines.append(f"| {label} | {row} | " + " | ".join(cells) + " |")

    note = (
        "Cells are mean ± standard deviation over outer folds (sample std, ddof=1; "
        f"{_fold_counts_text(summary)}). AUC is ROC-AUC; for the three-class task CN/MCI/AD "
        "it is the macro-averaged one-vs-rest ROC-AUC. RMSE is the root mean squared error "
        "of MMSE after min-max scaling to 0–1. Bold marks the best cell per column (highest "
        "AUC, lowest RMSE, ties all bold, judged on the shown 3 decimals); the oracle is "
        "listed last and excluded from best because it sees the ground truth."
    )
    if summary["std"].isna().any():
        note += " A cell from a single fold has no standard deviation and shows – in its place."
    return "\n".join(lines) + "\n\n" + note + "\n"
