"""Do both recipes' quick presets give the same results.csv bytes as an earlier commit?

Checks a refactoring for unchanged behaviour: the earlier commit is exported into a temporary
folder and run from its own sources (PYTHONPATH) with this environment's packages, then the working
tree runs the same presets with the same seed; the result tables are compared byte for byte.
Writes ``benchmarks/results/same_results.{json,md}``.

    python benchmarks/same_results.py --rev 608c837
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
RECIPES = ("ad-gated-fusion", "longitudinal-mri")
#: Tables compared byte for byte (timing columns live in training_curves.csv and metrics.json, not here).
TABLES = ("results.csv", "predictions.csv", "gates.csv", "best_params.csv", "splits.csv")


def export(rev: str, into: Path) -> Path:
    """The tree of commit ``rev`` unpacked under ``into``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_presets(tree: Path, out: Path, cache: Path) -> dict[str, float]:
    """Run each recipe's quick preset from the sources of ``tree``; wall seconds per recipe."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "ALIGNOME_CACHE_DIR": str(cache)}
    seconds = {}
    for recipe in RECIPES:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "alignome", "run", str(tree / "recipes" / f"{recipe}.yaml"),
                        "--preset", "quick", "--out", str(out / recipe)], check=True, env=env, cwd=tree,
                       stdout=subprocess.DEVNULL)
        seconds[recipe] = time.perf_counter() - t0
    return seconds


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the earlier commit, e.g. the one before a refactoring")
    args = parser.parse_args()
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", args.rev], check=True, capture_output=True,
                         text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before = run_presets(export(rev, tmp / "before"), tmp / "runs-before", tmp / "cache-before")
        after = run_presets(REPO, tmp / "runs-after", tmp / "cache-after")
        rows = []
        for recipe in RECIPES:
            for table in TABLES:
                old, new = digest(tmp / "runs-before" / recipe / table), digest(tmp / "runs-after" / recipe / table)
                if old is None and new is None:
                    continue
                rows.append({"recipe": recipe, "table": table, "before": old, "after": new, "identical": old == new})
    same = all(r["identical"] for r in rows)
    report = {"rev": rev, "identical": same, "tables": rows,
              "wall_s": {"before": before, "after": after}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "same_results.json").write_text(json.dumps(report, indent=2))
    lines = [f"# Quick presets: working tree against {rev}, seed 0", "",
             "| recipe | table | identical bytes | sha256 (first 12) |", "|---|---|---|---|"]
    lines += [f"| {r['recipe']} | {r['table']} | {'yes' if r['identical'] else '**no**'} | {(r['after'] or '-')[:12]} |"
              for r in rows]
    lines += ["", "| recipe | wall s before | wall s after | ratio |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {before[k]:.1f} | {after[k]:.1f} | {after[k] / before[k]:.2f} |" for k in RECIPES]
    (RESULTS / "same_results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
