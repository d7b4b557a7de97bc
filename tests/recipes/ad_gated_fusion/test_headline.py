"""The report's headline table and summary.csv: the paper's method beside its baselines, with paired differences."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignome.recipes.ad_gated_fusion.methods import ABLATIONS, LINEAR_BASELINE, MAIN_METHOD
from alignome.recipes.ad_gated_fusion.report import HEADLINE, ORDER
from alignome.recipes.runner import build_report
from alignome.report.headline import headline_markdown
from alignome.report.intervals import bootstrap_auc, fold_interval
from alignome.report.summary import summarise
from tests.helpers.predictions import results_from, simulated_predictions

SIGNAL = {MAIN_METHOD: 1.0, LINEAR_BASELINE: 1.4, "random-forest": 0.8, "only-reconstruction": 1.2, "no-age": 0.3,
          "oracle": 6.0}
TASKS = ("CN/AD", "CN/MCI/AD")
NUMBER = r"[-+]?\d\.\d{3}"


def _write_run(run_dir: Path, signal: dict[str, float] = SIGNAL, predictions: bool = True) -> pd.DataFrame:
    run_dir.mkdir(parents=True)
    table = simulated_predictions(signal, tasks=TASKS, folds=3, per_class=10, seed=8, shared=0.7)
    results_from(table).to_csv(run_dir / "results.csv", index=False)
    if predictions:
        table.to_csv(run_dir / "predictions.csv", index=False)
    return table


def _headline(md: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Header and cells by task and column of the first table in ``md`` (the headline)."""
    lines = [line for line in md.splitlines() if line.startswith("|")]
    split = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    header = split[0]
    body = {}
    for cells in split[2:]:
        if cells[0] == "Model":
            break
        body[cells[0]] = dict(zip(header, cells))
    return header, body


def _means(results: pd.DataFrame) -> pd.Series:
    return results.groupby(["method", "task"])["value"].mean()


def test_headline_puts_the_method_beside_its_baselines(tmp_path: Path) -> None:
    predictions = _write_run(tmp_path / "run")
    build_report(tmp_path / "run")
    md = (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")
    header, body = _headline(md)
    difference = f"{MAIN_METHOD} − {LINEAR_BASELINE}"
    assert header == ["Task", MAIN_METHOD, LINEAR_BASELINE, "random-forest", "best ablation",
                      "oracle (sees ground truth)", difference]
    assert md.index("Headline") < md.index("| Model |")  # the full table follows

    means = _means(results_from(predictions))
    boot = bootstrap_auc(predictions)
    for task in TASKS:
        cell = body[task][MAIN_METHOD]
        low, high = boot.interval(MAIN_METHOD, task)
        assert cell == f"{means[(MAIN_METHOD, task)]:.3f} [{low:.3f}, {high:.3f}]"
        best = max((m for m in ABLATIONS if (m, task) in means), key=lambda m: means[(m, task)])
        assert body[task]["best ablation"].startswith(f"{means[(best, task)]:.3f} ({best}) [")
        gain = means[(MAIN_METHOD, task)] - means[(LINEAR_BASELINE, task)]
        d_low, d_high = boot.difference(MAIN_METHOD, LINEAR_BASELINE, task)
        assert body[task][difference] == f"{gain:+.3f} [{d_low:+.3f}, {d_high:+.3f}]"
        assert d_low <= gain <= d_high
    assert "same resamples for both methods" in md and "within each class" in md


def test_summary_csv_holds_every_interval(tmp_path: Path) -> None:
    predictions = _write_run(tmp_path / "run")
    build_report(tmp_path / "run")
    table = pd.read_csv(tmp_path / "run" / "summary.csv", keep_default_na=False, na_values=[""])
    boot = bootstrap_auc(predictions)
    auc = table[table["row"] == "AUC"]
    assert len(auc) == len(SIGNAL) * len(TASKS) and set(auc["interval"]) == {"bootstrap"}
    for rec in auc.itertuples():
        assert (rec.ci_low, rec.ci_high) == pytest.approx(boot.interval(rec.method, rec.task), abs=1e-12)
        if rec.method == LINEAR_BASELINE:
            assert np.isnan(rec.diff)
            continue
        assert rec.diff_vs == LINEAR_BASELINE and rec.diff_interval == "bootstrap"
        assert (rec.diff_low, rec.diff_high) == pytest.approx(
            boot.difference(rec.method, LINEAR_BASELINE, rec.task), abs=1e-12)


def test_without_the_linear_baseline_the_difference_is_against_the_forest(tmp_path: Path) -> None:
    signal = {m: s for m, s in SIGNAL.items() if m != LINEAR_BASELINE}
    _write_run(tmp_path / "run", signal)
    build_report(tmp_path / "run")
    md = (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")
    header, _ = _headline(md)
    assert LINEAR_BASELINE not in header and header[-1] == f"{MAIN_METHOD} − random-forest"
    assert f"Not in this run, so not shown: {LINEAR_BASELINE}." in md
    assert f"against random-forest in place of {LINEAR_BASELINE}" in md


def test_without_predictions_intervals_are_over_folds_and_marked(tmp_path: Path) -> None:
    predictions = _write_run(tmp_path / "run", predictions=False)
    build_report(tmp_path / "run")
    results = results_from(predictions)
    md = (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")
    _, body = _headline(md)
    folds = results[(results["method"] == MAIN_METHOD) & (results["task"] == "CN/AD")]["value"].to_numpy()
    low, high = fold_interval(folds, (0.0, 1.0))
    assert body["CN/AD"][MAIN_METHOD] == f"{folds.mean():.3f} [{low:.3f}, {high:.3f}]†"
    assert re.fullmatch(rf"{NUMBER} \[{NUMBER}, {NUMBER}\]†", body["CN/AD"][f"{MAIN_METHOD} − {LINEAR_BASELINE}"])
    assert "predictions.csv absent" in md and "Student-t" in md
    table = pd.read_csv(tmp_path / "run" / "summary.csv", keep_default_na=False)
    assert set(table.loc[table["row"] == "AUC", "interval"]) == {"folds"}


def test_no_headline_without_the_main_method() -> None:
    predictions = simulated_predictions({"random-forest": 1.0, "oracle": 5.0}, tasks=("CN/AD",))
    summary = summarise(results_from(predictions), ORDER, bootstrap_auc(predictions), "random-forest")
    assert headline_markdown(summary, HEADLINE) == ""
