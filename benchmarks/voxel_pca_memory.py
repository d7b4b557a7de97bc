"""Memory and time of the voxels-pca baseline (evaluation/voxel_pca.py) on the memory-mapped cache, by cohort size.

Writes synthetic cache entries (float16 ``.npy`` noise of ``--size``³, as the volume cache
stores them) and, for each number of scans, starts a fresh Python process that fits the
exact Gram-matrix PCA on the first 3/4 of the scans (128 components) through the
:class:`~alignome.imaging.cached_volumes.CachedVolumes` view and scores every scan; it reports
its peak resident memory (``ru_maxrss``), its resident memory after imports and the seconds
taken. The float64 matrix that a PCA of all stacked scans would first build is reported for
comparison (computed, not allocated).

Writes ``benchmarks/results/voxel_pca_memory.{json,md}``.

Usage: python benchmarks/voxel_pca_memory.py [--scans 300 3000] [--size 64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
MB = 1024 * 1024
COMPONENTS = 128


def write_entries(folder: Path, n: int, size: int) -> list[Path]:
    """``n`` cache-like entries of independent float16 noise around 0.5."""
    rng = np.random.default_rng(0)
    files = []
    for i in range(n):
        path = folder / f"{i:05d}.npy"
        np.save(path, (0.5 + 0.1 * rng.standard_normal((size,) * 3, dtype=np.float32)).astype(np.float16))
        files.append(path)
    return files


def child(folder: Path, n: int, size: int) -> dict:
    from alignome.evaluation.voxel_pca import voxel_pca
    from alignome.imaging.cached_volumes import CachedVolumes

    statm = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB
    view = CachedVolumes(sorted(folder.glob("*.npy"))[:n], size)
    fit = np.arange(3 * n // 4)
    start = time.perf_counter()
    result = voxel_pca(view, fit, COMPONENTS)
    seconds = time.perf_counter() - start
    return {"scans": n, "fit_scans": len(fit), "components": int(result.scores.shape[1]), "seconds": seconds,
            "rss_after_imports_mb": statm, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "stacked_float64_mb": n * size**3 * 8 / MB}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--child", type=Path)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.scans[0], args.size)))
        return 0
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        write_entries(Path(tmp), max(args.scans), args.size)
        for n in args.scans:
            command = [sys.executable, __file__, "--child", tmp, "--scans", str(n), "--size", str(args.size)]
            done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    result = {"machine": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
              "size": args.size, "runs": runs}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "voxel_pca_memory.json").write_text(json.dumps(result, indent=1))
    lines = ["# voxels-pca: memory and time of the Gram-matrix PCA on the memory-mapped cache", "",
             f"{result['cpus']} CPUs (shared with other jobs: times are inflated), load average "
             f"{result['load_average']:.1f} at the end; synthetic {args.size}³ float16 entries; fitted on 3/4 of "
             f"the scans, {COMPONENTS} components.", "",
             "| scans | fitted scans | seconds | RSS after imports (MB) | peak RSS (MB) | all scans stacked in float64 (MB) |",
             "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['scans']:,} | {r['fit_scans']:,} | {r['seconds']:.1f} | {r['rss_after_imports_mb']:.0f} | "
              f"{r['peak_rss_mb']:.0f} | {r['stacked_float64_mb']:,.0f} |" for r in runs]
    (RESULTS / "voxel_pca_memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
