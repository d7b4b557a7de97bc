"""Wall time of the cohort stages the tests used to time: pairing and simulating.

Two measurements that were once pass/fail asserts in the test suite (flaky on shared
machines, so they moved here):

* pairing scans with diagnoses and picking the final visits (``pair_scans`` +
  ``final_visits``) for 1000 subjects × 4 scans × 4 assessments; the former test
  budget was 2 s;
* simulating the paper-sized cohort (844 subjects, ``simulate_ad_cohort``) and
  writing it in real formats; the former test budget was 15 s.

Each is repeated ``--repeats`` times; the table gives the median and the slowest.
Writes ``benchmarks/results/cohort_speed.json`` and ``.md``.

Usage: python benchmarks/cohort_speed.py [--repeats 5] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.cohort import final_visits, pair_scans
from alignome.cohort.model import Cohort
from alignome.simulate import simulate_ad_cohort

PAIRING_BUDGET_S = 2.0
SIMULATE_BUDGET_S = 15.0


def pairing_cohort(n_subjects: int = 1000, visits: int = 4, seed: int = 0) -> Cohort:
    """Every subject assessed and scanned once a year, scan dates jittered around the assessments."""
    rng = np.random.default_rng(seed)
    subjects = [f"S{i:04d}" for i in range(n_subjects)]
    assessments = pd.DataFrame(
        [(s, 60 + k + rng.normal(0, 0.05), "CN", 28.0) for s in subjects for k in range(visits)],
        columns=["subject", "age", "diagnosis", "mmse"],
    ).sort_values(["subject", "age"]).reset_index(drop=True)
    scans = pd.DataFrame(
        [(s, 60 + k + rng.normal(0, 0.2), 1.0) for s in subjects for k in range(visits)],
        columns=["subject", "age", "vol"],
    ).sort_values(["subject", "age"]).reset_index(drop=True)
    info = pd.DataFrame({"sex": [float(i % 2) for i in range(n_subjects)], "education": 12.0},
                        index=pd.Index(subjects, name="subject"))
    return Cohort(assessments=assessments, subjects=info, scans=scans, regions=["vol"],
                  genotypes=pd.DataFrame(index=info.index), variants=pd.DataFrame())


def time_pairing(repeats: int) -> list[float]:
    cohort = pairing_cohort()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        final = final_visits(cohort, pair_scans(cohort))
        times.append(time.perf_counter() - t0)
        assert len(final) == 1000
    return times


def time_simulation(repeats: int, subjects: int = 844) -> list[float]:
    times = []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            simulate_ad_cohort(Path(tmp) / "cohort", subjects=subjects, seed=r)
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    rows = []
    for name, times, budget in (
        ("pair_scans + final_visits, 1000 subjects × 4 scans", time_pairing(args.repeats), PAIRING_BUDGET_S),
        ("simulate_ad_cohort, 844 subjects (paper size)", time_simulation(args.repeats), SIMULATE_BUDGET_S),
    ):
        rows.append({"stage": name, "median_s": statistics.median(times), "max_s": max(times),
                     "budget_s": budget, "within_budget": max(times) < budget, "times_s": times})
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "load_avg_1min_at_end": os.getloadavg()[0],
            "repeats": args.repeats, "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cohort_speed.json").write_text(json.dumps(meta, indent=2))
    lines = [
        "# cohort stages: wall time (seconds)",
        "",
        f"Machine: {meta['machine']}, {meta['cpus']} CPUs, load average {meta['load_avg_1min_at_end']:.1f} at the end"
        " (a load above the CPU count means other jobs shared the machine and inflate wall times)."
        f" {args.repeats} repeats each; budget = the limit the test suite used to assert.",
        "",
        "| stage | median (s) | slowest (s) | budget (s) | within budget |",
        "|---|---:|---:|---:|---|",
        *(f"| {r['stage']} | {r['median_s']:.3f} | {r['max_s']:.3f} | {r['budget_s']:g} | {'yes' if r['within_budget'] else 'NO'} |"
          for r in rows),
    ]
    (args.out / "cohort_speed.md").write_text("\n".join(lines) + "\n")
    print((args.out / "cohort_speed.md").read_text())


if __name__ == "__main__":
    main()
