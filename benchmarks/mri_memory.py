"""Memory of the longitudinal-mri data path: the memory-mapped cache view against stacking every scan (issue 14).

Writes synthetic cache entries (float16 ``.npy`` files of ``--size``³, as the volume cache
stores them; no brain needs simulating to measure reading them) and, for each number of
scans and each data path, starts a fresh Python process that
- builds the volumes the recipe trains on: ``stacked``, every scan copied into one in-RAM
  array (what the recipe did before, ``VolumeCache.stack``), or ``memmap``, the
  :class:`~alignome.imaging.cached_volumes.CachedVolumes` view (``VolumeCache.volumes``);
- runs one epoch of the training loader (all subjects, a pair of visits each, as
  ``fraction: 1``) and one embedding pass over every scan (batches of 16), converting each
  batch to float32 as the training step does, keeping the fastest of three passes;
- reports its peak resident memory (``ru_maxrss``) and its resident memory after imports,
  and the bytes a spawned process (``ddp_spawn``, a loader worker) is sent for the dataset
  (pickle protocol 5, arrays counted out of band without copying them);
- embeds the first scans with the recipe's encoder, the data path's share of a real pass.

Writes ``benchmarks/results/mri_memory.{json,md,png}``.

Usage: python benchmarks/mri_memory.py [--scans 300 3000] [--size 64] [--visits 3]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
PATHS = ("stacked", "memmap")
MB = 1024 * 1024
#: Scans embedded with the recipe's encoder in every process: the data path's share of a real pass.
ENCODER_SCANS = 96
#: Passes over the data; the fastest is kept (other jobs share the machine).
PASSES = 3


class Rows:
    """The first rows of a volume array or view, indexed as the whole (what ``embed_volumes`` reads)."""

    def __init__(self, volumes, rows: np.ndarray) -> None:
        self.volumes, self.rows = volumes, rows
        self.shape = (len(rows), *volumes.shape[1:])
        self.ndim = 4

    def __getitem__(self, index):
        return self.volumes[self.rows[index]]


def write_entries(folder: Path, n: int, size: int) -> list[Path]:
    """``n`` cache-like entries: float16 noise of ``size``³ (the content does not change the memory)."""
    rng = np.random.default_rng(0)
    block = rng.normal(size=(size,) * 3).astype(np.float16)
    files = []
    for i in range(n):
        path = folder / f"{i:05d}.npy"
        np.save(path, block + np.float16(i % 7))
        files.append(path)
    return files


def current_rss_mb() -> float:
    """Resident memory of this process now (``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / MB


def pickled_bytes(obj: object) -> int:
    """Bytes pickling ``obj`` sends to another process, arrays counted out of band (not copied)."""
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    return len(payload) + sum(b.raw().nbytes for b in buffers)


def one_pass(loader, keys: tuple[str, ...]) -> int:
    """Iterate ``loader`` once, converting each batch to float32 as a training step does; volumes read."""
    volumes = 0
    for batch in loader:
        for key in keys:
            batch[key].float()
            volumes += len(batch[key])
    return volumes


def child(folder: Path, n: int, size: int, visits: int, path: str) -> dict:
    """One measurement, in its own process so that ``ru_maxrss`` is this path's alone."""
    import pandas as pd
    from torch.utils.data import DataLoader

    from alignome.imaging.cached_volumes import CachedVolumes
    from alignome.training.contrastive3d import ContrastiveTrainSettings
    from alignome.training.visit_pairs import VisitPairBatches
    from alignome.training.volume_batches import PairVolumes, embed_volumes, keep_batch, scan_loader

    files = sorted(folder.glob("*.npy"))[:n]
    scans = pd.DataFrame({"subject": [f"s{i // visits:05d}" for i in range(n)]})
    rows = np.arange(n)
    after_imports = current_rss_mb()
    t0 = time.perf_counter()
    view = CachedVolumes(files, size)
    volumes = view[:] if path == "stacked" else view
    setup_s = time.perf_counter() - t0
    pairs = VisitPairBatches(scans, batch_size=8, fraction=1.0, seed=0)
    train = DataLoader(PairVolumes(volumes, rows), batch_sampler=pairs, collate_fn=keep_batch)
    embed = scan_loader(volumes, rows, batch_size=16)
    seconds: dict[str, list[float]] = {"train_epoch": [], "embedding_pass": []}
    read = {"train_epoch": 0, "embedding_pass": 0}
    for _ in range(PASSES):
        for name, loader, keys in (("train_epoch", train, ("xa", "xb")), ("embedding_pass", embed, ("x",))):
            t0 = time.perf_counter()
            read[name] = one_pass(loader, keys)
            seconds[name].append(time.perf_counter() - t0)
    data_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    encoder_rows = rows[:ENCODER_SCANS]
    encoder = ContrastiveTrainSettings(seed=0).build_model()
    embed_volumes(encoder, Rows(volumes, encoder_rows[:16]))  # warm-up: thread pools, first allocations
    encoder_s = []
    for _ in range(2):
        t0 = time.perf_counter()
        embed_volumes(encoder, Rows(volumes, encoder_rows))
        encoder_s.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "path": path, "scans": n, "size": size, "volume_mb": size**3 * 2 / MB,
        "rss_after_imports_mb": after_imports, "peak_rss_mb": peak, "data_path_mb": data_peak - after_imports,
        "setup_s": setup_s,
        "train_epoch_s": min(seconds["train_epoch"]), "train_epoch_first_s": seconds["train_epoch"][0],
        "train_epoch_volumes": int(read["train_epoch"]),
        "embedding_pass_s": min(seconds["embedding_pass"]), "embedding_pass_first_s": seconds["embedding_pass"][0],
        "embedding_pass_volumes": int(read["embedding_pass"]),
        "encoder_scans": len(encoder_rows), "encoder_embedding_s": min(encoder_s),
        "sent_to_each_spawned_process_mb": pickled_bytes(PairVolumes(volumes, rows)) / MB,
    }


def run_child(folder: Path, n: int, size: int, visits: int, path: str) -> dict:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, __file__, "--child", str(folder), "--scans", str(n), "--size", str(size),
               "--visits", str(visits), "--path", path]
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_markdown(result: dict) -> str:
    rows = result["runs"]
    lines = [
        "# longitudinal-mri: memory of the data path, memory-mapped cache view vs stacking every scan",
        "",
        f"Machine: {result['machine']}, {result['cpus']} CPUs, load average {result['load_average']:.1f} at the end. "
        f"Synthetic cache entries of {result['size']}³ float16 ({rows[0]['volume_mb']:.2f} MB each), "
        f"{result['visits']} visits per subject, read from the page cache (files read once before measuring). "
        "Each row is a fresh process: peak RSS is `ru_maxrss` at the end (encoder activations included); *data path* is "
        "`ru_maxrss` after the loader passes minus the RSS after imports. "
        f"Epoch times are the fastest of {PASSES} passes over every scan (batch conversion to float32 included, no model); "
        f"the last column embeds the first {ENCODER_SCANS} scans with the recipe's encoder (default widths), "
        "the same pass with the network's compute (fastest of two).",
        "",
        "| path | scans | peak RSS (MB) | data path (MB) | sent to each spawned process (MB) | setup (s) "
        "| train-loader epoch (s) | embedding pass (s) | data path volumes/s | with the recipe's encoder, volumes/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['path']} | {r['scans']:,} | {r['peak_rss_mb']:.0f} | {r['data_path_mb']:.0f} "
            f"| {r['sent_to_each_spawned_process_mb']:.2f} | {r['setup_s']:.2f} | {r['train_epoch_s']:.2f} "
            f"| {r['embedding_pass_s']:.2f} | {r['embedding_pass_volumes'] / r['embedding_pass_s']:.0f} "
            f"| {r['encoder_scans'] / r['encoder_embedding_s']:.1f} |"
        )
    lines += ["", result["summary"], ""]
    return "\n".join(lines)


def summarise(runs: list[dict]) -> str:
    by = {(r["path"], r["scans"]): r for r in runs}
    small, large = min(r["scans"] for r in runs), max(r["scans"] for r in runs)
    parts = []
    for path in PATHS:
        a, b = by[(path, small)], by[(path, large)]
        parts.append(f"{path}: data-path memory {a['data_path_mb']:.0f} → {b['data_path_mb']:.0f} MB "
                     f"from {small:,} to {large:,} scans, embedding {a['embedding_pass_volumes'] / a['embedding_pass_s']:.0f}"
                     f" → {b['embedding_pass_volumes'] / b['embedding_pass_s']:.0f} volumes/s without a model, "
                     f"{a['encoder_scans'] / a['encoder_embedding_s']:.1f} → "
                     f"{b['encoder_scans'] / b['encoder_embedding_s']:.1f} with the encoder")
    return ("; ".join(parts) + ". The memory-mapped path's constant part is batch buffers (float16 blocks and "
            "their float32 copies) that the allocator keeps between batches; it does not grow with the cohort.")


def plot(runs: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for path, colour in zip(PATHS, ("tab:red", "tab:blue")):
        mine = sorted((r for r in runs if r["path"] == path), key=lambda r: r["scans"])
        ax.plot([r["scans"] for r in mine], [r["peak_rss_mb"] for r in mine], "o-", color=colour, label=path)
    ax.set_xlabel("scans in the cohort")
    ax.set_ylabel("peak RSS (MB)")
    ax.set_title(f"data path at {runs[0]['size']}³ float16")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--path", choices=PATHS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.scans[0], args.size, args.visits, args.path)))
        return 0
    runs = []
    with tempfile.TemporaryDirectory(prefix="mri_memory_") as tmp:
        folder = Path(tmp)
        files = write_entries(folder, max(args.scans), args.size)
        for f in files:  # every path reads from the page cache, none pays the disk first
            f.read_bytes()
        for n in sorted(args.scans):
            for path in PATHS:
                runs.append(run_child(folder, n, args.size, args.visits, path))
                print(f"{path:8s} {n:6,d} scans: peak RSS {runs[-1]['peak_rss_mb']:.0f} MB", flush=True)
    result = {"machine": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
              "size": args.size, "visits": args.visits, "runs": runs, "summary": summarise(runs)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mri_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "mri_memory.md").write_text(write_markdown(result))
    plot(runs, RESULTS / "mri_memory.png")
    print(result["summary"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
