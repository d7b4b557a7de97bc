"""Diagnostic groups of Alzheimer's cohorts and the classification tasks between them.

One definition for readers, simulators, evaluation and figures.
"""

from __future__ import annotations

#: Diagnoses in clinical order.
DIAGNOSES = ("CN", "MCI", "AD")

#: Classes of each task, in class-index order (index i is ``y == i``).
TASK_CLASSES: dict[str, tuple[str, ...]] = {
    "CN/AD": ("CN", "AD"),
    "CN/MCI": ("CN", "MCI"),
    "MCI/AD": ("MCI", "AD"),
    "CN/MCI/AD": ("CN", "MCI", "AD"),
}

#: Task names in display order.
TASKS = tuple(TASK_CLASSES)


def default_diagnosis_map() -> dict[str, list[str]]:
    """Labels read as each diagnosis when a cohort's data section gives no ``diagnosis_map``."""
    return {"CN": ["CN", "NL", "Nondemented"], "MCI": ["MCI", "EMCI", "LMCI"], "AD": ["AD", "Dementia"]}
