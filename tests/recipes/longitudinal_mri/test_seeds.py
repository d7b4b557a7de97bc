"""``protocol.seeds``: one run per seed, each the run of that seed alone, summarised as mean and spread."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alignome.recipes.longitudinal_mri.evaluate import EVALUATION_COLUMNS
from alignome.recipes.longitudinal_mri.report import comparison_markdown
from alignome.recipes.longitudinal_mri.schema import LongitudinalMRIRecipe
from alignome.recipes.longitudinal_mri.seeds import run_seeds, seed_spread

from tests.helpers.paths import RECIPES


def _recipe(simulate: dict | None = None, **protocol) -> LongitudinalMRIRecipe:
    body = yaml.safe_load((RECIPES / "longitudinal-mri.yaml").read_text())
    body.pop("presets")
    body["protocol"].update(protocol)
    body["data"]["simulate"].update(simulate or {})
    return LongitudinalMRIRecipe.model_validate(body)


def _fake_run(calls: list):
    def run_one(recipe: LongitudinalMRIRecipe, preset, out: Path) -> Path:
        calls.append((recipe, out))
        out.mkdir(parents=True, exist_ok=True)
        if not (out / "data").exists():  # stands for the simulation
            (out / "data").mkdir()
            (out / "data" / "simulate.json").write_text(json.dumps({"by": recipe.seed}))
        rng = np.random.default_rng(recipe.seed)
        rows = [(m, "re-identification", "top1", "test", rng.random(), 0.1, 0.9) for m in ("clinimcl", "untrained")]
        pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS)).to_csv(out / "results.csv", index=False)
        return out
    return run_one


def test_each_seed_runs_the_recipe_of_that_seed_alone_and_the_spread_is_over_seeds(tmp_path):
    calls: list = []
    out = run_seeds(_recipe(seeds=[4, 1, 7]), None, tmp_path / "run", _fake_run(calls))
    assert [r.seed for r, _ in calls] == [4, 1, 7]
    for recipe, path in calls:
        assert recipe == _recipe().model_copy(update={"seed": recipe.seed})  # as if written with `seed:` alone
        assert path == out / f"seed-{recipe.seed}"
    results = pd.read_csv(out / "results.csv")
    assert sorted(results["seed"].unique()) == [1, 4, 7]
    spread = pd.read_csv(out / "seed_spread.csv").set_index("method")
    for method in ("clinimcl", "untrained"):
        values = results.loc[results["method"] == method, "value"].to_numpy()
        assert spread.loc[method, "mean"] == pytest.approx(values.mean())
        assert spread.loc[method, "sd"] == pytest.approx(values.std(ddof=1))
        assert (spread.loc[method, "min"], spread.loc[method, "max"]) == (values.min(), values.max())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["seeds"] == [4, 1, 7]
    assert metrics["spread"]["clinimcl"]["re-identification"]["top1"]["n_seeds"] == 3
    # each seed's value is the one its own run wrote
    first = pd.read_csv(out / "seed-4" / "results.csv")
    assert results[results["seed"] == 4]["value"].tolist() == first["value"].tolist()
    assert "± " in (out / "summary.md").read_text() and (out / "report.html").is_file()


def test_a_cohort_pinned_by_its_simulation_seed_is_simulated_once_and_shared(tmp_path):
    calls: list = []
    out = run_seeds(_recipe(simulate={"seed": 11}, seeds=[0, 1]), None, tmp_path / "run", _fake_run(calls))
    for seed in (0, 1):
        assert json.loads((out / f"seed-{seed}" / "data" / "simulate.json").read_text()) == {"by": 0}
    unpinned = run_seeds(_recipe(seeds=[0, 1]), None, tmp_path / "free", _fake_run([]))
    assert json.loads((unpinned / "seed-1" / "data" / "simulate.json").read_text()) == {"by": 1}


def test_the_table_of_a_seeds_run_shows_mean_sd_and_range():
    results = pd.DataFrame({"method": "clinimcl", "task": "re-identification", "metric": "top1", "fold": "test",
                            "value": [0.5, 0.7, 0.9], "seed": [0, 1, 2]})
    assert "0.700 ± 0.200 (0.500 to 0.900)" in comparison_markdown(results)
    one = results.iloc[:1].assign(ci_low=0.4, ci_high=0.6)
    assert "0.500 [0.400, 0.600]" in comparison_markdown(one)
    assert seed_spread(results)["n_seeds"].item() == 3


@pytest.mark.parametrize("seeds", [[], [1, 1]])
def test_seeds_must_be_distinct_and_present(seeds):
    with pytest.raises(ValueError, match="distinct seeds"):
        _recipe(seeds=seeds)
