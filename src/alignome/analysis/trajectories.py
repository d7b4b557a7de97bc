"""Figures of longitudinal embeddings: 2-D trajectories of each subject's visits
(UMAP, as in paper 004) and distributions of consecutive-visit against
between-subject cosine distances.

Figures are ``matplotlib.figure.Figure`` objects rendered by the Agg canvas, so
pyplot's global state and the user's backend are never touched. ``build_*``
functions return the figure (for inspection or embedding); the others save a
PNG at 110 dpi and return its path.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from sklearn.decomposition import PCA

from alignome.errors import DataError
from alignome.evaluation.visit_metrics import _check_inputs, _unit_rows, subject_trajectories
from alignome.report.figures import DPI, STYLE
from alignome.report.ordering import DIAGNOSIS_COLOURS, order_diagnoses

#: Below this many scans UMAP is not meaningful; PCA is used instead.
MIN_UMAP_SCANS = 10
#: Subjects named in the legend at most.
MAX_LEGEND_SUBJECTS = 12
#: The house style of alignome's figures, without the grid (a UMAP's axes carry no units).
_STYLE = {**STYLE, "axes.grid": False}
_UNKNOWN = "unknown"
_UNKNOWN_COLOUR = "0.6"
_TRACE = dict(color="0.75", lw=0.8, zorder=1)
_CONSECUTIVE_COLOUR = "#d95f02"
_BETWEEN_COLOUR = "0.5"


def _new_figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, facecolor="white", bbox_inches="tight")
    return path


# ---------------------------------------------------------------- projection


def umap_neighbours(n: int) -> int:
    """UMAP ``n_neighbors`` for ``n`` scans: about 1.5·√n, within [4, 15] and below n."""
    return int(max(2, min(n - 1, int(np.clip(round(1.5 * math.sqrt(n)), 4, 15)))))


def project_2d(emb: np.ndarray, seed: int = 0) -> tuple[np.ndarray, str]:
    """Two-dimensional projection of embeddings for plotting.

    Parameters
    ----------
    emb
        Embeddings (N, d).
    seed
        Seed of UMAP.

    Returns
    -------
    tuple
        (coordinates (N, 2), name of the projection). UMAP with cosine metric and
        ``n_neighbors`` from :func:`umap_neighbours` when N >= 10; PCA of the unit
        vectors otherwise (named so, since UMAP on so few points is noise).
    """
    emb = np.asarray(emb, dtype=np.float64)
    n = emb.shape[0]
    unit = _unit_rows(emb)
    if n >= MIN_UMAP_SCANS:
        import umap  # deferred: import and first call compile with numba

        reducer = umap.UMAP(n_components=2, n_neighbors=umap_neighbours(n), min_dist=0.3,
                            metric="cosine", random_state=seed, n_jobs=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # spectral-init and n_jobs notes on tiny graphs
            coords = reducer.fit_transform(unit)
        return np.asarray(coords, dtype=np.float64), "UMAP"
    coords = np.zeros((n, 2))
    if n >= 2:
        k = min(2, n, unit.shape[1])
        coords[:, :k] = PCA(n_components=k, random_state=seed).fit_transform(unit)
    return coords, f"PCA (only {n} scans, too few for UMAP)"


# ---------------------------------------------------------------- trajectories


def _subject_colours(subjects: list[str]) -> dict[str, tuple]:
    n = len(subjects)
    if n <= 10:
        cmap, step = matplotlib.colormaps["tab10"], 1 / 10
        return {s: cmap(i * step + step / 2) for i, s in enumerate(subjects)}
    if n <= 20:
        cmap = matplotlib.colormaps["tab20"]
        return {s: cmap((i + 0.5) / 20) for i, s in enumerate(subjects)}
    cmap = matplotlib.colormaps["turbo"]
    return {s: cmap(0.05 + 0.9 * i / (n - 1)) for i, s in enumerate(subjects)}


def _draw_arrow(ax: Axes, start: np.ndarray, end: np.ndarray, colour, lw: float) -> None:
    ax.annotate("", xy=tuple(end), xytext=tuple(start),
                arrowprops=dict(arrowstyle="-|>", color=colour, lw=lw, mutation_scale=12,
                                shrinkA=0, shrinkB=3), zorder=3)


def _subject_panel(ax: Axes, coords: np.ndarray, traj: dict[str, np.ndarray]) -> None:
    colours = _subject_colours(list(traj))
    many = len(traj) > 40
    for subject, pos in traj.items():
        c = colours[subject]
        xy = coords[pos]
        if pos.size >= 2:
            (line,) = ax.plot(xy[:, 0], xy[:, 1], "-", color=c, lw=1.0 if many else 1.5,
                              alpha=0.85, zorder=2, label=subject)
            line.set_gid(f"trajectory:{subject}")
            _draw_arrow(ax, xy[-2], xy[-1], c, 1.0 if many else 1.5)
        ax.scatter(xy[:1, 0], xy[:1, 1], s=26, facecolors="white", edgecolors=[c], linewidths=1.3,
                   zorder=4, label=None if pos.size >= 2 else subject)
        if pos.size >= 2:
            ax.scatter(xy[1:, 0], xy[1:, 1], s=18, color=[c], zorder=4)
    ax.set_title("by subject (visits joined in time order)")
    handles = [Line2D([], [], marker="o", mfc="white", mec="0.2", ls="none", label="first visit"),
               Line2D([], [], marker=r"$\rightarrow$", color="0.2", ls="none", ms=12, label="last visit")]
    if len(traj) <= MAX_LEGEND_SUBJECTS:
        handles += [Line2D([], [], color=colours[s], marker="o", ms=5, lw=1.5, label=s) for s in traj]
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    else:
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
                  title=f"{len(traj)} subjects\n(legend of\nsubjects omitted)", title_fontsize=9)


def _traces(ax: Axes, coords: np.ndarray, traj: dict[str, np.ndarray]) -> None:
    for pos in traj.values():
        if pos.size >= 2:
            ax.plot(coords[pos, 0], coords[pos, 1], "-", **_TRACE)


def _diagnosis_panel(ax: Axes, coords: np.ndarray, scans: pd.DataFrame, traj) -> None:
    _traces(ax, coords, traj)
    if "diagnosis" in scans.columns:
        diag = scans["diagnosis"].astype("string").str.strip().fillna(_UNKNOWN).replace("", _UNKNOWN)
        diag = diag.astype(str).to_numpy()
    else:
        diag = np.full(len(scans), _UNKNOWN)
    labels = order_diagnoses([d for d in diag if d != _UNKNOWN])
    if (diag == _UNKNOWN).any():
        labels.append(_UNKNOWN)
    extra = matplotlib.colormaps["Set2"]
    for i, label in enumerate(labels):
        colour = DIAGNOSIS_COLOURS.get(label, _UNKNOWN_COLOUR if label == _UNKNOWN else extra(i % 8))
        m = diag == label
        ax.scatter(coords[m, 0], coords[m, 1], s=30, color=colour, label=f"{label} ({int(m.sum())})",
                   zorder=3, edgecolors="white", linewidths=0.4)
    ax.set_title("by diagnosis at the visit")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)


def _age_panel(fig: Figure, ax: Axes, coords: np.ndarray, scans: pd.DataFrame, traj) -> None:
    _traces(ax, coords, traj)
    age = (pd.to_numeric(scans["age"], errors="coerce").to_numpy(dtype=np.float64)
           if "age" in scans.columns else np.full(len(scans), np.nan))
    known = np.isfinite(age)
    if (~known).any():
        ax.scatter(coords[~known, 0], coords[~known, 1], s=18, color=_UNKNOWN_COLOUR, marker="x",
                   zorder=3, label=f"age unknown ({int((~known).sum())})")
        ax.legend(loc="best", frameon=False)
    if known.any():
        lo, hi = float(age[known].min()), float(age[known].max())
        norm = Normalize(lo, hi if hi > lo else lo + 1.0)
        sc = ax.scatter(coords[known, 0], coords[known, 1], c=age[known], cmap="viridis", norm=norm,
                        s=30, zorder=3, edgecolors="white", linewidths=0.4)
        fig.colorbar(sc, ax=ax, label="age (years)", shrink=0.85, pad=0.02)
    ax.set_title("by age at the visit")


def build_trajectory_figure(emb: np.ndarray, scans: pd.DataFrame, seed: int = 0,
                            title: str | None = None) -> Figure:
    """Three-panel figure of embedding trajectories (see :func:`trajectory_figure`).

    Parameters
    ----------
    emb, scans, seed, title
        As in :func:`trajectory_figure`.

    Returns
    -------
    matplotlib.figure.Figure
        Panels: by subject, by diagnosis, by age (with a colourbar axis). The
        subject panel holds one line per subject with >= 2 scans, with gid
        ``trajectory:<subject>``.
    """
    emb = _check_inputs(emb, scans)
    if emb.shape[0] == 0:
        raise DataError("no scans to plot", field="emb")
    coords, projection = project_2d(emb, seed=seed)
    traj = subject_trajectories(scans)
    with matplotlib.rc_context(_STYLE):
        fig = _new_figure((18.0, 5.6))
        axes = fig.subplots(1, 3)
        _subject_panel(axes[0], coords, traj)
        _diagnosis_panel(axes[1], coords, scans, traj)
        _age_panel(fig, axes[2], coords, scans, traj)
        name = projection.split(" ")[0]
        for ax in axes:
            ax.set_xlabel(f"{name} 1")
            ax.set_ylabel(f"{name} 2")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.margins(0.06)
        n_multi = sum(p.size >= 2 for p in traj.values())
        head = title or "Embedding trajectories"
        fig.suptitle(f"{head} — {projection}, cosine; {len(scans)} scans, {len(traj)} subjects "
                     f"({n_multi} with ≥ 2 visits)")
    return fig


def trajectory_figure(emb: np.ndarray, scans: pd.DataFrame, path: str | Path, seed: int = 0,
                      title: str | None = None) -> Path:
    """UMAP of scan embeddings with each subject's visits joined in time order.

    Parameters
    ----------
    emb
        Embeddings (N, d); row ``i`` is the scan in row ``i`` of ``scans``.
    scans
        Scan table (``subject``, ``visit``, ``age``, ``diagnosis``).
    path
        PNG to write.
    seed
        Seed of UMAP.
    title
        Figure title (the projection used is appended).

    Returns
    -------
    pathlib.Path
        ``path``. Three panels: coloured by subject with lines from visit to visit
        (hollow marker at the first visit, arrowhead at the last), by diagnosis,
        and by age (colourbar). With fewer than 10 scans PCA replaces UMAP and the
        title says so.
    """
    return _save(build_trajectory_figure(emb, scans, seed=seed, title=title), path)


# ---------------------------------------------------------------- distances


def build_distance_figure(distances: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """Histograms of consecutive-visit and between-subject distances, one panel per method.

    Parameters
    ----------
    distances
        Method -> (consecutive-visit cosine distances, between-subject cosine
        distances), e.g. from
        :func:`alignome.evaluation.visit_metrics.distance_distributions`.

    Returns
    -------
    matplotlib.figure.Figure
        One visible axes per method, in the mapping's order, all on the same x range.
    """
    if not distances:
        raise DataError("no method to plot", field="distances")
    data = {str(m): (np.asarray(c, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel())
            for m, (c, b) in distances.items()}
    finite = np.concatenate([np.concatenate(v) for v in data.values()])
    finite = finite[np.isfinite(finite)]
    hi = float(min(2.0, max(finite.max() * 1.05, 0.05))) if finite.size else 1.0
    bins = np.linspace(0.0, hi, 41)
    n = len(data)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    with matplotlib.rc_context(_STYLE):
        fig = _new_figure((max(5.2 * ncols, 9.0), 3.6 * nrows + 0.4))
        axes = list(np.ravel(fig.subplots(nrows, ncols, squeeze=False)))
        for ax in axes[n:]:
            ax.set_visible(False)
        for ax, (method, (cons, betw)) in zip(axes, data.items()):
            cons, betw = cons[np.isfinite(cons)], betw[np.isfinite(betw)]
            for values, colour in ((betw, _BETWEEN_COLOUR), (cons, _CONSECUTIVE_COLOUR)):
                if values.size == 0:
                    continue
                ax.hist(values, bins=bins, density=True, color=colour, alpha=0.45)
                ax.hist(values, bins=bins, density=True, histtype="step", color=colour, lw=1.4)
                ax.axvline(values.mean(), color=colour, ls="--", lw=1.4)
            if cons.size and betw.size and betw.mean() > 1e-12:
                ax.set_title(f"{method}\nmeans {cons.mean():.3f} vs {betw.mean():.3f}, "
                             f"ratio {cons.mean() / betw.mean():.2f}")
            else:
                ax.set_title(f"{method}\n")
            if not (cons.size or betw.size):
                ax.text(0.5, 0.5, "no pairs", ha="center", va="center", transform=ax.transAxes)
            ax.set_xlim(0.0, hi)
            ax.set_xlabel(f"cosine distance (1 − cos)\n{cons.size} consecutive / {betw.size} between pairs",
                          fontsize=10)
            ax.set_ylabel("density")
        handles = [Patch(facecolor=_CONSECUTIVE_COLOUR, alpha=0.6, label="consecutive visits of a subject"),
                   Patch(facecolor=_BETWEEN_COLOUR, alpha=0.6, label="scans of different subjects"),
                   Line2D([], [], color="0.3", ls="--", label="mean")]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        fig.suptitle("Consecutive-visit vs between-subject cosine distances (lower ratio is better)")
    return fig


def distance_figure(distances: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path) -> Path:
    """Write the distance-distribution figure of :func:`build_distance_figure`.

    Parameters
    ----------
    distances
        Method -> (consecutive-visit distances, between-subject distances).
    path
        PNG to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return _save(build_distance_figure(distances), path)
