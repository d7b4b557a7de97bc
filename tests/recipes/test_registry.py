"""A recipe kind defined in the tests alone (tests/helpers/toy_kind.py) runs through `alignome run` and `alignome report`.

Nothing shared is edited: the kind is registered at run time (the ``toy_kind`` fixture), as a new kind's
package would be by its line in ``registry.KINDS``.
"""

from __future__ import annotations

import json

import pandas as pd
import yaml
from typer.testing import CliRunner

from alignome.cli import app
from alignome.recipes import registry

from tests.helpers.toy_kind import write_recipe

runner = CliRunner()


def test_a_registered_kind_runs_and_reports_through_the_command_line(toy_kind, tmp_path):
    recipe = write_recipe(tmp_path, {"simulate": {"n": 4}})
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(recipe), "--preset", "double", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # seed 3, four values 3..6: mean 4.5, doubled by the preset
    assert pd.read_csv(out / "results.csv")["value"].tolist() == [9.0]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kind"] == "toy-mean" and "report" in metrics["timings_s"]
    assert yaml.safe_load((out / "config.resolved.yaml").read_text())["data"]["scale"] == 2.0

    (out / "report.html").unlink()
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert "mean = 9" in (out / "report.html").read_text()


def test_relative_paths_follow_the_schema_and_data_dir_keeps_the_kinds_keys(toy_kind, tmp_path):
    (tmp_path / "cohort").mkdir()
    pd.DataFrame({"value": [1.0, 3.0]}).to_csv(tmp_path / "cohort" / "values.csv", index=False)
    (tmp_path / "cohort" / "cohort.yaml").write_text("values: values.csv\n")
    recipe = write_recipe(tmp_path, {"values": "cohort/values.csv", "scale": 10.0})

    loaded = registry.load_recipe(recipe)
    assert loaded.data.values == (tmp_path / "cohort" / "values.csv").resolve()
    replaced = registry.load_recipe(recipe, data_dir=tmp_path / "cohort")
    assert replaced.data.values == (tmp_path / "cohort" / "values.csv").resolve()
    assert replaced.data.scale == 10.0  # kept from the recipe: a setting of the method, not of the cohort


def test_unknown_kind_names_the_file_and_the_known_kinds(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("kind: no-such-kind\nname: x\ndata: {}\n")
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "no-such-kind" in result.output and "bad.yaml" in result.output
    assert "ad-gated-fusion" in result.output and "longitudinal-mri" in result.output


def test_built_in_kinds_load_by_name():
    for name in ("ad-gated-fusion", "longitudinal-mri"):
        kind = registry.get_kind(name)
        assert kind.name == name
        assert kind.schema.model_fields["kind"].default == name


def test_a_typo_in_a_cohort_yaml_names_the_cohort_yaml_not_the_recipe(toy_kind, tmp_path):
    (tmp_path / "cohort").mkdir()
    (tmp_path / "cohort" / "cohort.yaml").write_text("values: values.csv\nscael: 2\n")
    recipe = write_recipe(tmp_path, {"simulate": {"n": 4}})
    result = runner.invoke(app, ["run", str(recipe), "--data", str(tmp_path / "cohort"), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert "cohort.yaml" in result.output and "scael" in result.output and "toy.yaml" not in result.output


def test_a_missing_data_folder_suggests_a_cohort_folder_not_a_recipe(toy_kind, tmp_path):
    recipe = write_recipe(tmp_path, {"simulate": {"n": 4}})
    result = runner.invoke(app, ["run", str(recipe), "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert "nowhere" in result.output and "cohort.yaml" in result.output and "simulate" in result.output
    assert "recipes/ad-gated-fusion.yaml" not in result.output
