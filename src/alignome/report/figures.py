"""Matplotlib figures of a run: ROC curves, gate weights, training curves,
performance per method and an embedding projection.

Every function draws one PNG (110 dpi) and returns its path, or None when the
input holds nothing to draw. Figures are built as ``matplotlib.figure.Figure``
objects rendered by the Agg canvas, so pyplot's global state and the user's
backend are never touched.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, roc_curve

from alignome.report.ordering import (
    DIAGNOSIS_COLOURS,
    is_oracle,
    MethodOrder,
    order_diagnoses,
    order_tasks,
    task_classes,
)

DPI = 110
STYLE = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "figure.titlesize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
_ORACLE_COLOUR = "0.55"


@contextmanager
def house_style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE):
        yield


def save_figure(fig: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", facecolor="white")
    return path


def new_figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _method_colours(methods: list[str]) -> dict[str, object]:
    """One colour per method; tab10's grey is left out because grey marks the oracle."""
    palette = [c for i, c in enumerate(matplotlib.colormaps["tab10"].colors) if i != 7]
    colours: dict[str, object] = {}
    i = 0
    for m in methods:
        if is_oracle(m):
            colours[m] = _ORACLE_COLOUR
        else:
            colours[m] = palette[i % len(palette)]
            i += 1
    return colours


def _grid(n: int, ncols: int, width: float, height: float) -> tuple[Figure, list[Axes]]:
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = new_figure((width * ncols, height * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _prob_columns(frame: pd.DataFrame, k: int) -> list[str] | None:
    cols = [f"prob_{i}" for i in range(k)]
    if not all(c in frame.columns for c in cols):
        return None
    if frame[cols].isna().all().any():
        return None
    return cols


def _fold_mean_auc(frame: pd.DataFrame, y: np.ndarray, score: np.ndarray) -> float:
    """Mean over folds of the per-fold AUC; NaN where no fold has both classes."""
    values = []
    folds = frame["fold"].to_numpy() if "fold" in frame.columns else np.zeros(len(frame))
    for fold in pd.unique(folds):
        mask = folds == fold
        if len(np.unique(y[mask])) == 2:
            values.append(roc_auc_score(y[mask], score[mask]))
    return float(np.mean(values)) if values else float("nan")


def _results_mean(results: pd.DataFrame | None, method: str, task: str, metric: str) -> float:
    if results is None or results.empty:
        return float("nan")
    sel = results[(results["method"] == method) & (results["task"] == task) & (results["metric"] == metric)]
    values = pd.to_numeric(sel["value"], errors="coerce").dropna()
    return float(values.mean()) if len(values) else float("nan")


def _diagonal(ax: Axes) -> None:
    ax.plot([0, 1], [0, 1], ls=":", color="0.5", lw=1, label="chance")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")


def roc_figure(
    predictions: pd.DataFrame,
    path: Path,
    results: pd.DataFrame | None = None,
    method: str | None = None,
    order: MethodOrder = MethodOrder(),
) -> Path | None:
    """ROC curves: one panel per binary task, one curve per method, pooled over folds,
    plus a one-vs-rest panel of the 3-class task for one method.

    Parameters
    ----------
    predictions
        ``predictions.csv`` with columns ``method, task, fold, y_true, prob_0, prob_1[, prob_2]``.
    path
        PNG to write.
    results
        ``results.csv``; the legend's mean AUC is taken from it (mean of the fold
        values) and, where absent, computed from ``predictions`` fold by fold.
    method
        Method of the 3-class one-vs-rest panel; default ``order.main_method``.
    order
        Display order of the methods.

    Returns
    -------
    pathlib.Path or None
        ``path``, or None when no task had both classes to draw.
    """
    preds = predictions.copy()
    preds["task"] = preds["task"].astype(str)
    preds["method"] = preds["method"].astype(str)
    tasks = order_tasks(preds["task"])
    binary = [t for t in tasks if len(task_classes(t)) == 2]
    multi = [t for t in tasks if len(task_classes(t)) > 2]
    methods = order.methods(preds["method"])
    colours = _method_colours(methods)
    ovr_method = method or order.main_method(methods)

    panels: list[tuple[str, str]] = [("binary", t) for t in binary] + [("ovr", t) for t in multi]
    if not panels:
        return None
    drawn = 0
    with house_style():
        fig, axes = _grid(len(panels), 2, 5.2, 5.0)
        for ax, (kind, task) in zip(axes, panels):
            classes = task_classes(task)
            sub = preds[preds["task"] == task]
            if kind == "binary":
                for m in methods:
                    rows = sub[(sub["method"] == m)]
                    cols = _prob_columns(rows, 2)
                    rows = rows.dropna(subset=["y_true"] + (cols or []))
                    if cols is None or rows.empty:
                        continue
                    y = rows["y_true"].to_numpy().astype(int)
                    score = rows["prob_1"].to_numpy(dtype=float)
                    if len(np.unique(y)) < 2:
                        continue
                    fpr, tpr, _ = roc_curve(y, score)
                    auc = _results_mean(results, m, task, "auc")
                    if math.isnan(auc):
                        auc = _fold_mean_auc(rows, y, score)
                    style = {"ls": "--", "lw": 1.4} if is_oracle(m) else {"lw": 2.0 if m == ovr_method else 1.4}
                    ax.plot(fpr, tpr, color=colours[m], label=f"{m} ({auc:.3f})", **style)
                    drawn += 1
                ax.set_title(f"{task}: {classes[1]} vs {classes[0]}")
                legend_title = "method (mean fold AUC)"
            else:
                rows = sub[sub["method"] == ovr_method]
                cols = _prob_columns(rows, len(classes))
                rows = rows.dropna(subset=["y_true"] + (cols or []))
                if cols is not None and not rows.empty:
                    y = rows["y_true"].to_numpy().astype(int)
                    for k, name in enumerate(classes):
                        yk = (y == k).astype(int)
                        if len(np.unique(yk)) < 2:
                            continue
                        score = rows[f"prob_{k}"].to_numpy(dtype=float)
                        fpr, tpr, _ = roc_curve(yk, score)
                        auc = _fold_mean_auc(rows, yk, score)
                        colour = DIAGNOSIS_COLOURS.get(name, matplotlib.colormaps["tab10"](k))
                        ax.plot(fpr, tpr, color=colour, lw=2, label=f"{name} vs rest ({auc:.3f})")
                        drawn += 1
                macro = _results_mean(results, ovr_method, task, "auc_macro_ovr")
                macro_text = "" if math.isnan(macro) else f", macro AUC {macro:.3f}"
                ax.set_title(f"{task} one-vs-rest\n{ovr_method}{macro_text}")
                legend_title = "class (mean fold AUC)"
            _diagonal(ax)
            ax.legend(loc="lower right", title=legend_title, title_fontsize=9, framealpha=0.9)
        fig.suptitle("ROC curves on outer-fold test subjects (pooled over folds)")
        fig.tight_layout()
        if drawn == 0:
            return None
        return save_figure(fig, path)


def training_curves_figure(curves: pd.DataFrame, path: Path, order: MethodOrder = MethodOrder(),
                           title: str = "Contrastive pretraining loss per outer fold") -> Path | None:
    """Train and validation loss against epoch, one line per fold, one panel per method.

    Parameters
    ----------
    curves
        ``training_curves.csv`` with columns ``method, fold, epoch, train_loss[, val_loss]``.
    path
        PNG to write.
    title
        The figure's title.

    Returns
    -------
    pathlib.Path or None
        ``path``, or None when there is no loss value.
    """
    frame = curves.copy()
    frame["method"] = frame["method"].astype(str)
    for col in ("epoch", "train_loss", "val_loss"):
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame = frame.dropna(subset=["epoch"])
    has_val = "val_loss" in frame.columns and frame["val_loss"].notna().any()
    if frame.empty or (frame["train_loss"].isna().all() and not has_val):
        return None
    methods = order.methods(frame["method"])
    folds = sorted(pd.unique(frame["fold"]), key=str)
    cmap = matplotlib.colormaps["tab10"]
    fold_colour = {f: cmap(i % 10) for i, f in enumerate(folds)}
    with house_style():
        fig, axes = _grid(len(methods), 2 if len(methods) in (2, 4) else 3, 4.6, 3.5)
        for ax, m in zip(axes, methods):
            sub = frame[frame["method"] == m]
            for f in folds:
                rows = sub[sub["fold"] == f].sort_values("epoch")
                if rows.empty:
                    continue
                ax.plot(rows["epoch"], rows["train_loss"], color=fold_colour[f], lw=1.5)
                if has_val:
                    ax.plot(rows["epoch"], rows["val_loss"], color=fold_colour[f], lw=1.5, ls="--")
            ax.set_title(m)
            ax.set_xlabel("Epoch")
            ax.set_ylabel("Loss")
        handles = [Line2D([], [], color="0.2", lw=1.5, label="train")]
        if has_val:
            handles.append(Line2D([], [], color="0.2", lw=1.5, ls="--", label="validation"))
        handles += [Line2D([], [], color=fold_colour[f], lw=3, label=f"fold {f}") for f in folds]
        fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(handles), 8), frameon=False)
        fig.suptitle(title)
        fig.tight_layout()
        return save_figure(fig, path)


def performance_figure(summary: pd.DataFrame, path: Path, order: MethodOrder = MethodOrder()) -> Path | None:
    """Dot plot of mean ± std over folds per method, one panel per task and metric row.

    Parameters
    ----------
    summary
        Output of :func:`alignome.report.summary.summarise`.
    path
        PNG to write.

    Returns
    -------
    pathlib.Path or None
        ``path``, or None when the summary is empty.
    """
    if summary is None or summary.empty:
        return None
    tasks = order_tasks(summary["task"])
    rows = [r for r in ("AUC", "RMSE") if r in set(summary["row"])]
    methods = order.methods(summary["method"])
    colours = _method_colours(methods)
    ypos = {m: len(methods) - 1 - i for i, m in enumerate(methods)}
    with house_style():
        fig = new_figure((2.9 * len(tasks) + 1.6, 0.38 * len(methods) * len(rows) + 1.4 * len(rows) + 0.4))
        axes = fig.subplots(len(rows), len(tasks), squeeze=False, sharey=True)
        for r, row in enumerate(rows):
            for c, task in enumerate(tasks):
                ax = axes[r][c]
                sub = summary[(summary["row"] == row) & (summary["task"] == task)]
                for rec in sub.itertuples(index=False):
                    std = 0.0 if pd.isna(rec.std) else rec.std
                    ax.errorbar(
                        rec.mean, ypos[rec.method], xerr=std, fmt="o", color=colours[rec.method],
                        ms=8 if rec.best else 5, mec="black" if rec.best else colours[rec.method],
                        capsize=3, lw=1.5,
                    )
                ax.set_yticks(list(ypos.values()))
                ax.set_yticklabels(list(ypos.keys()))
                ax.set_ylim(-0.6, len(methods) - 0.4)
                ax.grid(axis="y", alpha=0.0)
                ax.set_title(task if r == 0 else "")
                better = "higher is better" if row == "AUC" else "lower is better"
                xlabel = "AUC" if row == "AUC" else "RMSE (scaled MMSE)"
                ax.set_xlabel(f"{xlabel}\n({better})", fontsize=10)
                ax.locator_params(axis="x", nbins=4)
        fig.suptitle("Performance per method: mean ± std over outer folds (large dot = best)")
        fig.tight_layout()
        return save_figure(fig, path)


def _embedding_blocks(columns: list[str]) -> dict[str, list[str]]:
    def block(prefix: str) -> list[str]:
        cols = [c for c in columns if c.startswith(prefix) and c[len(prefix):].isdigit()]
        return sorted(cols, key=lambda c: int(c[len(prefix):]))

    blocks = {"SNP embedding": block("z_snp_"), "MRI embedding": block("z_mri_")}
    blocks = {k: v for k, v in blocks.items() if v}
    if len(blocks) == 2:
        blocks["joint (SNP ⊕ MRI)"] = blocks["SNP embedding"] + blocks["MRI embedding"]
    return blocks


def embeddings_figure(embeddings: pd.DataFrame, path: Path, method: str | None = None,
                      order: MethodOrder = MethodOrder()) -> Path | None:
    """PCA projection of test-split embeddings coloured by diagnosis.

    Embeddings of different folds come from different models, so one fold is
    shown (the first). PCA is fitted on that fold's training-split embeddings
    when present (else on its test split) and applied to the test split.

    Parameters
    ----------
    embeddings
        ``embeddings.parquet`` with columns ``subject, fold, split, method,
        diagnosis, z_snp_0.., z_mri_0..``.
    path
        PNG to write.
    method
        Method shown; default ``order.main_method``.

    Returns
    -------
    pathlib.Path or None
        ``path``, or None when there are no usable test embeddings.
    """
    frame = embeddings.copy()
    blocks = _embedding_blocks(list(frame.columns))
    if not blocks or "diagnosis" not in frame.columns:
        return None
    if "method" in frame.columns:
        frame["method"] = frame["method"].astype(str)
        method = method or order.main_method(frame["method"])
        frame = frame[frame["method"] == method]
    title_fold = ""
    if "fold" in frame.columns and frame["fold"].notna().any():
        fold = sorted(pd.unique(frame["fold"].dropna()), key=lambda v: (str(type(v)), v))[0]
        frame = frame[frame["fold"] == fold]
        title_fold = f", fold {fold}"
    if "split" in frame.columns:
        split = frame["split"].astype(str).str.lower()
        test, train = frame[split == "test"], frame[split == "train"]
    else:
        test, train = frame, frame.iloc[0:0]
    if len(test) < 3:
        return None
    labels = order_diagnoses(test["diagnosis"].dropna().astype(str))
    with house_style():
        fig, axes = _grid(len(blocks), 3, 3.7, 3.8)
        drawn = 0
        for ax, (name, cols) in zip(axes, blocks.items()):
            x_test = test[cols].to_numpy(dtype=float)
            ok = np.isfinite(x_test).all(axis=1)
            x_fit = train[cols].to_numpy(dtype=float)
            x_fit = x_fit[np.isfinite(x_fit).all(axis=1)]
            fitted_on = "train split"
            if len(x_fit) < 3:
                x_fit, fitted_on = x_test[ok], "test split"
            if ok.sum() < 3 or len(cols) < 2:
                ax.set_visible(False)
                continue
            pca = PCA(n_components=2, random_state=0).fit(x_fit)
            xy = pca.transform(x_test[ok])
            diag = test["diagnosis"].astype(str).to_numpy()[ok]
            for d in labels:
                sel = diag == d
                ax.scatter(xy[sel, 0], xy[sel, 1], s=18, alpha=0.75, label=f"{d} (n={sel.sum()})",
                           color=DIAGNOSIS_COLOURS.get(d, None), edgecolor="none")
            ev = pca.explained_variance_ratio_ * 100
            ax.set_xlabel(f"PC1 ({ev[0]:.0f}% var.)")
            ax.set_ylabel(f"PC2 ({ev[1]:.0f}% var.)")
            ax.set_title(f"{name}\n(PCA fitted on {fitted_on})", fontsize=11)
            drawn += 1
        if drawn == 0:
            return None
        handles, texts = next(ax for ax in axes if ax.get_visible()).get_legend_handles_labels()
        fig.legend(handles, texts, title="diagnosis", loc="upper center", bbox_to_anchor=(0.5, 0.0),
                   ncol=len(texts), frameon=False, markerscale=1.6)
        who = f"{method}" if method else "embeddings"
        fig.suptitle(f"Test-split embeddings, {who}{title_fold}")
        fig.tight_layout()
        return save_figure(fig, path)
