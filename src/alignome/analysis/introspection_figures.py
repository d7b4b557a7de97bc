"""Introspection figures (paper 001, Figs. 2–4): similarity heatmaps, saliency and effect-size slices.

Each function takes arrays (or a small table) and an output path, draws one PNG with the
house style of :mod:`alignome.report.figures` and returns its path. Volumes are
``(X, Y, Z)`` arrays in RAS voxel order (axis 0 left→right, 1 posterior→anterior,
2 inferior→superior), as the simulated cohorts and the preprocessing write them; slices
are sagittal (fixed x), coronal (fixed y) and axial (fixed z), shown with superior/anterior up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from alignome.errors import DataError
from alignome.report.figures import house_style, new_figure, save_figure

#: The groups of paper 001's similarity figure, in its order.
GROUP_ORDER = ("HC", "AD", "other")
_VIEWS = ("sagittal", "coronal", "axial")


def _slice(volume: np.ndarray, axis: int, at: int) -> np.ndarray:
    """The 2D slice through ``at`` along ``axis``, oriented for ``imshow(origin="lower")``."""
    return np.take(volume, at, axis=axis).T


def _show_slices(axes: Sequence[Axes], volume: np.ndarray, at: Sequence[int], cmap: str, vmin: float, vmax: float,
                 background: np.ndarray | None, threshold: float | None):
    image = None
    for ax, axis, view in zip(axes, range(3), _VIEWS):
        if background is not None:
            ax.imshow(_slice(background, axis, at[axis]), cmap="gray", origin="lower", interpolation="nearest")
        data = _slice(volume, axis, at[axis]).astype(float)
        if threshold is not None:
            data = np.ma.masked_where(np.abs(data) < threshold, data)
        image = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, origin="lower", interpolation="nearest",
                          alpha=0.85 if background is not None else 1.0)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel(f"{view} {'xyz'[axis]}={at[axis]}", fontsize=9)
    return image


def _figure(figsize: tuple[float, float]) -> Figure:
    fig = new_figure(figsize)
    fig.set_layout_engine("constrained")
    return fig


def _check_volumes(volumes: Mapping[str, np.ndarray], background: np.ndarray | None) -> None:
    shapes = {name: np.shape(v) for name, v in volumes.items()}
    if not volumes or any(len(s) != 3 for s in shapes.values()) or len(set(shapes.values())) != 1:
        raise DataError(f"need 3D maps of one shape, got {shapes}", field="maps", fix="give (X, Y, Z) arrays")
    if background is not None and np.shape(background) != next(iter(shapes.values())):
        raise DataError(f"background shape {np.shape(background)} differs from the maps'", field="background",
                        fix="give the anatomy on the maps' grid")


def _group_labels(table: pd.DataFrame, groups: list[str]) -> list[str]:
    """``"HC (n=20)"`` where the table has an ``n`` column, else the group names."""
    if "n" not in table.columns:
        return list(groups)
    n = table.groupby("group")["n"].max()
    return [f"{g} (n={int(n[g])})" for g in groups]


def similarity_heatmap(table: pd.DataFrame, path: str | Path, groups: Sequence[str] = GROUP_ORDER) -> Path:
    """CKA and SVCCA between modalities, one row per method and one column per group (paper 001, Fig. 2).

    ``table`` has columns ``method``, ``group``, ``cka`` and ``svcca`` (e.g.
    :func:`alignome.analysis.representation_similarity.similarity_by_group` per method);
    methods keep their order of first appearance, groups follow ``groups`` (others after); an
    ``n`` column (subjects per group) labels each group, as SVCCA on few subjects reads high.
    """
    missing = [c for c in ("method", "group", "cka", "svcca") if c not in table.columns]
    if missing:
        raise DataError(f"the similarity table lacks column(s) {', '.join(missing)}", field=missing[0],
                        fix="give one row per method and group with cka and svcca")
    methods = list(pd.unique(table["method"]))
    present = list(pd.unique(table["group"]))
    cols = [g for g in groups if g in present] + [g for g in present if g not in groups]
    with house_style():
        fig = _figure((2.2 + 1.1 * len(cols) * 2, 1.2 + 0.42 * len(methods)))
        axes = fig.subplots(1, 2, squeeze=False)[0]
        for ax, metric in zip(axes, ("cka", "svcca")):
            grid = table.pivot_table(index="method", columns="group", values=metric, aggfunc="mean")
            grid = grid.reindex(index=methods, columns=cols)
            image = ax.imshow(grid.to_numpy(float), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
            for (i, j), value in np.ndenumerate(grid.to_numpy(float)):
                if np.isfinite(value):
                    ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if value < 0.6 else "black")
            ax.set_xticks(range(len(cols)), _group_labels(table, cols))
            ax.set_yticks(range(len(methods)), methods if ax is axes[0] else [""] * len(methods))
            ax.grid(False)
            ax.set_title("linear CKA" if metric == "cka" else "SVCCA")
        fig.colorbar(image, ax=list(axes), fraction=0.04)
        fig.suptitle("Similarity of the two modalities' representations, per group")
        return save_figure(fig, path)


def saliency_pair_figure(
    maps: Mapping[str, np.ndarray], path: str | Path, at: Sequence[int] | None = None,
    background: np.ndarray | None = None, threshold: float | None = None, title: str | None = None,
) -> Path:
    """Mean saliency maps (e.g. the best-correlated T1 and fALFF dimensions, paper 001 Fig. 3), three slices each.

    ``maps`` names each row (``{"T1 dim 3": mean_t1, "fALFF dim 17": mean_falff}``); the
    slices cross ``at`` (default: the voxel of largest summed saliency). Values below
    ``threshold`` are hidden; ``background`` (e.g. a mean T1) is drawn beneath in grey.
    """
    _check_volumes(maps, background)
    total = sum(np.asarray(m, float) for m in maps.values())
    at = tuple(int(i) for i in (at if at is not None else np.unravel_index(int(np.argmax(total)), total.shape)))
    with house_style():
        fig = _figure((8.4, 2.7 * len(maps)))
        rows = fig.subplots(len(maps), 3, squeeze=False)
        for ax_row, (name, volume) in zip(rows, maps.items()):
            volume = np.asarray(volume, float)
            image = _show_slices(ax_row, volume, at, "hot", 0.0, max(float(volume.max()), 1e-12), background,
                                 threshold)
            ax_row[0].set_ylabel(name)
            fig.colorbar(image, ax=list(ax_row), fraction=0.03)
        if title:
            fig.suptitle(title)
        return save_figure(fig, path)


def effect_size_figure(
    rbc_maps: Mapping[str, np.ndarray], path: str | Path, background: np.ndarray | None = None,
    title: str | None = None, threshold: float | None = 0.1,
) -> Path:
    """Rank-biserial correlation maps (AD vs HC, paper 001 Fig. 4), each row sliced at its own peak ``|rbc|``.

    ``|rbc|`` below ``threshold`` is hidden, so the anatomy shows through.
    """
    _check_volumes(rbc_maps, background)
    with house_style():
        fig = _figure((8.4, 2.7 * len(rbc_maps)))
        rows = fig.subplots(len(rbc_maps), 3, squeeze=False)
        for ax_row, (name, volume) in zip(rows, rbc_maps.items()):
            volume = np.nan_to_num(np.asarray(volume, float))
            at = np.unravel_index(int(np.argmax(np.abs(volume))), volume.shape)
            image = _show_slices(ax_row, volume, at, "RdBu_r", -1.0, 1.0, background, threshold)
            ax_row[0].set_ylabel(f"{name}\npeak {volume[at]:+.2f}")
            fig.colorbar(image, ax=list(ax_row), fraction=0.03, label="RBC")
        if title:
            fig.suptitle(title)
        return save_figure(fig, path)
