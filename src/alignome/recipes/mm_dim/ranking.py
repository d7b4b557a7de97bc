"""Hold-out AUC per objective and modality, sorted as paper 001's Fig. 2: table and ranking figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alignome.report.figures import house_style, new_figure, save_figure
from alignome.report.intervals import AucBootstrap

#: The bound from the planted truth (simulated cohorts), drawn as a line, never ranked.
ORACLE = "oracle"
#: Metric of the ranking.
HOLDOUT = "auc_holdout"


def holdout_summary(results: pd.DataFrame, metric: str = HOLDOUT, intervals: AucBootstrap | None = None) -> pd.DataFrame:
    """Mean, sd and folds of ``metric`` per (objective, modality), objectives sorted by their mean over modalities.

    ``results`` is the long table of a run (``method`` = objective, ``task`` = modality); with
    ``intervals`` (a bootstrap of the hold-out subjects) also ``low`` and ``high``, its 95 % interval
    (NaN where it has none).
    """
    rows = results[(results["metric"] == metric) & (results["method"] != ORACLE)].copy()
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce")
    table = rows.groupby(["method", "task"], sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    order = table.groupby("method")["mean"].mean().sort_values(ascending=False, kind="stable").index
    table["method"] = pd.Categorical(table["method"], categories=list(order), ordered=True)
    if intervals is not None:
        bounds = [intervals.interval(str(m), str(t)) or (np.nan, np.nan) for m, t in zip(table["method"], table["task"])]
        table["low"], table["high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    return table.sort_values(["method", "task"]).reset_index(drop=True)


def oracle_values(results: pd.DataFrame) -> dict[str, float]:
    """The oracle AUC of each modality, when the run has one."""
    rows = results[(results["method"] == ORACLE) & (results["metric"] == HOLDOUT)]
    return {str(t): float(v) for t, v in zip(rows["task"], pd.to_numeric(rows["value"], errors="coerce"))}


#: Column label and note of each metric a ranking table can show.
METRICS = {
    HOLDOUT: ("hold-out AUC", "scored on the hold-out subjects, which no fold trains on"),
    "auc_validation": ("left-out AUC", "scored on each fold's left-out subjects (its cross-validation part)"),
}


def _cell(row: pd.Series) -> str:
    """``mean [low, high] (sd s)``: the interval when there is one, the sd over folds when there are several."""
    text = f"{float(row['mean']):.3f}"
    if "low" in row and np.isfinite(row["low"]):
        text += f" [{row['low']:.3f}, {row['high']:.3f}]"
    sd = row["std"]
    if np.isfinite(sd):
        text += f" (sd {sd:.3f})" if "low" in row else f" ± {sd:.3f}"
    return text


def ranking_markdown(results: pd.DataFrame, metric: str = HOLDOUT, intervals: AucBootstrap | None = None) -> str:
    """Markdown table: one row per objective (best first), ``metric`` mean over folds per modality with the
    bootstrap 95 % interval of ``intervals`` (hold-out only) and the sd over folds."""
    intervals = intervals if metric == HOLDOUT else None
    table = holdout_summary(results, metric, intervals)
    label, scored = METRICS[metric]
    if table.empty:
        return f"_No {label}s were recorded._"
    modalities = list(dict.fromkeys(table["task"].astype(str)))
    oracle = oracle_values(results)
    folds = int(table["count"].max())
    lines = ["| objective | " + " | ".join(f"{m} {label}" for m in modalities) + " | mean |",
             "|---|" + "---:|" * (len(modalities) + 1)]
    best = table.groupby("task")["mean"].max()
    for method, sub in table.groupby("method", observed=True, sort=True):
        cells = []
        for m in modalities:
            row = sub[sub["task"] == m]
            if row.empty:
                cells.append("–")
                continue
            text = _cell(row.iloc[0])
            cells.append(f"**{text}**" if np.isclose(float(row["mean"].iloc[0]), best[m]) else text)
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {sub['mean'].mean():.3f} |")
    if oracle and metric == HOLDOUT:
        lines.append("| oracle (planted truth, CV) | " + " | ".join(
            f"{oracle[m]:.3f}" if m in oracle else "–" for m in modalities) + " | |")
    spread = ("Mean over folds [stratified bootstrap 95 % interval of the hold-out subjects, "
              f"{intervals.n_boot} resamples shared by every fold and objective] (sd over folds)"
              if intervals is not None else "Mean ± sd over folds")
    note = (f"\n\n{spread}, {folds} fold(s): each fold's encoders are pretrained on its training subjects, the "
            "probe (Optuna-tuned logistic regression on the frozen latents) is fitted on their HC/AD "
            f"subjects and {scored}. Sorted by the mean over modalities, as paper 001's Fig. 2.")
    return "\n".join(lines) + note


def ranking_figure(results: pd.DataFrame, path: Path, intervals: AucBootstrap | None = None) -> Path | None:
    """Horizontal AUC bars per objective (best on top), one colour per modality, each fold a dot, oracle dashed;
    error bars: the bootstrap 95 % interval of ``intervals``."""
    table = holdout_summary(results, intervals=intervals)
    if table.empty:
        return None
    raw = results[(results["metric"] == HOLDOUT) & (results["method"] != ORACLE)].copy()
    raw["value"] = pd.to_numeric(raw["value"], errors="coerce")
    methods = list(table["method"].cat.categories)
    modalities = list(dict.fromkeys(table["task"].astype(str)))
    oracle = oracle_values(results)
    height = 0.8 / len(modalities)
    with house_style():
        fig = new_figure((7.5, 0.55 * len(methods) + 1.6))
        ax = fig.subplots()
        for j, modality in enumerate(modalities):
            colour = f"C{j}"
            for i, method in enumerate(methods):
                y = len(methods) - 1 - i + (j - (len(modalities) - 1) / 2) * height
                row = table[(table["method"] == method) & (table["task"] == modality)]
                if row.empty:
                    continue
                mean = float(row["mean"].iloc[0])
                ax.barh(y, mean - 0.5, left=0.5, height=height * 0.9, color=colour, alpha=0.55,
                        label=modality if i == 0 else None)
                if "low" in row and np.isfinite(row["low"].iloc[0]):
                    err = [[mean - float(row["low"].iloc[0])], [float(row["high"].iloc[0]) - mean]]
                    ax.errorbar(mean, y, xerr=err, fmt="none", ecolor="black", elinewidth=0.9, capsize=2.5, zorder=4)
                values = raw[(raw["method"] == method) & (raw["task"] == modality)]["value"].dropna()
                ax.scatter(values, np.full(len(values), y), s=12, color=colour, edgecolors="black", linewidths=0.4,
                           zorder=3)
            if modality in oracle and np.isfinite(oracle[modality]):
                ax.axvline(oracle[modality], color=colour, ls="--", lw=1.2, label=f"{modality} oracle")
        ax.set_yticks(range(len(methods)), methods[::-1])
        lows = pd.concat([raw["value"], table["low"]]) if "low" in table else raw["value"]
        low = min(0.4, float(lows.min()) - 0.05) if lows.notna().any() else 0.4
        xlabel = "Hold-out ROC AUC (bars: mean over folds, dots: folds" + (", whiskers: bootstrap 95 % CI)"
                                                                           if "low" in table else ")")
        ax.set(xlabel=xlabel, xlim=(low, 1.0),
               title="Downstream AD vs HC probe by objective")
        ax.axvline(0.5, color="0.3", lw=0.8)
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        return save_figure(fig, path)
