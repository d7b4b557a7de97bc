"""Report of a ``longitudinal-mri`` run: encoder comparison table, speed, trajectories."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignome.analysis.trajectories import distance_figure, trajectory_figure
from alignome.evaluation.visit_metrics import distance_distributions
from alignome.recipes.longitudinal_mri.merit_figure import merit_figure
from alignome.recipes.longitudinal_mri.methods import CONTRASTIVE, ORACLE, VOXEL_PCA
from alignome.recipes.longitudinal_mri.seeds import seed_spread
from alignome.report.build import fresh_figure_dir, write_report
from alignome.report.figures import house_style, new_figure, save_figure
from alignome.report.html import FigureEntry
from alignome.report.intervals import DEFAULT_BOOTSTRAPS
from alignome.report.rundir import RunFiles

#: Result rows in display order: (task, metric, label, higher is better or None).
ROWS = (
    ("re-identification", "top1", "Re-identification top-1 ↑", True),
    ("re-identification", "top5", "Re-identification top-5 ↑", True),
    ("re-identification", "chance_top1", "Re-identification top-1 by chance", None),
    ("re-identification", "chance_top5", "Re-identification top-5 by chance", None),
    ("re-identification", "mean_rank", "Rank of the nearest same-subject scan, mean ↓", False),
    ("temporal consistency", "consecutive_distance", "Consecutive-visit cosine distance ↓", False),
    ("temporal consistency", "between_subject_distance", "Between-subject cosine distance", None),
    ("temporal consistency", "ratio", "Consecutive / between-subject distance ↓", False),
    ("atrophy tracking", "spearman_hippocampus", "Embedding change vs true hippocampal change, Spearman ↑", True),
    ("atrophy tracking", "spearman_whole_brain", "Embedding change vs true whole-brain change, Spearman ↑", True),
    ("diagnosis probe", "auc", "Diagnosis probe AUC ↑", True),
    ("diagnosis probe", "auc_macro_ovr", "Diagnosis probe AUC (macro one-vs-rest) ↑", True),
    ("diagnosis probe", "balanced_accuracy", "Diagnosis probe balanced accuracy ↑", True),
    ("AD vs CN probe", "auc", "AD-vs-CN probe AUC ↑", True),
    ("AD vs CN probe", "balanced_accuracy", "AD-vs-CN probe balanced accuracy ↑", True),
    ("MCI-to-AD conversion probe", "auc", "MCI-to-AD conversion from baseline, AUC ↑", True),
    ("age probe", "mae", "Age probe MAE (years) ↓", False),
    ("age probe", "r2", "Age probe R² ↑", True),
)
#: Methods in display order; others follow.
METHOD_ORDER = (CONTRASTIVE, f"{CONTRASTIVE}:features", "supervised", "untrained", "untrained:features", VOXEL_PCA,
                ORACLE)
#: Encoders whose trajectories are drawn (the ``:features`` views would repeat them).
TRAJECTORY_METHODS = (CONTRASTIVE, "supervised", "untrained")
#: The run's optional tables the report draws from, with the columns each needs.
TABLES = {"curves": ("training_curves.csv", ("method", "fold", "epoch", "train_loss"))}
#: Figures this report writes under ``figures/`` (stale ones are removed first).
FIGURE_FILES = ("training_curves.png", "distances.png", "merit.png") + tuple(f"trajectories_{m}.png" for m in TRAJECTORY_METHODS)


def _methods(results: pd.DataFrame) -> list[str]:
    seen = list(dict.fromkeys(results["method"].astype(str)))
    return [m for m in METHOD_ORDER if m in seen] + [m for m in seen if m not in METHOD_ORDER]


def table_cells(results: pd.DataFrame) -> pd.DataFrame:
    """One cell per (method, task, metric): value and interval, as the table and the figure show them.

    A run of several seeds (a ``seed`` column with more than one seed): ``value`` is the mean
    over seeds, ``sd`` their sample SD, ``low``/``high`` their minimum and maximum. One run:
    the test-subject figure and its bootstrap interval (``ci_low``, ``ci_high``; NaN without).
    """
    columns = ["method", "task", "metric", "value", "sd", "low", "high"]
    if results.empty:
        return pd.DataFrame(columns=columns)
    if "seed" in results.columns and results["seed"].nunique() > 1:
        spread = seed_spread(results)
        return spread.rename(columns={"mean": "value", "min": "low", "max": "high"}).loc[:, columns]
    frame = results.assign(value=pd.to_numeric(results["value"], errors="coerce"))
    for bound in ("ci_low", "ci_high"):
        frame[bound] = pd.to_numeric(frame[bound], errors="coerce") if bound in frame else math.nan
    cells = frame.groupby(["method", "task", "metric"], sort=False)[["value", "ci_low", "ci_high"]].mean()
    return cells.reset_index().rename(columns={"ci_low": "low", "ci_high": "high"}).assign(sd=math.nan)[columns]


def _rows_present(cells: pd.DataFrame) -> list[tuple[str, str, str, bool | None]]:
    """:data:`ROWS` that have a cell, then the other (task, metric) pairs under their raw names."""
    present = list(dict.fromkeys(zip(cells["task"], cells["metric"])))
    known = {(t, m) for t, m, _, _ in ROWS}
    return [r for r in ROWS if (r[0], r[1]) in set(present)] + [(t, m, f"{t}: {m}", None)
                                                                   for t, m in present if (t, m) not in known]


def _cell_text(value: float, sd: float, low: float, high: float, seeds: bool) -> str:
    if not np.isfinite(value):
        return "–"
    if seeds:
        spread = f" ± {sd:.3f}" if np.isfinite(sd) else ""
        return f"{value:.3f}{spread} ({low:.3f} to {high:.3f})"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]" if np.isfinite(low) and np.isfinite(high) else f"{value:.3f}"


def comparison_markdown(results: pd.DataFrame, unavailable: dict[str, str] | None = None) -> str:
    """Markdown table: one row per metric, one column per encoder, best in bold.

    Rows follow :data:`ROWS`; metrics not listed there are appended with their raw
    names. Cells are test-subject figures with their 95 % bootstrap interval over test
    subjects, or, for a run of several seeds, mean ± SD (range) over the seeds. Best is
    judged among the encoders on the value rounded to 3 decimals. ``unavailable`` (task →
    reason) is listed under the table.
    """
    if results.empty:
        return "_No results were recorded._"
    cells = table_cells(results)
    seeds = "seed" in results.columns and results["seed"].nunique() > 1
    lookup = cells.set_index(["task", "metric", "method"])
    methods = _methods(results)
    what = ("mean ± SD (range) over seeds" if seeds else
            "value [95 % bootstrap interval]" if cells["low"].notna().any() else "value")
    lines = [f"| metric (test subjects; {what}) | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]
    for task, metric, label, higher in _rows_present(cells):
        values = {m: (lookup.loc[(task, metric, m)] if (task, metric, m) in lookup.index else None) for m in methods}
        finite = {m: round(float(v["value"]), 3) for m, v in values.items()
                  if v is not None and np.isfinite(v["value"]) and m != ORACLE}  # the oracle is a ceiling
        best = (max if higher else min)(finite.values()) if higher is not None and len(finite) > 1 else None
        shown = []
        for m in methods:
            v = values[m]
            if v is None:
                shown.append("–")
                continue
            text = _cell_text(float(v["value"]), float(v["sd"]), float(v["low"]), float(v["high"]), seeds)
            bold = best is not None and m in finite and finite[m] == best
            shown.append(f"**{text}**" if bold else text)
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    note = (
        "\n\nThe encoder of paper 004 is `clinimcl` (its 128-d projection); `untrained` is the same network "
        "at its seeded initialisation and `supervised` the same encoder trained on diagnosis and age of the "
        "training subjects, which embeds with its pooled encoder features; `:features` rows embed ClinImCL "
        "and the untrained network the same way, for a like-for-like comparison. `voxels-pca` is the linear "
        "baseline on the raw features: principal components of the preprocessed voxels, fitted on every visit of "
        "the training subjects (as many as the projection's dimensions, fewer with fewer training scans) and "
        "applied to every scan. Probes are fitted on training "
        "subjects (penalty chosen by inner cross-validation grouped by subject, on training subjects only) and "
        f"scored on test subjects; intervals resample test subjects ({DEFAULT_BOOTSTRAPS:,} times, within their last "
        "diagnosis). "
        "Atrophy tracking: per test subject, the cosine distance between first- and last-visit embeddings against "
        "the true |log volume ratio| over the same interval, Spearman across subjects. Conversion: baseline scan of "
        "subjects first seen as MCI with a follow-up, converter when a later visit is AD. On a simulated cohort "
        "`oracle` is the same probes given the true ventricle, hippocampus, entorhinal and brain volumes "
        "(those the truth table holds): "
        "the ceiling for what the images hold."
    )
    if unavailable:
        note += "\n\nUnavailable: " + "; ".join(f"{task} — {reason}" for task, reason in unavailable.items()) + "."
    return "\n".join(lines) + note


def speed_markdown(metrics: dict[str, Any]) -> str:
    """Markdown table of the run's speed figures and encoder description."""
    speed, enc, cache = metrics.get("speed") or {}, metrics.get("encoder") or {}, metrics.get("cache") or {}
    items: list[tuple[str, str]] = []

    def add(label: str, value: Any, fmt: str = "{}") -> None:
        if value is not None and not (isinstance(value, float) and not np.isfinite(value)):
            items.append((label, fmt.format(value)))

    add("encoder widths", enc.get("widths"))
    add("parameters", enc.get("parameters"), "{:,}")
    add("input size (voxels per side)", enc.get("input_size"))
    add("loss", enc.get("loss"))
    add("kept epoch", f"{enc.get('best_epoch')} of {enc.get('epochs')}" if enc else None)
    add("kept epoch chosen by", enc.get("selection"))
    add("training volumes / s (after the first epoch)", speed.get("train_volumes_per_s"), "{:.1f}")
    add("share of step time waiting for data", speed.get("data_wait_share"), "{:.1%}")
    epochs = speed.get("epoch_seconds") or []
    if epochs:
        add("first epoch (s)", epochs[0], "{:.1f}")
        if len(epochs) > 1:
            add("later epochs, mean (s)", float(np.mean(epochs[1:])), "{:.1f}")
    add("inference volumes / s", speed.get("inference_volumes_per_s"), "{:.1f}")
    preprocess = metrics.get("preprocess") or {}
    add("expected input", preprocess.get("input"))
    if preprocess:
        add("raw-T1 steps", ", ".join(preprocess.get("steps") or []) or "none")
    if cache:
        add("preprocessing cache", f"{cache.get('built', 0)} built, {cache.get('hits', 0)} reused, "
            f"{cache.get('seconds', 0.0):.1f} s")
    if not items:
        return "_No speed figures recorded._"
    return "\n".join(["| quantity | value |", "|---|---:|", *[f"| {k} | {v} |" for k, v in items]])


def _embedding_matrix(embeddings: pd.DataFrame, method: str, split: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Embedding matrix and scan table of one encoder and split.

    Encoders may differ in embedding size; columns a method leaves empty are dropped.
    """
    sub = embeddings[(embeddings["method"] == method) & (embeddings["split"] == split)].reset_index(drop=True)
    cols = [c for c in sub.columns if c.startswith("z_")]
    used = [c for c in cols if sub[c].notna().any()]
    return sub[used].to_numpy(dtype=float), sub.drop(columns=cols)


def _merit_entry(results: pd.DataFrame, fig_dir: Path) -> list[FigureEntry]:
    cells = table_cells(results)
    if cells.empty:
        return []
    seeds = "seed" in results.columns and results["seed"].nunique() > 1
    panels = [(t, m, label) for t, m, label, higher in _rows_present(cells) if higher is not None]
    bars = "range over seeds (dot: mean)" if seeds else "95 % bootstrap interval over test subjects"
    path = merit_figure(cells, panels, _methods(results), fig_dir / "merit.png", f"Figures of merit: {bars}")
    if path is None:
        return []
    return [FigureEntry(path, "Figures of merit", f"Every figure of the table per encoder, with its {bars} as the "
                        "bar (↑ higher is better, ↓ lower is better).")]


def _figures(run: RunFiles, fig_dir: Path, seed: int) -> list[FigureEntry]:
    figures: list[FigureEntry] = _merit_entry(run.results, fig_dir)
    if run.tables.get("curves") is not None:
        path = contrastive_curves_figure(run.tables["curves"], fig_dir / "training_curves.png")
        if path is not None:
            figures.append(FigureEntry(path, "Training curves",
                                       "Training and validation loss (left) and validation re-identification "
                                       "top-1 (right) per epoch; the marked epoch is the checkpoint kept."))
    if run.embeddings is None:
        return figures
    methods = [m for m in _methods(run.embeddings) if m in set(run.embeddings["method"])]
    distances = {}
    for method in methods:
        emb, scans = _embedding_matrix(run.embeddings, method, "test")
        if len(emb) == 0:
            continue
        distances[method] = distance_distributions(emb, scans, seed=seed)
        if method not in TRAJECTORY_METHODS:
            continue
        path = trajectory_figure(emb, scans, fig_dir / f"trajectories_{method}.png", seed=seed,
                                 title=f"{method}: test subjects")
        figures.append(FigureEntry(path, f"Trajectories — {method}",
                                   "UMAP of held-out subjects' scans: coloured by subject with lines joining "
                                   "visits in time order, by diagnosis, and by age. Short, separate trajectories "
                                   "mean visits of a subject stay together and subjects stay apart."))
    if distances:
        path = distance_figure(distances, fig_dir / "distances.png")
        figures.append(FigureEntry(path, "Cosine distances",
                                   "Consecutive visits of a subject against scans of different subjects (test "
                                   "subjects). The further apart the two distributions, the better the encoder "
                                   "keeps a subject's identity across time."))
    return figures


def contrastive_curves_figure(curves: pd.DataFrame, path: Path) -> Path | None:
    """Loss and validation top-1 against epoch, one colour per encoder, best epoch marked."""
    frame = curves.copy()
    for col in ("epoch", "train_loss", "val_loss", "val_top1"):
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame = frame.dropna(subset=["epoch"])
    if frame.empty:
        return None
    with house_style():
        fig = new_figure((10, 3.8))
        ax_loss, ax_top = fig.subplots(1, 2)
        for i, (method, sub) in enumerate(frame.groupby("method", sort=False)):
            sub = sub.sort_values("epoch")
            colour = f"C{i}"
            kept = sub[sub["kept"].astype(bool)] if "kept" in sub else sub.iloc[:0]
            ax_loss.plot(sub["epoch"], sub["train_loss"], color=colour, lw=1.6, label=f"{method} train")
            if "val_loss" in sub and sub["val_loss"].notna().any():
                ax_loss.plot(sub["epoch"], sub["val_loss"], color=colour, lw=1.6, ls="--", label=f"{method} validation")
                ax_loss.scatter(kept["epoch"], kept["val_loss"], s=90, facecolors="none", edgecolors=colour, lw=2)
            if "val_top1" in sub and sub["val_top1"].notna().any():
                ax_top.plot(sub["epoch"], sub["val_top1"], color=colour, lw=1.6, marker="o", ms=3, label=method)
                ax_top.scatter(kept["epoch"], kept["val_top1"], s=90, facecolors="none", edgecolors=colour, lw=2)
        ax_loss.set(xlabel="Epoch", ylabel="Loss", title="Loss")
        ax_top.set(xlabel="Epoch", ylabel="Top-1", title="Validation re-identification", ylim=(0, 1.02))
        ax_loss.legend(frameon=False, fontsize=8)
        if ax_top.lines:
            ax_top.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        return save_figure(fig, path)


def build_longitudinal_report(run: RunFiles) -> Path:
    """Write ``summary.md``, figures and ``report.html`` of a ``longitudinal-mri`` run."""
    run_dir = run.run_dir
    metrics = run.metrics or {}
    table_md = comparison_markdown(run.results, metrics.get("unavailable"))
    speed_md = speed_markdown(metrics)
    header = f"# alignome run summary — recipe {metrics.get('recipe', run_dir.name)}"
    summary_md = f"{header}\n\n{table_md}\n\n## Speed\n\n{speed_md}\n"
    figures = _figures(run, fresh_figure_dir(run_dir, FIGURE_FILES), int(metrics.get("seed") or 0))
    return write_report(run, summary_md, table_md, figures, sections=[("Speed", speed_md)])
