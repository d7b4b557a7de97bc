"""Manhattan and QQ plots of a scan's P (matplotlib, Agg backend: PNG files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alignome.gwas.significance import GENOME_WIDE, lambda_gc


def _chrom_key(c: str) -> tuple:
    c = str(c).removeprefix("chr")
    return (0, int(c), "") if c.isdigit() else (1, 0, c)


def manhattan_plot(result: pd.DataFrame, path: str | Path, title: str = "", threshold: float = GENOME_WIDE) -> Path:
    """Manhattan plot: −log10 P by position, chromosomes in alternating colours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = result[["#CHROM", "POS", "P"]].dropna()
    frame = frame[frame["P"] > 0].assign(CH=frame["#CHROM"].astype(str)) if len(frame) else frame.assign(CH=[])
    chroms = sorted(frame["CH"].unique(), key=_chrom_key)
    fig, ax = plt.subplots(figsize=(11, 4), dpi=110)
    offset, ticks = 0.0, []
    colours = ("#1f4e79", "#7fa7d1")
    size = 4 if len(frame) > 20_000 else 10
    for i, ch in enumerate(chroms):
        sub = frame[frame["CH"] == ch]
        lo, hi = float(sub["POS"].min()), float(sub["POS"].max())
        x = offset + sub["POS"].to_numpy(dtype=float) - lo
        ax.scatter(x, -np.log10(sub["P"].to_numpy()), s=size, c=colours[i % 2], linewidths=0, rasterized=True)
        ticks.append((offset + (hi - lo) / 2, ch))
        offset += (hi - lo) + max(0.02 * (hi - lo), 1.0) + 1e5
    ymax = max(-np.log10(threshold) + 1, float(-np.log10(frame["P"].min())) * 1.05 if len(frame) else 0)
    ax.axhline(-np.log10(threshold), color="#c0392b", lw=0.8, ls="--", label=f"P = {threshold:g}")
    ax.set_xticks([t for t, _ in ticks], [c for _, c in ticks], fontsize=8)
    ax.set_xlim(-0.01 * max(offset, 1), offset * 1.01 if offset else 1)
    ax.set_ylim(0, ymax)
    ax.set_xlabel("chromosome")
    ax.set_ylabel(r"$-\log_{10} P$")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def qq_plot(p: np.ndarray, path: str | Path, title: str = "") -> Path:
    """QQ plot of −log10 P against the uniform expectation, with a 95 % band and λGC in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = np.sort(np.asarray(p, dtype=float)[np.isfinite(p)])
    p = np.clip(p, np.finfo(float).tiny, 1)
    n = p.size
    lam = lambda_gc(p)
    fig, ax = plt.subplots(figsize=(4.6, 4.6), dpi=110)
    if n:
        i = np.arange(1, n + 1)
        expected = -np.log10((i - 0.5) / n)
        from scipy import stats

        lo = -np.log10(stats.beta.ppf(0.975, i, n - i + 1))
        hi = -np.log10(stats.beta.ppf(0.025, i, n - i + 1))
        ax.fill_between(expected, lo, hi, color="0.85", lw=0, label="95% band")
        ax.scatter(expected, -np.log10(p), s=5, c="#1f4e79", linewidths=0, rasterized=True)
        top = float(expected[0]) * 1.05
        ax.plot([0, top], [0, top], color="#c0392b", lw=0.8)
        ax.set_xlim(0, top)
        ax.set_ylim(bottom=0)
    ax.set_xlabel(r"expected $-\log_{10} P$")
    ax.set_ylabel(r"observed $-\log_{10} P$")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"{title + ': ' if title else ''}λGC = {lam:.3f} ({n} tests)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
