"""Report of a ``longitudinal-mri`` run: encoder comparison table, speed, trajectories."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignome.analysis.trajectories import distance_figure, trajectory_figure
from alignome.evaluation.visit_metrics import distance_distributions
from alignome.recipes.longitudinal_mri.methods import CONTRASTIVE, ORACLE
from alignome.report.build import fresh_figure_dir, write_report
from alignome.report.figures import house_style, new_figure, save_figure
from alignome.report.html import FigureEntry
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
    ("diagnosis probe", "auc", "Diagnosis probe AUC ↑", True),
    ("diagnosis probe", "auc_macro_ovr", "Diagnosis probe AUC (macro one-vs-rest) ↑", True),
    ("diagnosis probe", "balanced_accuracy", "Diagnosis probe balanced accuracy ↑", True),
    ("age probe", "mae", "Age probe MAE (years) ↓", False),
    ("age probe", "r2", "Age probe R² ↑", True),
)
#: Methods in display order; others follow.
METHOD_ORDER = (CONTRASTIVE, f"{CONTRASTIVE}:features", "supervised", "untrained", "untrained:features", ORACLE)
#: Encoders whose trajectories are drawn (the ``:features`` views would repeat them).
TRAJECTORY_METHODS = (CONTRASTIVE, "supervised", "untrained")
#: The run's optional tables the report draws from, with the columns each needs.
TABLES = {"curves": ("training_curves.csv", ("method", "fold", "epoch", "train_loss"))}
#: Figures this report writes under ``figures/`` (stale ones are removed first).
FIGURE_FILES = ("training_curves.png", "distances.png") + tuple(f"trajectories_{m}.png" for m in TRAJECTORY_METHODS)


def _methods(results: pd.DataFrame) -> list[str]:
    seen = list(dict.fromkeys(results["method"].astype(str)))
    return [m for m in METHOD_ORDER if m in seen] + [m for m in seen if m not in METHOD_ORDER]


def comparison_markdown(results: pd.DataFrame) -> str:
    """Markdown table: one row per metric, one column per encoder, best in bold.

    Rows follow :data:`ROWS`; metrics not listed there are appended with their raw
    names. Values are test-subject figures; best is judged among the encoders on
    the value rounded to 3 decimals.
    """
    if results.empty:
        return "_No results were recorded._"
    frame = results.assign(value=pd.to_numeric(results["value"], errors="coerce"))
    cells = frame.groupby(["task", "metric", "method"])["value"].mean()
    methods = _methods(frame)
    known = {(t, m) for t, m, _, _ in ROWS}
    rows = [r for r in ROWS if (r[0], r[1]) in {(t, m) for t, m, _ in cells.index}]
    rows += [(t, m, f"{t}: {m}", None) for t, m in dict.fromkeys((t, m) for t, m, _ in cells.index) if (t, m) not in known]
    lines = ["| metric (test subjects) | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]
    for task, metric, label, higher in rows:
        values = {m: cells.get((task, metric, m), math.nan) for m in methods}
        finite = {m: round(v, 3) for m, v in values.items() if np.isfinite(v)}
        best = None
        finite.pop(ORACLE, None)  # the oracle sees ground truth: a ceiling, not a contender
        if higher is not None and len(finite) > 1:
            best = (max if higher else min)(finite.values())
        shown = []
        for m in methods:
            v = values[m]
            text = "–" if not np.isfinite(v) else f"{v:.3f}"
            bold = best is not None and m != ORACLE and np.isfinite(v) and round(v, 3) == best
            shown.append(f"**{text}**" if bold else text)
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    note = (
        "\n\nThe encoder of paper 004 is `clinimcl` (its 128-d projection); `untrained` is the same network "
        "at its seeded initialisation and `supervised` the same encoder trained on diagnosis and age of the "
        "training subjects, which embeds with its pooled encoder features; `:features` rows embed ClinImCL "
        "and the untrained network the same way, for a like-for-like comparison. Probes are fitted on training subjects and scored on test subjects. On a simulated "
        "cohort `oracle` is the same probes given the true ventricle, hippocampus and brain volumes: "
        "the ceiling for what the images hold."
    )
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
    add("best epoch (validation re-identification)", f"{enc.get('best_epoch')} of {enc.get('epochs')}" if enc else None)
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


def _figures(run: RunFiles, fig_dir: Path, seed: int) -> list[FigureEntry]:
    figures: list[FigureEntry] = []
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
            ax_loss.plot(sub["epoch"], sub["train_loss"], color=colour, lw=1.6, label=f"{method} train")
            if "val_loss" in sub and sub["val_loss"].notna().any():
                ax_loss.plot(sub["epoch"], sub["val_loss"], color=colour, lw=1.6, ls="--", label=f"{method} validation")
            if "val_top1" in sub and sub["val_top1"].notna().any():
                ax_top.plot(sub["epoch"], sub["val_top1"], color=colour, lw=1.6, marker="o", ms=3, label=method)
                best = sub.loc[sub["val_top1"].idxmax()]
                ax_top.scatter([best["epoch"]], [best["val_top1"]], s=90, facecolors="none", edgecolors=colour, lw=2)
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
    table_md = comparison_markdown(run.results)
    speed_md = speed_markdown(metrics)
    header = f"# alignome run summary — recipe {metrics.get('recipe', run_dir.name)}"
    summary_md = f"{header}\n\n{table_md}\n\n## Speed\n\n{speed_md}\n"
    figures = _figures(run, fresh_figure_dir(run_dir, FIGURE_FILES), int(metrics.get("seed") or 0))
    return write_report(run, summary_md, table_md, figures, sections=[("Speed", speed_md)])
