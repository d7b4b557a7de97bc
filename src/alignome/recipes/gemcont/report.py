"""Report of a ``gemcont`` run: the Fig. 2-style panels (R² and causal variants found, mean ± sd over splits) and tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.recipes.gemcont.methods import FIGURE_METHODS, METHODS
from alignome.recipes.gemcont.pc1_figure import PC1_COLUMNS, PC1_FILE, pc1_figure
from alignome.report.build import draw_figures, fresh_figure_dir, write_report
from alignome.report.figures import house_style, new_figure, save_figure
from alignome.report.rundir import RunFiles

#: The run's optional tables the report draws from, with the columns each needs.
TABLES = {"curves": ("training_curves.csv", ("method", "task", "fold", "epoch", "train_loss")),
          "pc1": (PC1_FILE, PC1_COLUMNS)}
FIGURE_FILES = ("recovery.png", "training_curves.png", "pc1_by_status.png")
#: Axes of Fig. 2 in its order: (results column, panel title).
AXES = (("n_train", "Training set size N_train"), ("h_g", "Genetic variance h_g"),
        ("alpha_max_deg", "Maximum rotation α_max (°)"))
#: Metric rows of the figure and tables: (metric, label).
METRICS = (("r2", "R² of z"), ("recovered_fraction", "causal variants found"),
           ("lambda_gc_null", "λGC (null variants)"), ("auc", "disease AUC (L2 logistic)"),
           ("pc1_cohens_d", "|Cohen's d| of PC1 (FEV1/FVC itself), cases vs controls"),
           ("loci_recovered", "disease GWAS loci recovered"), ("loci_outside_disease_loci", "loci hit outside them"),
           ("lambda_gc", "λGC"), ("significant_variants", "variants at p < 5e-8"), ("gwas_samples", "GWAS samples"))


NOTE_ROTATION = (
    "R² of the latent z from held-out embeddings (ridge, nested 5-fold cross-fitting on the test subjects); the "
    "share of causal variants at p < 5e-8 in the multi-trait GWAS of the test embeddings' top PCs (rank-INT); λGC "
    "over the unlinked null variants of the same scan. `supervised` regresses z itself (the learnt upper bound); "
    "`pixels-pca` is the linear baseline (PCA of the raw pixels fitted on the training images, same dimension); "
    "`oracle` is the true rotation angle α of each test image as a 1-d embedding (its GWAS: one PC, 1 df): what "
    "the images carry at most, and the GWAS's power at this test size. `gemcont-*` are ablations. Intervals: R², "
    "bootstrap of the test subjects (1,000 resamples of the cross-fitted predictions, the same for every split and "
    "method; the mean over splits per resample); causal share, Wilson over the causal variants (each counted once).")
NOTE_SPIROMETRY = (
    "On the held-out half of each 50/50 split: disease AUC of an L2 logistic probe cross-fitted over 5 folds of "
    "the held-out subjects (FEV1/FVC and the PRS alone as one-feature baselines); |Cohen's d| of the embeddings' "
    "PC1 between cases and controls (of FEV1/FVC itself in its row); the share of the disease GWAS's loci (segments "
    "with a meta-analysis p < 5e-8) where the embedding GWAS reaches p < 5e-8. `prs` is GEMCONT with the panel's "
    "score as the projector's only input; `supervised` regresses the airway trait (the learnt upper bound); "
    "`pixels-pca` is the linear baseline (PCA of the raw pixels fitted on the training half); `oracle` is the true "
    "airway trait scored by the same code (its GWAS: one PC). Intervals: AUC, bootstrap of each split's held-out "
    "subjects within case/control (1,000 resamples, the mean over splits per resample); loci share, Wilson over "
    "the disease GWAS's loci.")
NOTE_OWN = ("One split of your own images: the held-out embeddings' multi-trait GWAS on the whole fileset "
            "(training subjects excluded): λGC and the number of variants at p < 5e-8. Real data have no oracle row "
            "(no known trait).")


def _order(methods) -> list[str]:
    seen = list(dict.fromkeys(methods))
    return [m for m in METHODS if m in seen] + [m for m in seen if m not in METHODS]


def _cells(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd and count over splits of each cell, with its 95 % interval (``low``, ``high``; NaN without)."""
    frame = results.assign(value=pd.to_numeric(results["value"], errors="coerce"))
    for col in ("axis", "n_train", "h_g", "alpha_max_deg", "ci_low", "ci_high"):  # absent from some runs
        if col not in frame.columns:
            frame[col] = np.nan
    grouped = frame.groupby(["axis", "n_train", "h_g", "alpha_max_deg", "task", "method", "metric"], sort=False,
                            dropna=False)
    cells = grouped["value"].agg(["mean", "std", "count"])
    cells["low"], cells["high"] = grouped["ci_low"].first(), grouped["ci_high"].first()  # one interval per cell
    return cells.reset_index()


def _fmt(mean: float, sd: float, low: float = math.nan, high: float = math.nan) -> str:
    if not np.isfinite(mean):
        return "–"
    text = f"{mean:.3f} ± {sd:.3f}" if np.isfinite(sd) else f"{mean:.3f}"
    return f"{text} [{low:.3f}, {high:.3f}]" if np.isfinite(low) and np.isfinite(high) else text


def summary_markdown(results: pd.DataFrame) -> str:
    """One table per condition: methods × metrics, mean ± sd over training splits (test subjects only)."""
    if results.empty:
        return "_No results were recorded._"
    cells = _cells(results)
    blocks = []
    for task, sub in cells.groupby("task", sort=False):
        splits = int(sub["count"].max())
        known = dict(METRICS)
        shown = [m for m in known if m in set(sub["metric"])] or list(dict.fromkeys(sub["metric"]))
        lines = [f"**{task}** ({splits} training split{'s' if splits != 1 else ''}; mean ± sd [95 % interval])", "",
                 "| method | " + " | ".join(known.get(m, m) for m in shown) + " |", "|---|" + "---:|" * len(shown)]
        for method in _order(sub["method"]):
            vals = sub[sub["method"] == method].set_index("metric")
            row = [_fmt(*vals.loc[m, ["mean", "std", "low", "high"]]) if m in vals.index else "–" for m in shown]
            lines.append(f"| {method} | " + " | ".join(row) + " |")
        blocks.append("\n".join(lines))
    metrics = set(results["metric"])
    note = "\n\n" + (NOTE_ROTATION if "r2" in metrics else NOTE_SPIROMETRY if "auc" in metrics else NOTE_OWN)
    return "\n\n".join(blocks) + note


def recovery_figure(results: pd.DataFrame, path: Path) -> Path | None:
    """Fig. 2 of paper 003: columns N_train, h_g, α_max; rows R² and share of causal variants found."""
    if results.empty or "r2" not in set(results["metric"]):
        return None
    cells = _cells(results)
    methods = [m for m in _order(cells["method"]) if m in FIGURE_METHODS] or _order(cells["method"])
    with house_style():
        fig = new_figure((13, 6.5))
        axes = fig.subplots(2, 3, squeeze=False)
        width = 0.8 / len(methods)
        for col, (axis, title) in enumerate(AXES):
            sub = cells[cells["axis"].isin(["default", axis])]
            default_value = cells.loc[cells["axis"] == "default", axis]
            values = sorted(sub[axis].unique())
            for row, (metric, label) in enumerate(METRICS[:2]):
                ax = axes[row][col]
                for i, method in enumerate(methods):
                    pick = sub[(sub["method"] == method) & (sub["metric"] == metric)].set_index(axis)
                    means = [pick["mean"].get(v, math.nan) for v in values]
                    sds = [pick["std"].get(v, math.nan) for v in values]
                    x = np.arange(len(values)) + (i - (len(methods) - 1) / 2) * width
                    ax.bar(x, means, width, yerr=np.nan_to_num(sds), capsize=2, color=f"C{i}", label=method)
                ticks = [f"{v:g}★" if len(default_value) and v == default_value.iloc[0] else f"{v:g}" for v in values]
                ax.set_xticks(np.arange(len(values)), ticks)
                ax.set_ylim(0, 1.02)
                ax.set(ylabel=label if col == 0 else None, xlabel=title if row == 1 else None)
        axes[0][0].legend(frameon=False, fontsize=8)
        fig.tight_layout()
        return save_figure(fig, path)


def curves_figure(curves: pd.DataFrame | None, path: Path) -> Path | None:
    """Training loss per epoch of each method (default condition, first split)."""
    if curves is None or curves.empty:
        return None
    first = curves[(curves["task"] == curves["task"].iloc[0]) & (curves["fold"] == 0)]
    methods = _order(first["method"])
    with house_style():
        fig = new_figure((4 * min(len(methods), 4), 3.2 * math.ceil(len(methods) / 4)))
        axes = np.atleast_1d(fig.subplots(math.ceil(len(methods) / 4), min(len(methods), 4), squeeze=False)).ravel()
        for ax, method in zip(axes, methods):
            sub = first[first["method"] == method].sort_values("epoch")
            ax.plot(sub["epoch"], sub["train_loss"], lw=1.6, label="train")
            if "val_loss" in sub and sub["val_loss"].notna().any():
                ax.plot(sub["epoch"], sub["val_loss"], lw=1.6, ls="--", label="validation")
                ax.legend(frameon=False, fontsize=8)
            ax.set(title=method, xlabel="Epoch", ylabel="Loss")
        for ax in axes[len(methods):]:
            ax.set_visible(False)
        fig.tight_layout()
        return save_figure(fig, path)


def speed_markdown(metrics: dict) -> str:
    """Training images per second and the share of it spent gathering and augmenting batches, per method."""
    speed = metrics.get("speed") or {}
    if not speed:
        return "_No speed figures recorded._"
    lines = ["| method | training images / s | share of time in data loading + augmentation |", "|---|---:|---:|"]
    for method in _order(speed):
        s = speed[method]
        lines.append(f"| {method} | {s.get('train_images_per_s', math.nan):.0f} | {s.get('data_share', math.nan):.1%} |")
    return "\n".join(lines)


def build_gemcont_report(run: RunFiles) -> Path:
    """Write ``summary.md``, the figures and ``report.html`` of a ``gemcont`` run."""
    metrics = run.metrics or {}
    table_md = summary_markdown(run.results)
    speed_md = speed_markdown(metrics)
    written = metrics.get("embeddings_written") or {}
    held_out = (f"Held-out embeddings of {written.get('condition')} (split 0): `embeddings/<method>.tsv` "
                f"({written.get('test_subjects')} test subjects; the {written.get('training_subjects')} training "
                "subjects are listed in `trained_subjects.txt`), genotypes in `data/genotypes.bed`. "
                "`alignome gwas --bfile data/genotypes --pheno embeddings/gemcont.tsv --embedding-pcs 5 "
                "--trained-on trained_subjects.txt --exclude-trained --out gwas/gemcont` repeats the scan."
                if written else "")
    summary_md = (f"# alignome run summary — recipe {metrics.get('recipe', run.run_dir.name)}\n\n{table_md}\n\n"
                  f"## Speed\n\n{speed_md}\n\n{held_out}\n")
    fig_dir = fresh_figure_dir(run.run_dir, FIGURE_FILES)
    figures = draw_figures(run, [
        ("recovery.png", lambda: recovery_figure(run.results, fig_dir / "recovery.png"),
         "Phenotype and variant recovery (paper 003, Fig. 2)",
         "Top: R² of the latent z from held-out embeddings; bottom: share of causal variants at p < 5e-8. "
         "Bars: mean ± sd over training splits; ★ the default held while another dial varies."),
        ("training_curves.png", lambda: curves_figure(run.tables.get("curves"), fig_dir / "training_curves.png"),
         "Training curves", "Loss per epoch, default condition, first split (supervised: with its validation loss)."),
        ("pc1_by_status.png", lambda: pc1_figure(run.tables.get("pc1"), fig_dir / "pc1_by_status.png",
                                                 [*METHODS, "FEV1/FVC"]),
         "PC1 of the held-out embeddings, cases vs controls",
         "First split's held-out half: each method's embedding PC1 as the GWAS scans it (PCA fitted on the "
         "held-out embeddings alone, rank-INT; the encoder saw the other half only), and FEV1/FVC for reference. "
         "Each series standardised and signed so that cases lie above controls (a PC's sign is arbitrary; "
         "FEV1/FVC is lower in cases); |d|: Cohen's d of that split."),
    ])
    return write_report(run, summary_md, table_md, figures, sections=[("Speed", speed_md), ("Held-out embeddings", held_out)])
