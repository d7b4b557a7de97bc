"""Does contrastive + fusion gain over its ablation and the random forest as the cohort's shared signal grows?

Runs the ad-gated-fusion recipe on the simulated cohort once per value of the shared-signal
dial S (``data: simulate: {shared_signal: S}``; 0 is the negative control, 1 the published
APOE-ε4 size, see :mod:`alignome.simulate.shared_signal`), each into
``benchmarks/results/shared_signal_sweep/<preset>/S=<S>/``. A run whose ``metrics.json`` exists is
reused (delete its folder to redo it, e.g. after changing the simulator); an unfinished one
resumes from its checkpoints. From each ``results.csv`` it takes, per
task and outer fold, the paired AUC difference of ``contrastive+fusion`` minus
``only-reconstruction``, ``random-forest`` and ``logistic-regression`` (same folds, same subjects), and writes
``benchmarks/results/shared_signal_sweep.{json,md,png}``: mean ± SD over folds and every fold.

    python benchmarks/shared_signal_sweep.py --preset quick --signals 0 2
    python benchmarks/shared_signal_sweep.py                 # the default preset, S = 0, 0.5, 1, 2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.diagnoses import TASKS

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
RUNS = RESULTS / "shared_signal_sweep"
RECIPE = REPO / "recipes" / "ad-gated-fusion.yaml"
METHOD = "contrastive+fusion"
REFERENCES = ("only-reconstruction", "random-forest", "logistic-regression")
#: The AUC each task reports (3-class: macro one-vs-rest).
AUC_METRICS = ("auc", "auc_macro_ovr")


def run_dir(preset: str | None, signal: float) -> Path:
    return RUNS / (preset or "default") / f"S={signal:g}"


def run_one(preset: str | None, signal: float, seed: int | None) -> Path:
    """Run (or reuse) the recipe at shared signal ``signal``; returns the run directory."""
    from alignome.recipes.runner import run_recipe

    out = run_dir(preset, signal)
    if not ((out / "metrics.json").is_file() and (out / "results.csv").is_file()):
        run_recipe(RECIPE, preset=preset, out=out, seed=seed, overrides={"data": {"simulate": {"shared_signal": signal}}})
    return out


def stage_seconds(out: Path) -> float:
    """Wall seconds of the run's stages as its ``metrics.json`` records them (CPU-time entries left out)."""
    timings = json.loads((out / "metrics.json").read_text()).get("timings_s", {})
    return float(sum(v for k, v in timings.items() if not k.endswith("_cpu")))


def paired_gains(results: pd.DataFrame) -> pd.DataFrame:
    """Per task, reference and fold: AUC of :data:`METHOD` minus the reference's AUC on the same fold."""
    auc = results[results["metric"].isin(AUC_METRICS)]
    wide = auc.pivot_table(index=["task", "fold"], columns="method", values="value")
    rows = []
    for ref in REFERENCES:
        if METHOD not in wide or ref not in wide:
            continue
        diff = (wide[METHOD] - wide[ref]).dropna()
        rows.append(diff.rename("gain").reset_index().assign(reference=ref))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["task", "fold", "gain", "reference"])


def mean_auc(results: pd.DataFrame) -> pd.DataFrame:
    """Mean AUC over folds per task and method (context for the gains)."""
    auc = results[results["metric"].isin(AUC_METRICS)]
    return auc.groupby(["task", "method"], sort=False)["value"].mean().unstack("method")


def summarise(gains: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD (ddof 1), min, max and count of the fold gains per S, task and reference."""
    grouped = gains.groupby(["signal", "task", "reference"], sort=False)["gain"]
    out = grouped.agg(mean="mean", sd="std", min="min", max="max", folds="count").reset_index()
    out["sd"] = out["sd"].fillna(0.0)
    order = {task: i for i, task in enumerate(TASKS)}
    return out.sort_values(["signal", "task"], key=lambda c: c.map(order) if c.name == "task" else c, kind="stable")


def plot(gains: pd.DataFrame, summary: pd.DataFrame, path: Path, title: str) -> None:
    """One panel per task: fold gains (points) and mean ± SD (bars) against S, one colour per reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in TASKS if t in set(summary["task"])]
    signals = sorted(summary["signal"].unique())
    step = min(np.diff(signals)) if len(signals) > 1 else 1.0
    offset = {ref: (i - (len(REFERENCES) - 1) / 2) * 0.16 * step for i, ref in enumerate(REFERENCES)}
    colours = {"only-reconstruction": "#1f77b4", "random-forest": "#d62728", "logistic-regression": "#2ca02c"}
    cols = min(2, len(tasks))
    rows = -(-len(tasks) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 3.4 * rows), sharey=True, squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        ax.axhline(0.0, color="grey", lw=0.8)
        for ref in REFERENCES:
            pts = gains[(gains["task"] == task) & (gains["reference"] == ref)]
            ax.scatter(pts["signal"] + offset[ref] + 0.05 * step, pts["gain"], s=16, alpha=0.6, color=colours[ref],
                       marker="x", lw=1)
            row = summary[(summary["task"] == task) & (summary["reference"] == ref)].sort_values("signal")
            ax.errorbar(row["signal"] + offset[ref], row["mean"], yerr=row["sd"], fmt="o-", ms=5, capsize=3,
                        color=colours[ref], label=f"vs {ref}: mean ± SD (x = folds)")
        ax.set_title(task, fontsize=10)
        ax.set_xticks(signals)
    for ax in axes.flat[len(tasks):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("shared signal S (1 = published APOE-ε4 size)")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"AUC gain of {METHOD}")
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def markdown(summary: pd.DataFrame, aucs: dict[float, pd.DataFrame], args: argparse.Namespace,
             seconds: dict[float, float]) -> str:
    lines = [
        "# Shared-signal sweep: gain of contrastive + fusion against S",
        "",
        f"`python benchmarks/shared_signal_sweep.py --preset {args.preset or 'default'} --signals "
        f"{' '.join(f'{s:g}' for s in args.signals)}` — recipe `ad-gated-fusion`, preset "
        f"`{args.preset or 'default'}`, runs in `benchmarks/results/shared_signal_sweep/`.",
        "S = 0 is the negative control (no direct genotype effect on volumes); S = 1 the published "
        "APOE-ε4 size on hippocampal volume and atrophy rate. Gains are paired per outer fold "
        "(same test subjects); mean ± SD over folds, [min, max].",
        "",
        "| S | task | " + " | ".join(f"vs {ref}" for ref in REFERENCES) + " |",
        "|---|---|" + "---|" * len(REFERENCES),
    ]
    for (signal, task), grp in summary.groupby(["signal", "task"], sort=False):
        cells = []
        for ref in REFERENCES:
            row = grp[grp["reference"] == ref]
            cells.append("—" if row.empty else
                         f"{row['mean'].iat[0]:+.3f} ± {row['sd'].iat[0]:.3f} "
                         f"[{row['min'].iat[0]:+.3f}, {row['max'].iat[0]:+.3f}] (n={row['folds'].iat[0]})")
        lines.append(f"| {signal:g} | {task} | " + " | ".join(cells) + " |")
    shown = (METHOD, *REFERENCES, "oracle")
    lines += ["", "Mean AUC over folds (CN/AD):", "", "| S | " + " | ".join(shown) + " |",
              "|---|" + "---|" * len(shown)]
    for signal, table in aucs.items():
        if "CN/AD" in table.index:
            row = table.loc["CN/AD"]
            cells = (f"{row[m]:.3f}" if m in row and pd.notna(row[m]) else "—" for m in shown)
            lines.append(f"| {signal:g} | " + " | ".join(cells) + " |")
    ran = ", ".join(f"S = {s:g}: {t:.0f} s" for s, t in seconds.items())
    lines += ["", f"Run time per S (sum of the run's stage timings in metrics.json): {ran}.", "", "![sweep](shared_signal_sweep.png)", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default=None, help="recipe preset (quick, paper); default: the recipe's defaults")
    parser.add_argument("--signals", type=float, nargs="+", default=[0.0, 0.5, 1.0, 2.0], help="values of S")
    parser.add_argument("--seed", type=int, default=None, help="recipe seed (default: the recipe's)")
    args = parser.parse_args()

    frames, aucs, seconds = [], {}, {}
    for signal in args.signals:
        out = run_one(args.preset, signal, args.seed)
        seconds[signal] = stage_seconds(out)
        results = pd.read_csv(out / "results.csv")
        frames.append(paired_gains(results).assign(signal=signal))
        aucs[signal] = mean_auc(results)
    gains = pd.concat(frames, ignore_index=True)
    summary = summarise(gains)

    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "recipe": str(RECIPE.relative_to(REPO)),
        "preset": args.preset or "default",
        "seed": args.seed,
        "method": METHOD,
        "signals": args.signals,
        "seconds": {f"{s:g}": t for s, t in seconds.items()},
        "summary": summary.to_dict(orient="records"),
        "fold_gains": gains.to_dict(orient="records"),
    }
    (RESULTS / "shared_signal_sweep.json").write_text(json.dumps(record, indent=2))
    (RESULTS / "shared_signal_sweep.md").write_text(markdown(summary, aucs, args, seconds))
    title = (f"ad-gated-fusion, preset {args.preset or 'default'}: "
             f"AUC of {METHOD} minus reference, paired per outer fold")
    plot(gains, summary, RESULTS / "shared_signal_sweep.png", title)
    print((RESULTS / "shared_signal_sweep.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
