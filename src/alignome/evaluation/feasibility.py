"""Which diagnostic tasks a cohort supports under nested cross-validation, decided from class counts.

A task needs every one of its classes in each outer test fold (else its AUC is computed on one
class) and in each inner split of every outer training side (else the inner search scores on one
class). Outer folds are stratified by diagnosis, so a class of ``c`` subjects puts ``floor(c/K)`` or
``ceil(c/K)`` of them in each of the ``K`` test folds and leaves at least ``c - ceil(c/K)`` on each
training side; stratified inner folds then need ``inner_folds`` of them there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from alignome.cohort.splits import SubjectFold
from alignome.diagnoses import TASK_CLASSES
from alignome.errors import DataError


def min_subjects_per_class(outer_folds: int, inner_folds: int) -> int:
    """Fewest subjects of a class that give every outer test fold one and every training side ``inner_folds``."""
    n = outer_folds
    while n - math.ceil(n / outer_folds) < inner_folds:
        n += 1
    return n


@dataclass(frozen=True)
class TaskPlan:
    """Tasks to run and, for each task left out, why."""

    feasible: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)


def plan_tasks(counts: Mapping[str, int], tasks: Iterable[str], outer_folds: int, inner_folds: int) -> TaskPlan:
    """Split ``tasks`` into those the subjects per final diagnosis (``counts``) support and those they do not.

    Raises
    ------
    DataError
        If no task is feasible, naming the counts, the rule and the fix.
    """
    need = min_subjects_per_class(outer_folds, inner_folds)
    feasible, skipped = [], {}
    for task in tasks:
        short = {c: int(counts.get(c, 0)) for c in TASK_CLASSES[task] if counts.get(c, 0) < need}
        if short:
            have = ", ".join(f"{n} {c}" for c, n in short.items())
            skipped[task] = (f"needs at least {need} subjects per class (outer_folds={outer_folds}, "
                             f"inner_folds={inner_folds}); the final visits hold {have}")
        else:
            feasible.append(task)
    if not feasible:
        raise DataError(
            f"no task is feasible: each class of a task needs at least {need} subjects with a final diagnosis "
            f"(outer_folds={outer_folds}, inner_folds={inner_folds}); the cohort has {dict(counts)}",
            field="protocol.tasks",
            fix="check that diagnosis_map reads your labels as CN/MCI/AD, add subjects, "
            "or lower protocol.outer_folds / protocol.inner_folds",
        )
    return TaskPlan(tuple(feasible), skipped)


def stratifiable(final_diagnosis: pd.Series, outer_folds: int) -> pd.Series:
    """The final diagnoses to stratify the outer folds by: classes with fewer than ``outer_folds`` subjects
    become unlabelled (they join every training side; no feasible task evaluates them)."""
    counts = final_diagnosis.value_counts()
    rare = counts.index[counts < outer_folds]
    return final_diagnosis.where(~final_diagnosis.isin(rare))


def fold_problem(fold: SubjectFold, final_diagnosis: pd.Series, task: str, inner_folds: int) -> str | None:
    """Why outer fold ``fold`` cannot evaluate ``task`` (a class missing from its test side, or too few on its
    training side for ``inner_folds`` stratified inner splits), or None when it can."""
    train = final_diagnosis.reindex(list(fold.train)).value_counts()
    test = final_diagnosis.reindex(list(fold.test)).value_counts()
    for c in TASK_CLASSES[task]:
        if test.get(c, 0) < 1:
            return f"fold {fold.index}'s test subjects hold no {c}"
        if train.get(c, 0) < inner_folds:
            return (f"fold {fold.index}'s training subjects hold {int(train.get(c, 0))} {c}, "
                    f"fewer than inner_folds={inner_folds}")
    return None


def holdout_problem(train_counts: Mapping[str, int], test_counts: Mapping[str, int], classes: Iterable[str],
                    min_train: int = 2) -> str | None:
    """Why a probe fitted on training subjects and scored on test subjects cannot run, or None when it can.

    Each class needs ``min_train`` training subjects (two: the inner CV that picks the
    penalty needs one on each side of a split) and one test subject (else its AUC is undefined).
    ``train_counts`` and ``test_counts`` count subjects per class.
    """
    for c in classes:
        if train_counts.get(c, 0) < min_train:
            return (f"training subjects hold {int(train_counts.get(c, 0))} {c}; "
                    f"the probe needs at least {min_train} per class")
        if test_counts.get(c, 0) < 1:
            return f"test subjects hold no {c}"
    return None
