"""Task feasibility from class counts: the rule against sklearn's own stratified folds, plans and fold guards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

from alignome.cohort.splits import SubjectFold
from alignome.errors import DataError
from alignome.evaluation.feasibility import (
    fold_problem,
    holdout_problem,
    min_subjects_per_class,
    plan_tasks,
    stratifiable,
)


def _worst_case(count: int, outer: int, seed: int) -> tuple[int, int]:
    """Fewest subjects of a ``count``-subject class in any test fold and any training side of stratified K-fold."""
    y = np.array([1] * count + [0] * 40)
    test_min, train_min = count, count
    for tr, te in StratifiedKFold(outer, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        test_min, train_min = min(test_min, int((y[te] == 1).sum())), min(train_min, int((y[tr] == 1).sum()))
    return test_min, train_min


@pytest.mark.filterwarnings("ignore:The least populated class")  # the size below the minimum warns, as it should
@pytest.mark.parametrize("outer, inner", [(2, 2), (3, 2), (5, 3), (5, 5), (10, 3)])
def test_the_minimum_is_the_smallest_class_size_that_stratified_folds_serve(outer: int, inner: int):
    need = min_subjects_per_class(outer, inner)
    for seed in range(3):
        test_min, train_min = _worst_case(need, outer, seed)
        assert test_min >= 1 and train_min >= inner
        test_min, train_min = _worst_case(need - 1, outer, seed) if need - 1 >= 2 else (0, 0)
        assert test_min < 1 or train_min < inner


def test_a_two_class_cohort_runs_only_cn_ad_and_says_why_the_others_are_skipped():
    plan = plan_tasks({"CN": 45, "MCI": 0, "AD": 105}, ["CN/AD", "CN/MCI", "MCI/AD", "CN/MCI/AD"], 5, 3)
    assert plan.feasible == ("CN/AD",)
    assert set(plan.skipped) == {"CN/MCI", "MCI/AD", "CN/MCI/AD"}
    for reason in plan.skipped.values():
        assert "0 MCI" in reason and "at least 5" in reason and "outer_folds=5" in reason


def test_a_class_just_below_the_minimum_skips_its_tasks():
    need = min_subjects_per_class(5, 5)
    plan = plan_tasks({"CN": 50, "MCI": need - 1, "AD": need}, ["CN/AD", "CN/MCI", "CN/MCI/AD"], 5, 5)
    assert plan.feasible == ("CN/AD",)
    assert f"{need - 1} MCI" in plan.skipped["CN/MCI"] and "AD" not in plan.skipped["CN/MCI"].split("hold")[1]


def test_no_feasible_task_is_an_error_naming_the_counts_and_the_fix():
    with pytest.raises(DataError) as info:
        plan_tasks({"CN": 40, "MCI": 0, "AD": 2}, ["CN/AD", "CN/MCI"], 3, 2)
    text = str(info.value)
    assert "'AD': 2" in text and "'MCI': 0" in text and "diagnosis_map" in text and "protocol.outer_folds" in text


def test_rare_classes_leave_the_stratification_and_the_rest_stays():
    dx = pd.Series(["CN"] * 6 + ["AD"] * 5 + ["MCI"] * 2 + [None], index=[f"S{i}" for i in range(14)])
    out = stratifiable(dx, 5)
    assert out.isna().sum() == 3 and (out.dropna() == dx[out.notna()]).all()
    assert set(out.dropna()) == {"CN", "AD"}


def test_a_fold_without_a_class_in_its_test_side_is_named():
    dx = pd.Series({"a": "CN", "b": "CN", "c": "AD", "d": "AD", "e": "CN", "f": "AD", "g": "CN", "u": np.nan})
    one_class = SubjectFold(0, ("a", "c", "d", "f", "g", "u"), ("b", "e"))
    assert fold_problem(one_class, dx, "CN/AD", 2) == "fold 0's test subjects hold no AD"
    thin = SubjectFold(1, ("a", "c", "d", "u"), ("b", "e", "f"))
    assert fold_problem(thin, dx, "CN/AD", 2) == "fold 1's training subjects hold 1 CN, fewer than inner_folds=2"
    assert fold_problem(thin, dx, "CN/AD", 1) is None


def test_a_held_out_probe_needs_two_training_subjects_and_one_test_subject_per_class():
    classes = ("CN", "AD")
    assert holdout_problem({"CN": 2, "AD": 2}, {"CN": 1, "AD": 1}, classes) is None
    assert holdout_problem({"CN": 5, "AD": 1}, {"CN": 3, "AD": 3}, classes) == (
        "training subjects hold 1 AD; the probe needs at least 2 per class")
    assert holdout_problem({"CN": 5, "AD": 5}, {"CN": 3}, classes) == "test subjects hold no AD"
    assert holdout_problem({"CN": 5, "AD": 3}, {"CN": 1, "AD": 1}, classes, min_train=4) is not None
