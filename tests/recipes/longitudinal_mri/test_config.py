"""The longitudinal-mri recipe schema, its dispatch, and the subject-wise three-way split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alignome.cohort.splits import train_val_test_subjects
from alignome.recipes.ad_gated_fusion.schema import Recipe
from alignome.recipes.registry import load_recipe
from alignome.errors import ConfigError
from alignome.recipes.longitudinal_mri.schema import LongitudinalMRIRecipe
from alignome.recipes.longitudinal_mri.report import comparison_markdown

from tests.helpers.paths import RECIPES


def test_recipe_kind_selects_the_schema():
    mri = load_recipe(RECIPES / "longitudinal-mri.yaml", preset="quick")
    assert isinstance(mri, LongitudinalMRIRecipe)
    assert mri.method.preprocess.size == 32 and mri.method.epochs == 4
    assert mri.method.temperature == pytest.approx(0.07) and mri.method.contrastive_form == "standard"
    paper = load_recipe(RECIPES / "longitudinal-mri.yaml", preset="paper")
    assert paper.method.epochs == 10 and paper.method.subject_fraction == pytest.approx(0.25)
    assert isinstance(load_recipe(RECIPES / "ad-gated-fusion.yaml"), Recipe)


def _write(tmp_path: Path, body: dict) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def test_manifest_path_resolved_relative_to_recipe(tmp_path):
    path = _write(tmp_path, {"kind": "longitudinal-mri", "name": "x", "data": {"manifest": "scans.csv"}})
    recipe = load_recipe(path)
    assert recipe.data.manifest.path == (tmp_path / "scans.csv").resolve()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "longitudinal-mri", "name": "x", "data": {}}, "data"),
        ({"kind": "longitudinal-mri", "name": "x", "data": {"manifest": "a.csv", "bids": "b"}}, "data"),
        ({"kind": "longitudinal-mri", "name": "x", "data": {"manifest": "a.csv"}, "method": {"widths": [8, 16]}}, "method"),
        ({"kind": "longitudinal-mri", "name": "x", "data": {"manifest": "a.csv"}, "method": {"batch_size": 1}}, "method"),
        ({"kind": "mri", "name": "x", "data": {}}, "kind"),
    ],
)
def test_bad_recipes_name_the_field(tmp_path, body, field):
    with pytest.raises(ConfigError) as err:
        load_recipe(_write(tmp_path, body))
    assert err.value.field is not None and err.value.field.startswith(field)
    assert "r.yaml" in str(err.value)


def test_three_way_split_is_disjoint_complete_and_stratified():
    subjects = [f"s{i:03d}" for i in range(80)]
    strata = pd.Series(["CN"] * 40 + ["MCI"] * 24 + ["AD"] * 16, index=subjects)
    split = train_val_test_subjects(strata, 0.2, 0.25, seed=3)
    parts = [set(split.train), set(split.val), set(split.test)]
    assert set().union(*parts) == set(subjects)
    assert sum(len(p) for p in parts) == len(subjects)
    assert len(split.test) == 20 and len(split.val) == 16
    for part in (split.val, split.test):  # every diagnosis is represented in proportion
        share = strata[list(part)].value_counts(normalize=True)
        assert np.allclose(share.reindex(["CN", "MCI", "AD"]).to_numpy(), [0.5, 0.3, 0.2], atol=0.07)
    again = train_val_test_subjects(strata, 0.2, 0.25, seed=3)
    assert again == split
    assert train_val_test_subjects(strata, 0.2, 0.25, seed=4) != split


def test_comparison_table_marks_the_best_per_direction():
    results = pd.DataFrame(
        [
            ("clinimcl", "re-identification", "top1", "test", 0.9),
            ("untrained", "re-identification", "top1", "test", 0.4),
            ("clinimcl", "temporal consistency", "ratio", "test", 0.3),
            ("untrained", "temporal consistency", "ratio", "test", 0.8),
            ("clinimcl", "age probe", "mae", "test", 5.0),
            ("untrained", "age probe", "mae", "test", 4.0),
        ],
        columns=["method", "task", "metric", "fold", "value"],
    )
    lines = comparison_markdown(results).splitlines()
    row = {line.split("|")[1].strip(): line for line in lines if line.startswith("| ")}
    assert "**0.900**" in row["Re-identification top-1 ↑"] and "**0.400**" not in row["Re-identification top-1 ↑"]
    assert "**0.300**" in row["Consecutive / between-subject distance ↓"]
    assert "**4.000**" in row["Age probe MAE (years) ↓"]
    assert lines[0].index("clinimcl") < lines[0].index("untrained")
