"""Same recipe + seed gives the same numbers on CPU, through a user-style data directory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from alignome.cli import app
from alignome.recipes.runner import run_recipe

from tests.helpers.paths import RECIPES

RECIPE = RECIPES / "ad-gated-fusion.yaml"
SMALL = {
    "protocol": {"outer_folds": 2, "methods": ["contrastive+fusion", "vae-gan", "random-forest", "logistic-regression"],
                 "tasks": ["CN/AD", "CN/MCI/AD"]},
    "method": {"n_snps": 50, "pretrain": {"epochs": 8}, "classifier": {"epochs": 30}, "vae_gan": {"epochs": 10}},
}


def test_same_seed_same_numbers_and_other_seed_differs(tmp_path: Path):
    data = tmp_path / "cohort"
    sim = CliRunner().invoke(app, ["simulate", "ad-cohort", "--out", str(data), "--subjects", "90", "--seed", "4"])
    assert sim.exit_code == 0, sim.output
    runs = [
        run_recipe(RECIPE, preset="quick", data_dir=data, out=tmp_path / name, seed=seed, overrides=SMALL)
        for name, seed in (("a", 0), ("b", 0), ("c", 1))
    ]
    a, b, c = (pd.read_csv(r / "results.csv") for r in runs)
    pd.testing.assert_frame_equal(a, b)
    emb_a, emb_b = (pd.read_parquet(r / "embeddings.parquet") for r in runs[:2])
    pd.testing.assert_frame_equal(emb_a, emb_b)
    assert not a["value"].equals(c["value"])
    # the run read the user-style directory, not a simulated copy of its own
    assert not (runs[0] / "data").exists()
