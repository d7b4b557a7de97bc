"""Training throughput of the mm-dim (paper 001) pretraining loop on CPU, per objective of the default set.

Each objective of the ``default`` preset (recipes/mm-dim.yaml) is trained with
:func:`alignome.training.dim_pretrain.pretrain` on random pairs of volumes of the preset's size
and batch size for ``--epochs`` epochs (one warm-up epoch not counted); pairs per second and the
share of step time spent building batches (indexing, flips, crops: the data wait) are the loop's
own measurements, for each torch thread count of ``--threads`` (1 and 2 by default: the project's
machine has 2 cores, shared with other work).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/mm_dim_throughput.py [--size 64] [--threads 2]``.
Writes ``benchmarks/results/mm_dim_throughput.json`` and ``.md``. On shared cores the figures
drop with other processes' load: the load average is recorded next to them.
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

from alignome.objectives.dim import DIMObjective
from alignome.recipes.registry import load_recipe
from alignome.recipes.mm_dim.run import pretrain_settings
from alignome.training.dim_pretrain import pretrain

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=None, help="input side (default: the default preset's)")
    parser.add_argument("--pairs", type=int, default=128, help="pairs per epoch")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs (after one warm-up epoch)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    recipe = load_recipe(ROOT.parent / "recipes" / "mm-dim.yaml", preset="default")
    size = args.size or recipe.method.size
    settings = pretrain_settings(recipe)
    rng = np.random.default_rng(0)
    volumes = tuple(rng.normal(size=(args.pairs, size, size, size)).astype(np.float32) for _ in range(2))
    labels = np.arange(args.pairs) % 3 - 1
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name in recipe.method.objectives:
            objective = DIMObjective(name, recipe.method.penalty, recipe.method.clip, recipe.method.iwae_samples)
            pretrain(volumes, labels, objective, replace(settings, epochs=1), 0, progress=False)  # warm-up
            timed = pretrain(volumes, labels, objective, replace(settings, epochs=args.epochs), 0, progress=False)
            rows.append({"objective": name, "threads": threads, **timed.speed})
            print(rows[-1], flush=True)
    result = {"size": size, "batch_size": settings.batch_size, "base_width": settings.base_width,
              "pairs_per_epoch": args.pairs, "epochs": args.epochs, "threads": args.threads,
              "load_average": os.getloadavg(), "cpu": platform.processor() or platform.machine(),
              "torch": torch.__version__, "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mm_dim_throughput.json").write_text(json.dumps(result, indent=2))
    lines = [f"# mm-dim pretraining throughput ({size}³, batch {settings.batch_size}, default objectives)", "",
             f"Load average while measured: {', '.join(f'{v:.1f}' for v in result['load_average'])} "
             "(shared cores: higher load, lower figures).", "",
             "| objective | torch threads | training pairs / s | data-wait share |", "|---|---:|---:|---:|"]
    lines += [f"| {r['objective']} | {r['threads']} | {r['train_pairs_per_s']:.1f} | {r['data_wait_share']:.1%} |"
              for r in rows]
    (RESULTS / "mm_dim_throughput.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
