"""Both recipes' quick presets, run twice from scratch with the same seed, write the same result bytes.

Too long for ``make test`` (two full runs of each recipe, about 4 minutes on 2 busy cores):
``make test-slow`` runs it. Each run is its own ``python -m alignome run`` process, as a user runs it
(two runs inside one process can differ in the last digits: torch's thread settings are process state).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import RECIPES

#: Result tables of either kind (timings live in metrics.json, training_curves.csv and the
#: longitudinal-mri summary's speed table, so those are not compared).
TABLES = ("results.csv", "predictions.csv", "gates.csv", "best_params.csv", "splits.csv")


def _digests(run: Path) -> dict[str, str]:
    return {name: hashlib.sha256((run / name).read_bytes()).hexdigest() for name in TABLES if (run / name).is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["ad-gated-fusion", "longitudinal-mri", "gemcont", "mm-dim"])
def test_quick_preset_twice_gives_identical_result_tables(tmp_path: Path, recipe: str) -> None:
    runs = []
    for name in ("a", "b"):  # each run with its own cache: nothing is shared but the seed
        out = tmp_path / name
        env = {**os.environ, "ALIGNOME_CACHE_DIR": str(tmp_path / f"cache-{name}")}
        done = subprocess.run([sys.executable, "-m", "alignome", "run", str(RECIPES / f"{recipe}.yaml"), "--preset",
                               "quick", "--out", str(out)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        runs.append(_digests(out))
    assert "results.csv" in runs[0]
    assert runs[0] == runs[1]
