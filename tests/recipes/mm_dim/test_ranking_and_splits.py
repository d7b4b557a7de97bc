"""The AUC ranking (paper 001's Fig. 2 order), the splits, and the recipe file's presets."""

import logging

import numpy as np
import pandas as pd
import pytest

from alignome.errors import DataError
from alignome.recipes.mm_dim import run as mm_run
from alignome.recipes.mm_dim.cohort import OTHER, subject_groups
from alignome.recipes.mm_dim.ranking import holdout_summary, ranking_figure, ranking_markdown
from alignome.recipes.mm_dim.splits import split_subjects
from alignome.recipes.registry import load_recipe
from alignome.simulate.falff3d import mm_grid, mm_truth_without_images

from tests.helpers.paths import RECIPES


def _results():
    rows = []
    truth = {("A", "T1w"): 0.8, ("A", "fALFF"): 0.6, ("B", "T1w"): 0.7, ("B", "fALFF"): 0.75, ("C", "T1w"): 0.9,
             ("C", "fALFF"): 0.53}
    for (method, task), auc in truth.items():
        for fold, jitter in enumerate((-0.02, 0.02)):
            rows.append((method, task, "auc_holdout", fold, auc + jitter))
    rows += [("oracle", "T1w", "auc_holdout", -1, 0.95), ("oracle", "fALFF", "auc_holdout", -1, 0.8)]
    return pd.DataFrame(rows, columns=["method", "task", "metric", "fold", "value"])


def test_objectives_sorted_by_mean_auc_over_modalities_with_fold_spread():
    table = holdout_summary(_results())
    # means over modalities: B 0.725, C 0.715, A 0.70
    assert list(dict.fromkeys(table["method"].astype(str))) == ["B", "C", "A"]
    row = table[(table["method"] == "A") & (table["task"] == "T1w")].iloc[0]
    assert row["mean"] == pytest.approx(0.8) and row["std"] == pytest.approx(np.std([0.78, 0.82], ddof=1))
    assert "oracle" not in set(table["method"].astype(str))


def test_markdown_bolds_each_modalitys_best_and_lists_the_oracle_apart(tmp_path):
    text = ranking_markdown(_results())
    lines = [l for l in text.splitlines() if l.startswith("| ")]
    assert lines[1].startswith("| B |") and lines[3].startswith("| A |")
    assert "**0.900 ± 0.028**" in lines[2] and "**0.750 ± 0.028**" in lines[1]
    assert lines[-1].startswith("| oracle") and "0.950" in lines[-1]
    assert ranking_figure(_results(), tmp_path / "r.png").stat().st_size > 0


def test_hold_out_and_folds_are_stratified_and_disjoint():
    groups = pd.Series([0] * 40 + [1] * 20 + [-1] * 20, index=[f"s{i:02d}" for i in range(80)])
    splits = split_subjects(groups, folds=5, holdout_fraction=0.25, seed=0)
    assert len(splits.holdout) == 20
    assert groups.loc[list(splits.holdout)].value_counts().to_dict() == {0: 10, 1: 5, -1: 5}
    tests = [set(f.test) for f in splits.folds]
    assert set().union(*tests) == set(groups.index) - set(splits.holdout)
    assert sum(len(t) for t in tests) == 60
    for f in splits.folds:
        assert groups.loc[list(f.test)].value_counts().to_dict() == {0: 6, 1: 3, -1: 3}


def test_too_few_subjects_of_a_class_is_a_clear_error():
    groups = pd.Series([0] * 20 + [1] * 3, index=[f"s{i}" for i in range(23)])
    with pytest.raises(DataError, match="too few subjects per class"):
        split_subjects(groups, folds=5, holdout_fraction=0.2, seed=0)


@pytest.mark.parametrize("preset", [None, "quick", "default", "zoo", "paper"])
def test_every_preset_loads(preset):
    recipe = load_recipe(RECIPES / "mm-dim.yaml", preset=preset)
    assert recipe.kind == "mm-dim" and recipe.method.objectives


def test_zoo_covers_every_objective_of_the_paper():
    objectives = set(load_recipe(RECIPES / "mm-dim.yaml", preset="zoo").method.objectives)
    assert {"L", "CL", "CS", "S", "AE", "S-AE", "DCCAE", "L-CCA", "MMVAE", "supervised"} <= objectives


def test_default_preset_scores_at_least_40_labelled_subjects_per_hold_out_and_fold_test_set():
    recipe = load_recipe(RECIPES / "mm-dim.yaml", preset="default")
    truth = mm_truth_without_images(recipe.data.simulate["subjects"], recipe.seed)
    groups = subject_groups(truth)
    p = recipe.protocol
    splits = split_subjects(groups, p.folds, p.holdout_fraction, recipe.seed)
    labelled = lambda subjects: int((groups.loc[list(subjects)] != OTHER).sum())  # noqa: E731
    assert labelled(splits.holdout) >= 40
    assert min(labelled(f.test) for f in splits.folds) >= 40


@pytest.mark.parametrize("preset, voxel_mm", [("quick", 12.0), ("default", 6.0), ("zoo", 12.0), ("paper", 3.0)])
def test_simulated_cohort_is_rendered_at_the_size_the_networks_train_at(preset, voxel_mm, monkeypatch, tmp_path):
    seen = {}

    def fake_simulate_once(out, params, simulate, log, what):
        seen.update(params)
        raise RuntimeError("stop")

    monkeypatch.setattr(mm_run, "simulate_once", fake_simulate_once)
    recipe = load_recipe(RECIPES / "mm-dim.yaml", preset=preset)
    with pytest.raises(RuntimeError, match="stop"):
        mm_run.materialise_data(recipe, tmp_path, logging.getLogger("test"))
    assert seen["voxel_mm"] == voxel_mm
    assert mm_grid(seen["voxel_mm"]).shape == (recipe.method.size,) * 3
