"""Report of an ``ad-gated-fusion`` run: results table, performance, ROC, gate weights, curves, embeddings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alignome.recipes.ad_gated_fusion.figures import gates_figure, pretrain_search_figure
from alignome.recipes.ad_gated_fusion.pretrain_table import pretrain_choice_markdown
from alignome.recipes.ad_gated_fusion.methods import (
    ABLATIONS,
    FOREST_BASELINE,
    LINEAR_BASELINE,
    MAIN_METHOD,
    METHODS,
)
from alignome.report.build import FigureSpec, draw_figures, fresh_figure_dir, write_report
from alignome.report.figures import (
    embeddings_figure,
    performance_figure,
    roc_figure,
    training_curves_figure,
)
from alignome.report.headline import BestOf, Headline, headline_markdown
from alignome.report.intervals import AucBootstrap, bootstrap_auc
from alignome.report.ordering import MethodOrder
from alignome.report.rundir import RunFiles
from alignome.report.summary import summarise, table_markdown

#: Display order of the methods, with the paper's method shown where a figure shows one.
ORDER = MethodOrder(METHODS, MAIN_METHOD)
#: The headline table: the paper's method beside the linear and forest baselines, its best ablation and the oracle.
HEADLINE = Headline(
    main=MAIN_METHOD,
    columns=(LINEAR_BASELINE, FOREST_BASELINE, BestOf("best ablation", ABLATIONS), "oracle"),
    comparators=(LINEAR_BASELINE, FOREST_BASELINE),
)
#: The run's optional tables the report draws from, with the columns each needs.
TABLES = {
    "predictions": ("predictions.csv", ("method", "task", "fold", "y_true", "prob_0", "prob_1")),
    "gates": ("gates.csv", ("method", "diagnosis", "alpha_mri")),
    "curves": ("training_curves.csv", ("method", "fold", "epoch", "train_loss")),
    "pretrain_search": ("pretrain_search.csv", ("fold", "contrastive_weight", "inner_score")),
    "best_params": ("best_params.csv", ("method", "fold")),
}

#: Heading of the summary's and the report's list of what the cohort could not support.
SKIPPED_HEADING = "Skipped methods and tasks"

#: File names of the figures this module writes under ``run_dir/figures``.
FIGURE_FILES = ("performance.png", "roc.png", "gates.png", "pretrain_search.png", "training_curves.png", "embeddings_pca.png")


def skipped_markdown(metrics: dict) -> str:
    """Markdown list of the methods, tasks and (fold, task) units the run left out, with why; empty when none."""
    by_reason: dict[str, list[str]] = {}
    for method, why in (metrics.get("skipped_methods") or {}).items():
        by_reason.setdefault(why, []).append(method)
    lines = [f"- {', '.join(methods)}: {why}" for why, methods in by_reason.items()]
    lines += [f"- {task}: {why}" for task, why in (metrics.get("skipped_tasks") or {}).items()]
    lines += [f"- {s['task']}, fold {s['fold']}: {s['reason']}" for s in metrics.get("skipped_folds") or []]
    return "\n".join(lines)


def _summary_document(run: RunFiles, table_md: str, skipped_md: str) -> str:
    metrics = run.metrics or {}
    bits = [f"{k} {metrics[k]}" for k in ("recipe", "preset", "seed") if metrics.get(k) is not None]
    header = "# alignome run summary" + (f" — {', '.join(bits)}" if bits else "")
    skipped = f"\n\n## {SKIPPED_HEADING}\n\n{skipped_md}\n" if skipped_md else ""
    return f"{header}\n\n{table_md}{skipped}"


def _figure_specs(run: RunFiles, fig_dir: Path, summary: pd.DataFrame) -> list[FigureSpec]:
    specs: list[FigureSpec] = [
        (
            "performance.png",
            lambda: performance_figure(summary, fig_dir / "performance.png", order=ORDER),
            "Performance per method",
            "Mean ± std over outer folds, same numbers as the table; look for methods whose "
            "error bars do not overlap, and for the oracle (grey, sees ground truth) as the ceiling.",
        )
    ]
    predictions, gates, curves = (run.tables.get(name) for name in ("predictions", "gates", "curves"))
    if predictions is not None:
        main = ORDER.main_method(predictions["method"].astype(str))
        specs.append((
            "roc.png",
            lambda: roc_figure(predictions, fig_dir / "roc.png", results=run.results, order=ORDER),
            "ROC curves",
            "Curves pooled over folds, legend gives the mean of per-fold AUCs; a curve above the "
            f"others dominates at every threshold. The 3-class panel shows {main} one class against the rest.",
        ))
    if gates is not None:
        main = ORDER.main_method(gates["method"].astype(str))
        specs.append((
            "gates.png",
            lambda: gates_figure(gates, fig_dir / "gates.png", order=ORDER),
            "Gated-fusion weights",
            f"Weight the fusion gate of {main} puts on MRI, per subject; a rise from CN to AD means "
            "MRI drives late-stage predictions while SNPs weigh more in early stages.",
        ))
    search = run.tables.get("pretrain_search")
    if search is not None:
        specs.append((
            "pretrain_search.png",
            lambda: pretrain_search_figure(search, fig_dir / "pretrain_search.png"),
            "Pretraining chosen in the inner loop",
            "Each point is one pretraining setting tried on an outer fold's training subjects, scored by a "
            "logistic-regression probe on inner-validation subjects the pretraining never saw. Scores that "
            "fall as the contrastive weight grows mean the alignment term costs diagnostic information here.",
        ))
    if curves is not None:
        specs.append((
            "training_curves.png",
            lambda: training_curves_figure(curves, fig_dir / "training_curves.png", order=ORDER),
            "Pretraining curves",
            "Train (solid) and validation (dashed) loss per fold; a validation loss that turns up "
            "while training loss falls signals overfitting, curves still falling signal too few epochs.",
        ))
    if run.embeddings is not None:
        specs.append((
            "embeddings_pca.png",
            lambda: embeddings_figure(run.embeddings, fig_dir / "embeddings_pca.png", order=ORDER),
            "Embedding projection",
            "First two principal components of held-out subjects' embeddings (one fold); "
            "diagnoses that separate along PC1 are what the probes can exploit.",
        ))
    return specs


def _intervals(run: RunFiles) -> AucBootstrap | None:
    """Bootstrap of the run's test subjects; None without ``predictions.csv`` (intervals then fall back to folds)."""
    predictions = run.tables.get("predictions")
    if predictions is None:
        return None
    intervals = bootstrap_auc(predictions)
    run.notes.extend(f"AUC interval: {note}" for note in intervals.notes)
    return intervals


def build_report(run: RunFiles) -> Path:
    """(Re)build ``summary.md``, ``summary.csv``, ``figures/*.png`` and ``report.html`` of an ``ad-gated-fusion`` run.

    ``results.csv`` is required; ``predictions.csv`` (for the bootstrap intervals), ``gates.csv``,
    ``training_curves.csv``, ``embeddings.parquet``, ``metrics.json``, ``config.resolved.yaml``
    and ``run.log`` are used when present and skipped (with a note in the report) when absent.
    """
    intervals = _intervals(run)
    summary = summarise(run.results, ORDER, intervals, HEADLINE.comparator(run.results["method"].astype(str)))
    table_md = headline_markdown(summary, HEADLINE, intervals)
    table_md += ("\n**All methods: mean ± std over outer folds, AUC with 95 % interval**\n\n" if table_md else "")
    table_md += table_markdown(summary, ORDER, intervals)
    choice = pretrain_choice_markdown(run.tables.get("best_params"), ORDER.main_method(run.results["method"].astype(str)))
    table_md += f"\n{choice}" if choice else ""
    skipped_md = skipped_markdown(run.metrics or {})
    fig_dir = fresh_figure_dir(run.run_dir, FIGURE_FILES)
    figures = draw_figures(run, _figure_specs(run, fig_dir, summary))
    sections = [(SKIPPED_HEADING, skipped_md)] if skipped_md else None
    return write_report(
        run, _summary_document(run, table_md, skipped_md), table_md, figures, summary_table=summary, sections=sections
    )
