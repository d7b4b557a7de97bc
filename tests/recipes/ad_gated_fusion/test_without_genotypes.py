"""A cohort without genotypes runs the methods that need none (random forest on volumes and demographics)
and names the others as skipped, as the README says; a recipe left with no method stops with the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from alignome.cohort import load_cohort
from alignome.cohort.sources import DataConfig
from alignome.errors import DataError
from alignome.recipes.ad_gated_fusion.methods import NEURAL_METHODS
from alignome.recipes.loading import load_data_section
from alignome.recipes.runner import run_recipe

from tests.helpers.paths import RECIPES
from tests.helpers.two_class_cohort import VOLUME_COLUMNS, write_two_class_cohort

RECIPE = RECIPES / "ad-gated-fusion.yaml"


@pytest.fixture(scope="module")
def no_genotypes(tmp_path_factory) -> Path:
    return write_two_class_cohort(tmp_path_factory.mktemp("no_genotypes"), subjects=60, genotypes=False)


def test_the_cohort_loads_with_no_variants(no_genotypes: Path):
    cohort = load_cohort(DataConfig.model_validate(load_data_section(no_genotypes, DataConfig)), n_snps=100)
    assert cohort.genotypes.shape == (60, 0) and list(cohort.genotypes.index) == cohort.subject_ids
    assert len(cohort.variants) == 0 and cohort.regions == VOLUME_COLUMNS


def test_sumstats_without_genotypes_is_a_config_error(no_genotypes: Path):
    section = load_data_section(no_genotypes, DataConfig)
    with pytest.raises(ValidationError, match="no 'genotypes'"):
        DataConfig.model_validate({**section, "sumstats": {"path": no_genotypes / "visits.csv"}})


def test_runs_the_random_forest_on_volumes_and_names_the_skipped_methods(no_genotypes: Path, tmp_path: Path):
    run_dir = run_recipe(RECIPE, preset="quick", data_dir=no_genotypes, out=tmp_path / "run",
                         overrides={"protocol": {"jobs": 1}})
    results = pd.read_csv(run_dir / "results.csv")
    assert set(results["method"]) == {"random-forest", "logistic-regression"} and set(results["task"]) == {"CN/AD"}
    assert results.query("metric == 'auc'")["value"].between(0, 1).all()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["skipped_methods"]) == {*NEURAL_METHODS, "vae-gan"}
    assert all("no genotypes" in why for why in metrics["skipped_methods"].values())
    assert metrics["cohort"]["variants"] == 0
    assert "mri-only" in (run_dir / "summary.md").read_text()
    assert "skipped: they learn from genotypes" in (run_dir / "run.log").read_text()


def test_only_genotype_methods_without_genotypes_stops_with_the_fix(no_genotypes: Path, tmp_path: Path):
    with pytest.raises(DataError) as info:
        run_recipe(RECIPE, preset="quick", data_dir=no_genotypes, out=tmp_path / "run",
                   overrides={"protocol": {"methods": ["contrastive+fusion", "mri-only"]}})
    text = str(info.value)
    assert "no genotypes" in text and "data.genotypes" in text and "random-forest" in text
