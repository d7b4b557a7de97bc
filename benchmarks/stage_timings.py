"""Wall time per stage of the ad-gated-fusion recipe, per preset.

Writes ``benchmarks/results/stage_timings.json`` and ``.md``. Stage CPU times of
the folds are summed over the parallel workers; the wall time of the
cross-validation stage is what the user waits for. The random-forest baseline
runs inside the same folds and serves as the in-run reference: its time is
reported next to the neural pipeline's.

Usage: python benchmarks/stage_timings.py [--presets quick default] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from alignome.recipes.runner import run_recipe

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "ad-gated-fusion.yaml"


def time_preset(preset: str | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_dir = run_recipe(RECIPE, preset=preset, out=Path(tmp) / "run")
        wall = time.perf_counter() - t0
        load = os.getloadavg()[0]
        metrics = json.loads((run_dir / "metrics.json").read_text())
    stages = {f"stage_{k}": v for k, v in metrics["timings_s"].items()}
    return {"preset": preset or "default", "wall_s": wall, **stages, "load_avg_1min_at_end": load}


def markdown(rows: list[dict]) -> str:
    keys = [k for k in rows[0] if k != "preset"]
    lines = ["| preset | " + " | ".join(keys) + " | neural ÷ RF (CPU s) |", "|---" * (len(keys) + 2) + "|"]
    for r in rows:
        neural = r.get("stage_pretrain_cpu", 0) + r.get("stage_fusion_classifiers_cpu", 0)
        rf = r.get("stage_baselines_cpu", 0) or float("nan")
        lines.append(f"| {r['preset']} | " + " | ".join(f"{r[k]:.1f}" for k in keys) + f" | {neural / rf:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["quick", "default"])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    rows = [time_preset(None if p == "default" else p) for p in args.presets]
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "rows": rows}
    (args.out / "stage_timings.json").write_text(json.dumps(meta, indent=2))
    (args.out / "stage_timings.md").write_text(
        "# ad-gated-fusion: wall time per stage (seconds)\n\n"
        f"Machine: {meta['machine']}, {meta['cpus']} CPUs. `*_cpu` stages are summed over parallel workers;"
        " a load average above the CPU count means other jobs shared the machine and inflate wall times.\n\n"
        + markdown(rows)
    )
    print((args.out / "stage_timings.md").read_text())


if __name__ == "__main__":
    main()
