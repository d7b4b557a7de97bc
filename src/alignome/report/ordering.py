"""Display order of methods, tasks and diagnoses shared by tables and figures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alignome.diagnoses import DIAGNOSES, TASKS

#: One colour per diagnosis, the same in every figure.
DIAGNOSIS_COLOURS = {"CN": "#1b9e77", "MCI": "#d95f02", "AD": "#7570b3"}


def is_oracle(method: str) -> bool:
    """Whether ``method`` is the oracle, which sees ground truth.

    Parameters
    ----------
    method
        Method name as written in ``results.csv``.

    Returns
    -------
    bool
        True for ``oracle`` (any case, surrounding spaces ignored).
    """
    return str(method).strip().lower() == "oracle"


def _ordered(values: Iterable[str], known: Iterable[str]) -> list[str]:
    seen = list(dict.fromkeys(str(v) for v in values))
    known = list(known)
    first = [k for k in known if k in seen]
    rest = [v for v in seen if v not in known]
    return first + rest


@dataclass(frozen=True)
class MethodOrder:
    """How a recipe's methods are shown: its ``known`` methods first in that order, others next, the oracle last.

    ``main`` is the method a figure of one method shows (the method a paper proposes).
    """

    known: tuple[str, ...] = ()
    main: str | None = None

    def methods(self, methods: Iterable[str]) -> list[str]:
        """Distinct names of ``methods`` in display order."""
        ordered = _ordered(methods, self.known)
        return [m for m in ordered if not is_oracle(m)] + [m for m in ordered if is_oracle(m)]

    def main_method(self, methods: Iterable[str]) -> str | None:
        """The method figures of a single method show.

        ``main`` when present, else the first non-oracle method in display order, else the
        oracle, else None when ``methods`` is empty.
        """
        ordered = self.methods(methods)
        if self.main in ordered:
            return self.main
        non_oracle = [m for m in ordered if not is_oracle(m)]
        if non_oracle:
            return non_oracle[0]
        return ordered[0] if ordered else None


def order_tasks(tasks: Iterable[str]) -> list[str]:
    """Order tasks as in :data:`alignome.diagnoses.TASKS`, unknown ones after.

    Parameters
    ----------
    tasks
        Task names such as ``"CN/AD"``, possibly repeated.

    Returns
    -------
    list of str
        Distinct task names in display order.
    """
    return _ordered(tasks, TASKS)


def order_diagnoses(labels: Iterable[str]) -> list[str]:
    """Order diagnosis labels CN, MCI, AD, then any others alphabetically.

    Parameters
    ----------
    labels
        Diagnosis labels, possibly repeated.

    Returns
    -------
    list of str
        Distinct labels in display order.
    """
    seen = set(str(v) for v in labels)
    return [d for d in DIAGNOSES if d in seen] + sorted(seen - set(DIAGNOSES))


def task_classes(task: str) -> list[str]:
    """Class names of a task in class-index order (``"CN/MCI/AD"`` -> CN, MCI, AD).

    Parameters
    ----------
    task
        Task name with classes separated by ``/``.

    Returns
    -------
    list of str
        Class names; index i is class ``y_true == i``.
    """
    return [part.strip() for part in str(task).split("/")]
