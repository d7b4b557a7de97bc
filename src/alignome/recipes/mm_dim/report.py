"""Report of an ``mm-dim`` run: the AUC ranking (table and figure), training curves, introspection figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignome.analysis.introspection_figures import similarity_heatmap
from alignome.recipes.mm_dim.holdout_intervals import PREDICTION_COLUMNS, holdout_bootstrap
from alignome.recipes.mm_dim.ranking import ranking_figure, ranking_markdown
from alignome.report.build import FigureSpec, draw_figures, fresh_figure_dir, write_report
from alignome.report.figures import training_curves_figure
from alignome.report.html import FigureEntry
from alignome.report.rundir import RunFiles

#: The run's optional tables the report draws from, with the columns each needs.
TABLES = {
    "curves": ("training_curves.csv", ("objective", "fold", "epoch", "loss")),
    "similarity": ("similarity.csv", ("method", "group", "cka", "svcca")),
    "predictions": ("predictions.csv", PREDICTION_COLUMNS),
    "probes": ("probes.csv", ("objective", "modality", "fold", "auc_holdout")),
}
#: Figures the report draws under ``figures/`` (stale ones are removed first).
FIGURE_FILES = ("auc_ranking.png", "training_curves.png", "similarity.png")
#: Introspection figures the run writes under ``figures/`` (one per introspected objective): pattern, title, caption.
INTROSPECTION = (
    ("saliency_*.png", "Saliency of the best-correlated pair of latent dimensions",
     "SmoothGrad (σ 0.05, 5 samples) of each latent dimension, brain-masked, rescaled to [0, 1] and smoothed "
     "(σ 1.5), on subjects never pretrained on; the T1 and fALFF dimensions whose saliencies correlate most "
     "across subjects, mean maps over subjects (paper 001, Fig. 3)."),
    ("group_differences_*.png", "Group differences of saliency (rank-biserial correlation)",
     "Voxel-wise Mann–Whitney U between AD and HC on the saliency of the probe's most positive (+β) and most "
     "negative (−β) latent dimension of each modality, shown where the mean saliency is at least 0.1 (ranks "
     "ignore scale, so faint smoothing tails would otherwise rival the region); each row sliced at its peak |RBC| "
     "(paper 001, Fig. 4)."),
)


def _similarity_figure(table: pd.DataFrame, path: Path) -> Path | None:
    return similarity_heatmap(table, path) if not table.empty else None


def curves_figure(curves: pd.DataFrame, path: Path) -> Path | None:
    """Pretraining loss per epoch: one panel per objective (each on its own loss's scale), one line per fold."""
    frame = curves.rename(columns={"objective": "method", "loss": "train_loss"})
    return training_curves_figure(frame, path, title="Pretraining loss per fold (each objective's own loss)")


def speed_markdown(metrics: dict[str, Any]) -> str:
    """Training pairs per second and data-wait share per objective (first fold)."""
    speed = metrics.get("speed") or {}
    first = next(iter(speed.values()), {})
    if not first:
        return "_No speed figures recorded._"
    lines = ["| objective | training pairs / s | share of step time waiting for data |", "|---|---:|---:|"]
    shown = lambda v, fmt: format(v, fmt) if isinstance(v, (int, float)) and np.isfinite(v) else "– (resumed)"  # noqa: E731
    for name, s in first.items():
        lines.append(f"| {name} | {shown(s.get('train_pairs_per_s'), '.1f')} | {shown(s.get('data_wait_share'), '.1%')} |")
    return "\n".join(lines) + (f"\n\nInput {metrics.get('input_size')}³, batch {metrics.get('batch_size')}, "
                               f"{metrics.get('epochs')} epochs.")


def constant_probes_markdown(probes: pd.DataFrame | None) -> str:
    """Which probes ended with every coefficient 0 (a constant predictor: hold-out AUC exactly 0.5), and why."""
    if probes is None or "probe_nonzero" not in probes.columns:
        return ""
    probes = probes[pd.to_numeric(probes["probe_nonzero"], errors="coerce").notna()]  # the oracle rows have none
    constant = probes[pd.to_numeric(probes["probe_nonzero"]) == 0]
    if constant.empty:
        return f"Every one of the {len(probes)} probes kept at least one non-zero coefficient."
    listed = ", ".join(f"{r.objective} {r.modality} fold {r.fold} (C {float(r.probe_C):.2g}, {r.probe_penalty})"
                       for r in constant.itertuples())
    return (f"{len(constant)} of {len(probes)} probes are constant (every coefficient 0, so every score ties and the "
            f"AUC is exactly 0.5): {listed}. Optuna chose a C so small that the penalty zeroed every coefficient "
            "because no other setting beat the constant's 0.5 in the probe's cross-validation on the training "
            "subjects: on few subjects, or latents with little linear AD signal, CV AUCs are noise around 0.5.")


def build_mm_dim_report(run: RunFiles) -> Path:
    """Write ``summary.md``, figures and ``report.html`` of an ``mm-dim`` run."""
    metrics = run.metrics or {}
    predictions = run.tables.get("predictions")
    intervals = holdout_bootstrap(predictions) if predictions is not None else None
    table_md = ranking_markdown(run.results, intervals=intervals)
    constant_md = constant_probes_markdown(run.tables.get("probes"))
    if constant_md:
        table_md += "\n\n" + constant_md
    speed_md = speed_markdown(metrics)
    left_out_md = ranking_markdown(run.results, "auc_validation")
    fig_dir = fresh_figure_dir(run.run_dir, FIGURE_FILES)
    specs: list[FigureSpec] = [
        ("auc_ranking.png", lambda: ranking_figure(run.results, fig_dir / "auc_ranking.png", intervals),
         "Hold-out AUC by objective", "AD vs HC probe on frozen latents, per modality; objectives sorted by their "
         "mean AUC over modalities (paper 001, Fig. 2); whiskers: stratified bootstrap 95 % interval of the hold-out "
         "subjects; dashed lines: the oracle bound from the planted truth."),
    ]
    if run.tables.get("curves") is not None:
        specs.append(("training_curves.png", lambda: curves_figure(run.tables["curves"], fig_dir / "training_curves.png"),
                      "Pretraining curves", "Total loss per epoch of each objective, one line per fold: an InfoNCE "
                      "term starts near its chance level (log of the batch size per term), and a curve that stays "
                      "there has learnt little."))
    if run.tables.get("similarity") is not None:
        specs.append(("similarity.png", lambda: _similarity_figure(run.tables["similarity"], fig_dir / "similarity.png"),
                      "Cross-modal representation similarity",
                      "Linear CKA and SVCCA between the T1 and fALFF latents of the same subjects (first fold, "
                      "subjects never pretrained on), per objective and group (paper 001, Fig. 2, right)."))
    figures = draw_figures(run, specs)
    for pattern, title, caption in INTROSPECTION:
        for path in sorted(fig_dir.glob(pattern)):
            name = path.stem.split("_", 1 if pattern.startswith("saliency") else 2)[-1]
            figures.append(FigureEntry(path, f"{title} — {name}", caption))
    header = f"# alignome run summary — recipe {metrics.get('recipe', run.run_dir.name)}"
    summary_md = f"{header}\n\n{table_md}\n\n## Left-out fold subjects\n\n{left_out_md}\n\n## Speed\n\n{speed_md}\n"
    return write_report(run, summary_md, table_md, figures,
                        sections=[("Left-out fold subjects", left_out_md), ("Speed", speed_md)])
