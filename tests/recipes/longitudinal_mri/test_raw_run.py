"""Raw-like T1 heads through ``alignome run recipes/longitudinal-mri.yaml --preset raw`` (steps on)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from alignome.cli import app
from alignome.simulate.mri3d import simulate_mri3d

from tests.helpers.paths import RECIPES


@pytest.mark.slow  # 61 s on 2 shared cores: 16 raw heads through N4 and two registrations each, then training
def test_a_manifest_of_raw_heads_runs_through_the_recipe_with_the_steps_on(tmp_path):
    cohort = simulate_mri3d(tmp_path / "raw", subjects=8, visits=(2, 2), voxel_mm=4.0, seed=2, raw=True, jobs=2)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", str(RECIPES / "longitudinal-mri.yaml"), "--preset", "raw", "--data", str(cohort), "--out", str(out)],
        env={"ALIGNOME_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["preprocess"]["steps"] == ["n4", "register", "skull_strip"]
    assert "raw T1 heads" in metrics["preprocess"]["input"]
    assert metrics["cache"]["built"] == 16 and metrics["cohort"]["scans"] == 16
    assert "raw-T1 steps: n4, register, skull_strip" in (out / "run.log").read_text()
    assert "| raw-T1 steps | n4, register, skull_strip |" in (out / "summary.md").read_text()
    results = pd.read_csv(out / "results.csv")
    assert {"clinimcl", "untrained"} <= set(results["method"])
