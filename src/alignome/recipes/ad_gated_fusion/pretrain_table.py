"""The pretraining settings each outer fold ran with, as a Markdown table for the summary and report."""

from __future__ import annotations

import pandas as pd

#: best_params.csv column → table header, in display order
COLUMNS = {
    "pretrain_contrastive_weight": "contrastive weight",
    "pretrain_temperature": "temperature",
    "pretrain_embedding_dim": "embedding size",
    "pretrain_stop_on": "stop rule chosen",
    "pretrain_stopped_on": "stop rule that ran",
    "pretrain_best_epoch": "epoch kept",
    "pretrain_inner_score": "inner-CV probe AUC",
}


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "–" if pd.isna(value) else f"{value:.3g}"
    return "–" if pd.isna(value) else str(value)


def pretrain_choice_markdown(best_params: pd.DataFrame | None, method: str) -> str:
    """One row per outer fold: the pretraining ``method`` ran with; empty without such rows."""
    if best_params is None or "method" not in best_params.columns:
        return ""
    rows = best_params[best_params["method"].astype(str) == method]
    present = [c for c in COLUMNS if c in rows.columns]
    if rows.empty or not present:
        return ""
    per_fold = rows.groupby("fold", sort=True)[present].first()
    lines = [
        f"**Pretraining chosen per outer fold ({method})**",
        "",
        "| fold | " + " | ".join(COLUMNS[c] for c in present) + " |",
        "|---|" + "---|" * len(present),
    ]
    for fold, row in per_fold.iterrows():
        lines.append(f"| {fold} | " + " | ".join(_cell(row[c]) for c in present) + " |")
    searched = "pretrain_inner_score" in present and per_fold["pretrain_inner_score"].notna().any()
    lines += [
        "",
        "Chosen on each outer fold's training subjects by the mean over tasks of a logistic-regression probe's "
        "AUC on inner-validation subjects that the pretraining never saw."
        if searched
        else "Not searched (protocol.pretrain_search.trials: 0): the recipe's method settings.",
        "",
    ]
    return "\n".join(lines)
