"""Training throughput of the ClinImCL 3D encoder on CPU: widths, norms, memory format, augmentation.

One training step = a batch of 8 visit pairs (16 volumes of 96³, float16 as the
cache stores them) → float32 → ``augment_batch`` (both views) → one forward of
the 16 volumes → standard InfoNCE with the model's ``logit_scale`` → backward →
AdamW step. Volumes per second count the 16 volumes of a step, augmentation
included; the augmentation share is its part of the step time. Inference is
``no_grad`` in eval mode, batches of 16.

Run: ``.venv/bin/python benchmarks/cnn3d_throughput.py`` (``--quick`` for a
smoke run at 32³). Uses ``torch.set_num_threads(2)``. Writes
``benchmarks/results/cnn3d_throughput.json`` and ``.md``. After one warm-up
step each, the configurations are timed in ``--repeats`` interleaved rounds of
``--steps`` steps, so that load from other processes on shared cores hits all
of them alike; the table gives the fastest round (least disturbed) and the
median over all timed steps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from alignome.imaging.augment import AugmentSettings, augment_batch
from alignome.models.cnn3d import ContrastiveEncoder3D
from alignome.objectives import contrastive_loss

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Config:
    name: str
    widths: tuple[int, int, int, int] = (8, 16, 32, 64)
    norm: str = "group"
    stem_stride: int = 2
    channels_last: bool = True
    mkldnn: bool = True
    augment: AugmentSettings | None = field(default_factory=AugmentSettings)
    max_size: int | None = None  # skipped above this size (too slow to time)


CONFIGS = [
    Config("lean (8,16,32,64) GroupNorm channels_last [default]"),
    Config("lean, contiguous memory format", channels_last=False),
    Config("lean, InstanceNorm", norm="instance"),
    Config("lean, BatchNorm", norm="batch"),
    Config("lean, mkldnn off", mkldnn=False),
    Config("lean, augmentation: affine_p=0.5", augment=AugmentSettings(affine_p=0.5)),
    Config("lean, augmentation: flips + jitter only", augment=AugmentSettings(rotate_deg=0, scale=0, translate_vox=0)),
    Config("lean, no augmentation", augment=None),
    Config("narrow (4,8,16,32)", widths=(4, 8, 16, 32)),
    Config("wide (16,32,64,128)", widths=(16, 32, 64, 128)),
    Config("wide (16,32,64,128), stem stride 4", widths=(16, 32, 64, 128), stem_stride=4),
    Config("lean, stem stride 4", stem_stride=4),
]


def _volumes(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """Smooth random volumes in [0, 1], float16 like the preprocessing cache."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(n, 1, 8, 8, 8, generator=g)
    v = F.interpolate(coarse, size=(size,) * 3, mode="trilinear")
    v = v - v.amin(dim=(2, 3, 4), keepdim=True)
    return (v / v.amax(dim=(2, 3, 4), keepdim=True)).half()


def _load() -> float:
    return os.getloadavg()[0]


class Runner:
    """Training state of one configuration; ``step()`` runs and times one training step."""

    def __init__(self, cfg: Config, size: int, pairs: int) -> None:
        self.cfg, self.pairs = cfg, pairs
        torch.manual_seed(0)
        self.model = ContrastiveEncoder3D(
            cfg.widths, norm=cfg.norm, stem_stride=cfg.stem_stride, channels_last=cfg.channels_last  # type: ignore[arg-type]
        ).train()
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-4, weight_decay=1e-4)
        self.cache = _volumes(2 * pairs, size)
        self.gen = torch.Generator().manual_seed(0)
        self.rounds: list[list[tuple[float, float, float]]] = []  # (augment s, step s, CPU s)

    def step(self) -> tuple[float, float, float]:
        torch.backends.mkldnn.enabled = self.cfg.mkldnn
        try:
            c0, t0 = time.process_time(), time.perf_counter()
            x = self.cache.float()
            if self.cfg.augment is not None:
                x = augment_batch(x, self.cfg.augment, self.gen)
            t1 = time.perf_counter()
            out = self.model(x)
            za, zb = out["embedding"].split(self.pairs)
            loss = contrastive_loss(za, zb, form="standard", logit_scale=out["logit_scale"])["loss"]
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            t2 = time.perf_counter()
            return t1 - t0, t2 - t0, time.process_time() - c0
        finally:
            torch.backends.mkldnn.enabled = True

    def result(self) -> dict:
        cfg, flat = self.cfg, [s for r in self.rounds for s in r]
        step_s = statistics.median(t for _, t, _ in flat)
        best = min(statistics.mean(t for _, t, _ in r) for r in self.rounds)
        best_aug = min(statistics.mean(a for a, _, _ in r) for r in self.rounds)
        return {
            "config": cfg.name,
            "widths": list(cfg.widths),
            "norm": cfg.norm,
            "stem_stride": cfg.stem_stride,
            "channels_last_3d": cfg.channels_last,
            "mkldnn": cfg.mkldnn,
            "augment": None if cfg.augment is None else cfg.augment.__dict__,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "step_seconds_median": step_s,
            "step_seconds_best_round": best,
            "augment_seconds_best_round": best_aug,
            "augment_share_best_round": best_aug / best,
            "train_volumes_per_s_median": 2 * self.pairs / step_s,
            "train_volumes_per_s_best_round": 2 * self.pairs / best,
            "step_cpu_seconds_median": statistics.median(c for _, _, c in flat),
            "step_seconds_all": [t for _, t, _ in flat],
        }


def measure(configs: list[Config], size: int, pairs: int, steps: int, repeats: int) -> tuple[list[dict], list[float]]:
    """Time all configurations in interleaved rounds (so that load from other processes hits all alike)."""
    runners = [Runner(cfg, size, pairs) for cfg in configs]
    for r in runners:
        r.step()  # warm-up (allocations, kernel selection)
    loads = [_load()]
    for k in range(repeats):
        for r in runners:
            r.rounds.append([r.step() for _ in range(steps)])
        loads.append(_load())
        print(f"round {k + 1}/{repeats} done, load {loads[-1]:.1f}", flush=True)
    return [r.result() for r in runners], loads


def measure_inference(size: int, batch: int, steps: int) -> float:
    """Inference volumes per second of the default model (eval, no_grad)."""
    torch.manual_seed(0)
    model = ContrastiveEncoder3D().eval()
    x = _volumes(batch, size).float()
    with torch.no_grad():
        model(x)
        t0 = time.perf_counter()
        for _ in range(steps):
            model(x)
        dt = (time.perf_counter() - t0) / steps
    return batch / dt


def _markdown(results: list[dict], meta: dict) -> str:
    lines = [
        "# 3D CNN training throughput on CPU",
        "",
        f"{meta['threads']} torch threads, {meta['size']}³ volumes, batch of {meta['pairs']} pairs "
        f"({2 * meta['pairs']} volumes, float16 cache → float32), augmentation of both views + forward + "
        f"standard InfoNCE + backward + AdamW step. torch {meta['torch']}, {meta['machine']}. "
        f"Configurations timed in {meta['repeats']} interleaved rounds of {meta['steps']} steps; "
        "'best round' (the fastest round's mean step) is the least disturbed by other processes on the "
        "shared cores, 'median' is over all timed steps. CPU s/step is the process CPU time of a step "
        f"(about {meta['threads']}× the step time when the cores are free). "
        f"1-min load average per round: {', '.join(f'{x:.1f}' for x in meta['load_per_round'])}. "
        f"Default model inference (eval, no_grad, batch {2 * meta['pairs']}): "
        f"{meta['inference_volumes_per_s']:.1f} volumes/s.",
        "",
        "| configuration | params | train vol/s best round | (median) | step s | augment s | augment share | CPU s/step |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['config']} | {r['parameters']:,} | {r['train_volumes_per_s_best_round']:.1f} | "
            f"({r['train_volumes_per_s_median']:.1f}) | {r['step_seconds_best_round']:.3f} | "
            f"{r['augment_seconds_best_round']:.3f} | {100 * r['augment_share_best_round']:.0f} % | "
            f"{r['step_cpu_seconds_median']:.2f} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="substrings of configuration names to run")
    parser.add_argument("--quick", action="store_true", help="32³, 1 step, 1 round (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.size, args.steps, args.repeats = 32, 1, 1
    torch.set_num_threads(args.threads)
    configs = [c for c in CONFIGS if not args.only or any(s in c.name for s in args.only)]
    skipped = [c.name for c in configs if c.max_size is not None and args.size > c.max_size]
    configs = [c for c in configs if c.name not in skipped]
    results, loads = measure(configs, args.size, args.pairs, args.steps, args.repeats)
    for r in results:
        print(
            f"{r['config']:45s} {r['train_volumes_per_s_best_round']:6.1f} vol/s best round "
            f"({r['train_volumes_per_s_median']:.1f} median), augment {100 * r['augment_share_best_round']:.0f} %",
            flush=True,
        )
    meta = {
        "threads": args.threads,
        "size": args.size,
        "pairs": args.pairs,
        "steps": args.steps,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "machine": f"{platform.machine()} ({os.cpu_count()} CPUs visible)",
        "load_per_round": loads,
        "skipped": skipped,
        "inference_volumes_per_s": measure_inference(args.size, 2 * args.pairs, max(2, args.steps)),
    }
    print(f"inference {meta['inference_volumes_per_s']:.1f} vol/s")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "cnn3d_throughput" if not args.quick else "cnn3d_throughput_quick"
    (args.out / f"{stem}.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    (args.out / f"{stem}.md").write_text(_markdown(results, meta))


if __name__ == "__main__":
    main()
