"""What a recipe kind provides: its schema, its run and its report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignome.report.rundir import RunFiles, TableFiles
from alignome.strict_model import StrictModel


class RecipeBase(StrictModel):
    """What every recipe has; a kind's schema adds ``kind`` (a Literal of its name), ``data`` and its own sections."""

    kind: str
    name: str
    description: str = ""
    seed: int = 0


@dataclass(frozen=True)
class RecipeKind:
    """One recipe kind, as the registry knows it.

    Attributes
    ----------
    name
        The ``kind:`` entry of its recipes, e.g. ``ad-gated-fusion``.
    schema
        The validated recipe: a :class:`RecipeBase` with a ``data`` section.
    run
        ``run(recipe, preset, out) -> out``: runs a validated recipe into a run directory.
    report
        ``report(run) -> report.html``: (re)builds the report from a run directory's files.
    tables
        The optional tables of a run directory its report reads (:data:`alignome.report.rundir.TableFiles`).
    kept_data_keys
        Entries of the recipe's ``data:`` section kept when ``--data DIR`` replaces the
        section with ``DIR/cohort.yaml`` (settings of the method, not of the cohort).
    """

    name: str
    schema: type[RecipeBase]
    run: Callable[[Any, str | None, Path], Path]
    report: Callable[[RunFiles], Path]
    tables: TableFiles = field(default_factory=dict)
    kept_data_keys: tuple[str, ...] = ()

    @property
    def data_schema(self) -> type[StrictModel]:
        """The model of the recipe's ``data:`` section."""
        return self.schema.model_fields["data"].annotation  # type: ignore[return-value]
