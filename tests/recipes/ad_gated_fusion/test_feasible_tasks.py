"""A two-class cohort (Nondemented/Demented, no MCI) runs CN/AD only, says why the rest is skipped, and warns about nothing."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from alignome.cohort.splits import SubjectFold
from alignome.recipes.ad_gated_fusion import work_plan
from alignome.recipes.runner import run_recipe

from tests.helpers.paths import RECIPES
from tests.helpers.two_class_cohort import write_two_class_cohort

RECIPE = RECIPES / "ad-gated-fusion.yaml"
#: the quick preset, smaller, in one process (so warnings surface here) and with one Optuna trial (its search runs)
SMALL = {
    "protocol": {"jobs": 1, "trials": 1, "methods": ["contrastive+fusion", "mri-only", "random-forest"]},
    "method": {"n_snps": 30, "pretrain": {"epochs": 3}, "classifier": {"epochs": 5}},
}


@pytest.fixture(scope="module")
def two_class(tmp_path_factory) -> Path:
    return write_two_class_cohort(tmp_path_factory.mktemp("two_class"), subjects=90)


def _run(data: Path, out: Path) -> tuple[Path, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_dir = run_recipe(RECIPE, preset="quick", data_dir=data, out=out, overrides=SMALL)
    return run_dir, list(caught)


def _library_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in caught
            if any(lib in str(w.filename) for lib in ("sklearn", "optuna", "joblib"))]


def test_two_class_cohort_runs_cn_ad_only_with_reasons_and_no_warnings(two_class: Path, tmp_path: Path):
    run_dir, caught = _run(two_class, tmp_path / "run")
    assert _library_warnings(caught) == []
    results = pd.read_csv(run_dir / "results.csv")
    assert set(results["task"]) == {"CN/AD"} and set(results["metric"]) == {"auc", "mmse_rmse"}
    assert sorted(results["fold"].unique()) == [0, 1, 2]
    assert set(pd.read_csv(run_dir / "predictions.csv")["y_true"]) == {0, 1}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["skipped_tasks"]) == {"CN/MCI", "MCI/AD", "CN/MCI/AD"}
    assert all("0 MCI" in why for why in metrics["skipped_tasks"].values())
    assert metrics["skipped_folds"] == []
    for name in ("summary.md", "report.html", "run.log"):
        text = (run_dir / name).read_text()
        assert "CN/MCI/AD" in text and "0 MCI" in text, name


def test_a_fold_without_a_class_skips_that_fold_and_task_only(two_class: Path, tmp_path: Path, monkeypatch):
    """Folds that the class counts cannot foresee (here forced) lose the (fold, task) unit, not the run."""
    real = work_plan.outer_folds

    def one_class_fold0(final_dx, subjects, n_splits, seed):
        folds = real(final_dx, subjects, n_splits, seed)
        ad_in_test = [s for s in folds[0].test if final_dx.get(s) == "AD"]
        moved = SubjectFold(0, folds[0].train + tuple(ad_in_test), tuple(s for s in folds[0].test if s not in ad_in_test))
        return [moved, *folds[1:]]

    monkeypatch.setattr(work_plan, "outer_folds", one_class_fold0)
    run_dir, caught = _run(two_class, tmp_path / "run")
    assert _library_warnings(caught) == []
    results = pd.read_csv(run_dir / "results.csv")
    assert sorted(results["fold"].unique()) == [1, 2]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["skipped_folds"] == [{"fold": 0, "task": "CN/AD", "reason": "fold 0's test subjects hold no AD"}]
    assert "CN/AD, fold 0: fold 0's test subjects hold no AD" in (run_dir / "summary.md").read_text()
