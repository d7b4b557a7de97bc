"""Figures of the gated fusion only this recipe has."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alignome.report.figures import house_style, new_figure, save_figure
from alignome.report.ordering import DIAGNOSIS_COLOURS, MethodOrder, order_diagnoses


def gates_figure(gates: pd.DataFrame, path: Path, method: str | None = None, order: MethodOrder = MethodOrder()) -> Path | None:
    """Box and strip plot of the MRI gate weight α_mri per diagnosis for one method.

    Parameters
    ----------
    gates
        ``gates.csv`` with columns ``method, diagnosis, alpha_mri`` (and usually
        ``task, fold, subject, alpha_snp``); pooled over folds and tasks.
    path
        PNG to write.
    method
        Method shown; default ``order.main_method`` of the methods present.

    Returns
    -------
    pathlib.Path or None
        ``path``, or None when the method has no gate values.
    """
    frame = gates.copy()
    frame["method"] = frame["method"].astype(str)
    method = method or order.main_method(frame["method"])
    frame = frame[frame["method"] == method]
    frame = frame.assign(alpha_mri=pd.to_numeric(frame["alpha_mri"], errors="coerce"))
    frame = frame.dropna(subset=["alpha_mri", "diagnosis"])
    if frame.empty:
        return None
    frame["diagnosis"] = frame["diagnosis"].astype(str)
    labels = order_diagnoses(frame["diagnosis"])
    data = [frame.loc[frame["diagnosis"] == d, "alpha_mri"].to_numpy() for d in labels]
    rng = np.random.default_rng(0)  # jitter only; fixed so reruns give the same picture
    with house_style():
        fig = new_figure((max(4.5, 1.6 * len(labels) + 2), 4.6))
        ax = fig.subplots()
        box = ax.boxplot(data, positions=range(len(labels)), widths=0.5, showfliers=False, patch_artist=True)
        for patch, d in zip(box["boxes"], labels):
            patch.set_facecolor(DIAGNOSIS_COLOURS.get(d, "0.8"))
            patch.set_alpha(0.35)
        for median in box["medians"]:
            median.set_color("black")
        for i, (d, values) in enumerate(zip(labels, data)):
            x = i + rng.uniform(-0.18, 0.18, size=len(values))
            ax.scatter(x, values, s=10, alpha=0.6, color=DIAGNOSIS_COLOURS.get(d, "0.3"), edgecolor="none")
        if "alpha_snp" in frame.columns:
            total = frame["alpha_mri"] + pd.to_numeric(frame["alpha_snp"], errors="coerce")
            if total.notna().all() and np.allclose(total, 1.0, atol=1e-3):
                ax.axhline(0.5, ls=":", color="0.4", lw=1.2, label="equal weight (α_mri = α_snp = 0.5)")
                ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.24), frameon=False)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels([f"{d}\n(n={len(v)})" for d, v in zip(labels, data)])
        ax.set_xlabel("Diagnosis")
        ax.set_ylabel("α_mri (weight on MRI)")
        ax.set_title(f"Gate weight on MRI by diagnosis — {method}\npooled over folds and tasks")
        fig.tight_layout()
        return save_figure(fig, path)


def pretrain_search_figure(trials: pd.DataFrame, path: Path) -> Path | None:
    """Inner-CV probe score of every pretraining trial against its contrastive weight, one colour per fold.

    Parameters
    ----------
    trials
        ``pretrain_search.csv``: columns ``fold, trial, contrastive_weight, inner_score``
        (and the other searched settings). Each fold's best trial is ringed.
    path
        PNG to write.

    Returns
    -------
    pathlib.Path or None
        ``path``, or None without scored trials.
    """
    frame = trials.assign(
        contrastive_weight=pd.to_numeric(trials["contrastive_weight"], errors="coerce"),
        inner_score=pd.to_numeric(trials["inner_score"], errors="coerce"),
    ).dropna(subset=["contrastive_weight", "inner_score"])
    if frame.empty:
        return None
    weights = sorted(frame["contrastive_weight"].unique())
    position = {w: i for i, w in enumerate(weights)}  # evenly spaced: the weights span decades and include 0
    rng = np.random.default_rng(0)  # jitter only; fixed so reruns give the same picture
    with house_style():
        fig = new_figure((6.4, 4.4))
        ax = fig.subplots()
        for k, (fold, grp) in enumerate(frame.groupby("fold")):
            x = grp["contrastive_weight"].map(position).to_numpy(dtype=float) + rng.uniform(-0.12, 0.12, len(grp))
            colour = f"C{k % 10}"
            ax.scatter(x, grp["inner_score"], s=22, color=colour, alpha=0.75, edgecolor="none", label=f"fold {fold}")
            best = int(np.argmax(grp["inner_score"].to_numpy()))
            ax.scatter(x[best], grp["inner_score"].iloc[best], s=110, facecolor="none", edgecolor=colour, linewidth=1.6)
        ax.set_xticks(range(len(weights)))
        ax.set_xticklabels([f"{w:g}" for w in weights])
        ax.set_xlabel("contrastive weight (reconstruction weight 1)")
        ax.set_ylabel("inner-CV probe AUC (mean over tasks)")
        ax.set_title("Pretraining search per outer fold\nringed: the trial each fold ran with")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=min(5, frame["fold"].nunique()), frameon=False)
        fig.tight_layout()
        return save_figure(fig, path)
