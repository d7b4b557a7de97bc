"""Training throughput of GEMCONT's default image encoder on CPU, and the share of time spent on data.

Each method of the ``gemcont`` recipe's default (the 3-block 2D CNN of 16/32/64 channels, a
2×2 pooled layout, 32-d projection, batch 256, 28×28 rendered glyphs turned by a heritable
angle) is trained for ``--epochs`` epochs on ``--n`` subjects with ``torch.set_num_threads(2)``;
``fit_embedder`` times the gathering + augmentation (+ SCARF) of each batch apart from the
forward/backward/step. Methods are timed in ``--repeats`` interleaved rounds so that load from
other processes on shared cores hits them alike; the table gives the fastest round.

Run: ``.venv/bin/python benchmarks/gemcont_throughput.py`` (``--quick`` for a smoke run).
Writes ``benchmarks/results/gemcont_throughput.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from alignome.recipes.gemcont.methods import method_settings
from alignome.recipes.gemcont.methods import base_settings
from alignome.recipes.registry import load_recipe
from alignome.simulate.glyphs import render_glyphs
from alignome.simulate.rotation_study import simulate_rotation_cohort
from alignome.training.image_embedders import fit_embedder

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("gemcont", "simclr", "vae", "supervised")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.n, args.epochs, args.repeats = 600, 1, 1
    torch.set_num_threads(2)
    recipe = load_recipe(ROOT / "recipes" / "gemcont.yaml")
    base = replace(base_settings(recipe), epochs=args.epochs, warmup_epochs=0)
    cohort = simulate_rotation_cohort(render_glyphs(args.n, 0), recipe.data.n_variants, 0.5, 45.0, 0,
                                      n_null_variants=10)
    rows = np.arange(args.n)
    best: dict[str, dict] = {}
    for _ in range(args.repeats):
        for method in METHODS:
            fit = fit_embedder(method_settings(base, method, 0), cohort.images, rows, genotypes=cohort.panel,
                               effects=cohort.beta[cohort.causal], target=cohort.z)
            rec = {"images_per_s": fit.images_per_s, "data_share": fit.data_share, "seconds": fit.seconds}
            if method not in best or rec["images_per_s"] > best[method]["images_per_s"]:
                best[method] = rec
    payload = {"n": args.n, "epochs": args.epochs, "repeats": args.repeats, "threads": 2,
               "cpu": platform.processor() or platform.machine(), "cpus_visible": os.cpu_count(),
               "load_average": os.getloadavg(), "methods": best}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gemcont_throughput.json").write_text(json.dumps(payload, indent=2))
    lines = ["| method | training images / s | share of time in data (gather + augment) |", "|---|---:|---:|"]
    lines += [f"| {m} | {r['images_per_s']:.0f} | {r['data_share']:.1%} |" for m, r in best.items()]
    text = "\n".join(lines) + f"\n\nload average at the end: {payload['load_average'][0]:.1f} on {os.cpu_count()} cores\n"
    (RESULTS / "gemcont_throughput.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
