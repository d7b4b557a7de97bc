"""What a run evaluates: the methods its cohort's data allow, feasible tasks only, each unit's fold holding every class.

The task rule is :mod:`alignome.evaluation.feasibility`'s; methods, tasks and units left out are
logged with their reason and end up in ``metrics.json`` and the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from alignome.cohort.splits import SubjectFold, outer_folds
from alignome.errors import DataError
from alignome.evaluation.feasibility import TaskPlan, fold_problem, plan_tasks, stratifiable
from alignome.recipes.ad_gated_fusion.methods import GENOTYPE_FREE, NEEDS_GENOTYPES
from alignome.recipes.ad_gated_fusion.schema import Recipe


@dataclass(frozen=True)
class WorkPlan:
    """The outer folds, the (fold, task) units to evaluate, and the tasks and units left out with why."""

    folds: list[SubjectFold]
    units: list[tuple[SubjectFold, str]]
    plan: TaskPlan
    fold_skips: dict[tuple[int, str], str]


def plan_work(final_dx: pd.Series, counts: dict[str, int], subjects: list[str], recipe: Recipe,
              log: logging.Logger) -> WorkPlan:
    """Decide the feasible tasks from the class counts, draw the outer folds, and drop (fold, task) units
    whose fold lacks a class of the task; every task or unit left out is logged with its reason."""
    proto = recipe.protocol
    plan = plan_tasks(counts, proto.tasks, proto.outer_folds, proto.inner_folds)
    for task, reason in plan.skipped.items():
        log.warning("task %s skipped: %s", task, reason)
    folds = outer_folds(stratifiable(final_dx, proto.outer_folds), subjects, proto.outer_folds, recipe.seed)
    problems = {(f.index, t): fold_problem(f, final_dx, t, proto.inner_folds) for f in folds for t in plan.feasible}
    fold_skips = {k: why for k, why in problems.items() if why is not None}
    for (fold, task), reason in fold_skips.items():
        log.warning("fold %d, task %s skipped: %s", fold, task, reason)
    units = [(f, t) for f in folds for t in plan.feasible if (f.index, t) not in fold_skips]
    if not units:
        raise DataError("every (outer fold, task) lacks a class: " + "; ".join(fold_skips.values()),
                        field="protocol.outer_folds", fix="lower protocol.outer_folds / protocol.inner_folds or add subjects")
    return WorkPlan(folds, units, plan, fold_skips)


def without_genotypes(recipe: Recipe, log: logging.Logger) -> tuple[Recipe, dict[str, str]]:
    """The recipe restricted to the methods that run without genotypes, and the methods left out with why.

    Raises
    ------
    DataError
        If none of ``protocol.methods`` runs without genotypes.
    """
    methods = recipe.protocol.methods
    kept = [m for m in methods if m in GENOTYPE_FREE]
    skipped = {m: NEEDS_GENOTYPES for m in methods if m not in GENOTYPE_FREE}
    if not kept:
        raise DataError(
            f"the cohort has no genotypes and none of protocol.methods {methods} runs without them",
            field="data.genotypes",
            fix=f"give genotypes (data.genotypes: {{bfile: PREFIX}}), or add one of {list(GENOTYPE_FREE)} to protocol.methods",
        )
    if skipped:
        log.warning("method(s) %s skipped: %s", ", ".join(skipped), NEEDS_GENOTYPES)
    return recipe.model_copy(update={"protocol": recipe.protocol.model_copy(update={"methods": kept})}), skipped
