"""The quick preset end to end through the command line, and its outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from alignome.cli import app
from alignome.diagnoses import TASKS
from alignome.recipes.ad_gated_fusion.methods import METHODS
from alignome.recipes.ad_gated_fusion.schema import Recipe

from tests.helpers.paths import RECIPES

RECIPE = RECIPES / "ad-gated-fusion.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("quick") / "run"
    result = runner.invoke(app, ["run", str(RECIPE), "--preset", "quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_results_have_one_row_per_fold_for_every_method_task_and_metric(quick_run: Path):
    recipe = Recipe.model_validate(yaml.safe_load((quick_run / "config.resolved.yaml").read_text()))
    folds = recipe.protocol.outer_folds
    results = pd.read_csv(quick_run / "results.csv")
    assert list(results.columns) == ["method", "task", "metric", "fold", "value"]
    assert set(results["method"]) == set(METHODS)  # the simulated cohort has truth, so the oracle runs too
    assert set(results["task"]) == set(TASKS)
    assert set(results.loc[results["task"] == "CN/MCI/AD", "metric"]) == {"auc_macro_ovr", "mmse_rmse"}
    counts = results.groupby(["method", "task", "metric"])["fold"].agg(["count", "nunique"])
    assert (counts["count"] == folds).all() and (counts["nunique"] == folds).all()
    auc = results[results["metric"].str.startswith("auc")]["value"]
    assert auc.between(0, 1).all()
    # the oracle sees the true disease severity: it must beat chance clearly on CN/AD
    oracle = results.query("method == 'oracle' and task == 'CN/AD' and metric == 'auc'")["value"].mean()
    assert oracle > 0.9


def test_summary_matches_results(quick_run: Path):
    results = pd.read_csv(quick_run / "results.csv")
    metrics = json.loads((quick_run / "metrics.json").read_text())
    grp = results.query("method == 'random-forest' and task == 'CN/AD' and metric == 'auc'")["value"]
    got = metrics["summary"]["random-forest"]["CN/AD"]["auc"]
    assert got["mean"] == pytest.approx(grp.mean()) and got["std"] == pytest.approx(grp.std(ddof=1))
    summary = (quick_run / "summary.md").read_text()
    assert f"{grp.mean():.3f} ± {grp.std(ddof=1):.3f}" in summary
    assert metrics["contrastive_form"] == "decoupled"


def test_run_directory_holds_every_artifact(quick_run: Path):
    for name in ("config.resolved.yaml", "summary.md", "report.html", "run.log", "predictions.csv", "gates.csv", "training_curves.csv"):
        assert (quick_run / name).is_file(), name
    html = (quick_run / "report.html").read_text()
    assert "data:image/png;base64" in html and 'src="http' not in html
    assert len(list((quick_run / "figures").glob("*.png"))) >= 3
    gates = pd.read_csv(quick_run / "gates.csv")
    assert ((gates["alpha_snp"] + gates["alpha_mri"]).sub(1).abs() < 1e-5).all()


def test_embeddings_are_out_of_fold_one_per_scan(quick_run: Path):
    emb = pd.read_parquet(quick_run / "embeddings.parquet")
    assert not emb.duplicated(["subject", "age"]).any()
    # each subject is embedded by exactly one fold: the one that held it out
    assert (emb.groupby("subject")["fold"].nunique() == 1).all()
    preds = pd.read_csv(quick_run / "predictions.csv")
    held_out = preds.query("method == 'contrastive+fusion'").groupby("subject")["fold"].first()
    folds = emb.groupby("subject")["fold"].first()
    common = held_out.index.intersection(folds.index)
    assert len(common) > 0 and (held_out.loc[common] == folds.loc[common]).all()
    assert any(c.startswith("z_snp_") for c in emb.columns) and any(c.startswith("z_mri_") for c in emb.columns)
    # the GWAS phenotype table: one row per subject, its latest scan's MRI embedding, no SNP embedding
    gwas = pd.read_parquet(quick_run / "mri_embeddings_by_subject.parquet")
    assert gwas["IID"].is_unique and not any(c.startswith("z_snp_") for c in gwas.columns)
    last = emb.dropna(subset=["z_mri_0"]).sort_values("age").groupby("subject").tail(1).set_index("subject")
    assert gwas.set_index("IID")["z_mri_0"].equals(last.loc[gwas["IID"], "z_mri_0"].rename_axis("IID"))


def test_rerun_resumes_from_checkpoints_with_identical_results(quick_run: Path):
    before = (quick_run / "results.csv").read_text()
    result = runner.invoke(app, ["run", str(RECIPE), "--preset", "quick", "--out", str(quick_run)])
    assert result.exit_code == 0, result.output
    assert "resuming" in (quick_run / "run.log").read_text()
    assert (quick_run / "results.csv").read_text() == before


def _without_run_state(html: str) -> str:
    """The report less the two parts that describe the run directory at build time, not its results.

    The run builds its report before it logs "run finished" and before metrics.json gains the report's
    own time; a rebuild later shows both. Everything else (tables, notes, figures) must be identical.
    """
    html = re.sub(r"<details><summary>Log tail.*?</details>", "LOG TAIL", html, flags=re.S)
    return re.sub(r"<table><thead><tr><th>stage</th><th class=\"num\">wall time</th>.*?</table>", "TIMINGS", html,
                  flags=re.S)


def test_report_command_rebuilds(quick_run: Path):
    """`alignome report` rebuilds from the run's files what the run itself wrote."""
    figures = [f"figures/{p.name}" for p in (quick_run / "figures").glob("*.png")]
    built = ["summary.md", "report.html", *figures]
    original = {name: (quick_run / name).read_bytes() for name in built}
    assert len(figures) >= 3
    for name in built:
        (quick_run / name).unlink()
    result = runner.invoke(app, ["report", str(quick_run)])
    assert result.exit_code == 0, result.output
    rebuilt = {name: (quick_run / name).read_bytes() for name in built}
    for name in ["summary.md", *figures]:  # deterministic: the same bytes
        assert rebuilt[name] == original[name], name
    html, before = rebuilt["report.html"].decode(), original["report.html"].decode()
    assert "LOG TAIL" in _without_run_state(html) and "TIMINGS" in _without_run_state(html)
    assert _without_run_state(html) == _without_run_state(before)
    # the rebuilt timing table shows every stage time the run recorded, the report's own included
    timings = json.loads((quick_run / "metrics.json").read_text())["timings_s"]
    assert "report" in timings
    for stage, seconds in timings.items():
        assert f"<td>{stage}</td><td class=\"num\">{seconds:.1f} s</td>" in html, stage


def test_unknown_preset_is_a_clear_error(tmp_path: Path):
    result = runner.invoke(app, ["run", str(RECIPE), "--preset", "fast", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown preset 'fast'" in result.output and "quick" in result.output


def test_missing_recipe_is_a_clear_error(tmp_path: Path):
    result = runner.invoke(app, ["run", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output and "file not found" in result.output


def test_python_dash_m_runs_the_same_command_line():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "alignome", "gwas", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--bfile" in done.stdout and "Usage: alignome gwas" in done.stdout
