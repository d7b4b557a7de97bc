"""A run directory belongs to one recipe kind; `--overwrite` clears it; Ctrl-C and OS errors end a run cleanly."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from alignome.cli import app
from alignome.recipes import registry
from alignome.recipes.run_owner import owner_kind

from tests.helpers.toy_kind import write_recipe

runner = CliRunner()


def _other_kind_run(out):
    """A directory as an ad-gated-fusion run leaves it (the files a toy run never writes)."""
    out.mkdir(parents=True)
    (out / "config.resolved.yaml").write_text(yaml.safe_dump({"kind": "ad-gated-fusion", "name": "x"}))
    (out / "metrics.json").write_text(json.dumps({"kind": "ad-gated-fusion"}))
    (out / "gates.csv").write_text("subject,gate\n")
    return out


def test_a_run_of_another_kind_is_refused_and_left_untouched(toy_kind, tmp_path):
    out = _other_kind_run(tmp_path / "run")
    result = runner.invoke(app, ["run", str(write_recipe(tmp_path, {"simulate": {"n": 4}})), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "ad-gated-fusion" in result.output and "toy-mean" in result.output and "--overwrite" in result.output
    assert (out / "gates.csv").is_file() and owner_kind(out) == "ad-gated-fusion"


def test_overwrite_clears_the_other_kinds_files(toy_kind, tmp_path):
    out = _other_kind_run(tmp_path / "run")
    recipe = write_recipe(tmp_path, {"simulate": {"n": 4}})
    result = runner.invoke(app, ["run", str(recipe), "--out", str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert not (out / "gates.csv").exists() and owner_kind(out) == "toy-mean"
    assert pd.read_csv(out / "results.csv")["value"].tolist() == [4.5]


def test_the_same_kind_resumes_in_the_same_directory(toy_kind, tmp_path):
    recipe, out = write_recipe(tmp_path, {"simulate": {"n": 4}}), tmp_path / "run"
    assert runner.invoke(app, ["run", str(recipe), "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["run", str(recipe), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "reusing simulated toy values" in (out / "run.log").read_text()


def test_overwrite_never_deletes_a_folder_that_holds_no_run(toy_kind, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work\n")
    result = runner.invoke(app, ["run", str(write_recipe(tmp_path, {"simulate": {"n": 4}})), "--out", str(out),
                                 "--overwrite"])
    assert result.exit_code == 2, result.output
    assert (out / "thesis.tex").is_file()


def _register_failing(kind, exc: BaseException) -> None:
    def run(recipe, preset, out):
        kind.run(recipe, preset, out)
        raise exc

    registry.register(dataclasses.replace(kind, run=run))


def test_ctrl_c_says_how_to_resume_and_exits_130(toy_kind, tmp_path):
    _register_failing(toy_kind, KeyboardInterrupt())
    result = runner.invoke(app, ["run", str(write_recipe(tmp_path, {"simulate": {"n": 4}})), "--out",
                                 str(tmp_path / "run")])
    assert result.exit_code == 130, result.output
    assert "rerun the same command to resume" in result.output


def test_an_os_error_while_writing_is_an_error_not_a_traceback(toy_kind, tmp_path):
    _register_failing(toy_kind, OSError(28, "No space left on device", str(tmp_path / "run" / "x.csv")))
    result = runner.invoke(app, ["run", str(write_recipe(tmp_path, {"simulate": {"n": 4}})), "--out",
                                 str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.output and "x.csv" in result.output
    assert not isinstance(result.exception, OSError)
