"""Study 2's PC1 distributions: held-out cases against controls, one pair of violins per method.

The spirometry study writes :data:`PC1_FILE`; the figure shows the first split's held-out
half, each method's embedding PC1 as scanned by the GWAS (PCA fitted on the held-out
embeddings alone, rank-INT), and FEV1/FVC for reference. A PC's sign is arbitrary, so each
series is standardised and turned so that cases lie above controls; the |Cohen's d| printed
over each pair is the one the results table averages.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alignome.evaluation.disease_probe import standardised_difference
from alignome.report.figures import house_style, new_figure, save_figure

#: Held-out subjects' PC1 (and FEV1/FVC) with their disease status, per method and split.
PC1_FILE = "pc1_by_status.csv"
PC1_COLUMNS = ("method", "fold", "IID", "disease", "value")
STATUS_COLOURS = (("controls", "0.6"), ("cases", "C3"))


def status_table(method: str, split: int, subjects: np.ndarray, disease: np.ndarray, value: np.ndarray) -> pd.DataFrame:
    """Rows of :data:`PC1_FILE`: each held-out subject's PC1 (or FEV1/FVC) and disease status."""
    return pd.DataFrame({"method": method, "fold": split, "IID": subjects, "disease": np.asarray(disease, dtype=bool),
                         "value": np.asarray(value, dtype=np.float64)})


def oriented(values: np.ndarray, disease: np.ndarray) -> np.ndarray:
    """``values`` standardised over the subjects and signed so that cases' mean ≥ controls' mean."""
    v = np.asarray(values, dtype=np.float64)
    z = (v - v.mean()) / v.std()
    return z if standardised_difference(z, disease) >= 0 else -z


def pc1_figure(table: pd.DataFrame | None, path: Path, order: list[str]) -> Path | None:
    """Violins of PC1 for controls and cases per method (first split, held-out half); None without data."""
    if table is None or table.empty:
        return None
    first = table[table["fold"] == table["fold"].min()]
    methods = [m for m in order if m in set(first["method"])] + sorted(set(first["method"]) - set(order))
    with house_style():
        fig = new_figure((1.6 * len(methods) + 1.5, 4.2))
        ax = fig.subplots()
        series = []
        for method in methods:
            disease = first.loc[first["method"] == method, "disease"].astype(bool).to_numpy()
            series.append((oriented(first.loc[first["method"] == method, "value"].to_numpy(), disease), disease))
        top = max(z.max() for z, _ in series) + 0.3
        for x, (z, disease) in enumerate(series):
            for side, (label, colour) in zip((-0.2, 0.2), STATUS_COLOURS):
                part = ax.violinplot(z[disease == (label == "cases")], positions=[x + side], widths=0.38,
                                     showmedians=True)
                for body in part["bodies"]:
                    body.set(facecolor=colour, edgecolor=colour, alpha=0.55, label=label if x == 0 else None)
                for key in ("cmedians", "cmins", "cmaxes", "cbars"):
                    part[key].set_color(colour)
            ax.text(x, top, f"|d| {abs(standardised_difference(z, disease)):.2f}", ha="center", fontsize=8)
        ax.set_xticks(np.arange(len(methods)), methods, rotation=20)
        ax.set(ylabel="PC1 (standardised, cases up)", xlim=(-0.6, len(methods) - 0.4), ylim=(None, top + 0.5))
        ax.legend(frameon=False, fontsize=8, ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
        fig.tight_layout()
        return save_figure(fig, path)
