"""Estimate the wall time of the `paper` preset from one measured (fold × task) unit.

The `paper` preset runs for hours on 2 cores. This script measures, in CPU
seconds (robust to other load on the machine), one outer fold's pretraining and
one (fold × task) unit of method fitting under that preset, then extrapolates:
total CPU = folds × (pretraining + tasks × unit); wall ≈ total CPU / jobs.
It also measures the same unit under the default preset in the same run, so the
ratio paper ÷ default is a like-for-like figure.

Usage: python benchmarks/paper_preset_estimate.py [--task CN/MCI] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from alignome.cohort.load import load_cohort
from alignome.cohort.pairing import final_visits, pair_scans
from alignome.cohort.splits import outer_folds
from alignome.recipes.registry import load_recipe
from alignome.recipes.ad_gated_fusion.evaluation import encode_fold, evaluate_task
from alignome.logs import run_logger
from alignome.recipes.ad_gated_fusion.run import materialise_data

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "ad-gated-fusion.yaml"


def measure(preset: str | None, task: str, workdir: Path) -> dict:
    recipe = load_recipe(RECIPE, preset=preset)
    log = run_logger(workdir / "bench.log")
    data = materialise_data(recipe, workdir, log)
    cohort = load_cohort(data, n_snps=recipe.method.n_snps)
    pairs = pair_scans(cohort, data.label_window_days)
    final = final_visits(cohort, pairs)
    fold = outer_folds(final.set_index("subject")["diagnosis"], cohort.subject_ids, recipe.protocol.outer_folds, recipe.seed)[0]
    c0 = time.process_time()
    enc = encode_fold(cohort, pairs, final, fold, recipe)
    c1 = time.process_time()
    evaluate_task(enc, task, recipe)
    c2 = time.process_time()
    folds, tasks, jobs = recipe.protocol.outer_folds, len(recipe.protocol.tasks), recipe.protocol.jobs
    total = folds * ((c1 - c0) + tasks * (c2 - c1))
    return {
        "preset": preset or "default",
        "task_measured": task,
        "pretraining_cpu_s": c1 - c0,
        "unit_cpu_s": c2 - c1,
        "units": folds * tasks,
        "total_cpu_s": total,
        "estimated_wall_s": total / jobs,
        "jobs": jobs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="CN/MCI")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(p, args.task, Path(tmp)) for p in (None, "paper")]
    ratio = rows[1]["unit_cpu_s"] / rows[0]["unit_cpu_s"]
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "rows": rows, "paper_over_default_unit": ratio}
    (args.out / "paper_preset_estimate.json").write_text(json.dumps(meta, indent=2))
    lines = [
        "# `paper` preset: wall time extrapolated from one measured unit",
        "",
        f"Machine: {meta['machine']}, {meta['cpus']} CPUs; CPU seconds measured with process_time, task {args.task}, fold 0.",
        "",
        "| preset | pretraining CPU s (1 fold) | unit CPU s (1 fold × 1 task) | units | estimated wall on `jobs` cores |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['preset']} | {r['pretraining_cpu_s']:.0f} | {r['unit_cpu_s']:.0f} | {r['units']} | "
            f"{r['estimated_wall_s'] / 60:.0f} min on {r['jobs']} |"
        )
    lines += ["", f"One unit under `paper` costs {ratio:.1f}× the same unit under the default preset (same run)."]
    (args.out / "paper_preset_estimate.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
