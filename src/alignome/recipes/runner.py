"""Run a recipe of any kind, and rebuild the report of a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignome.recipes.registry import DEFAULT_KIND, get_kind, load_recipe
from alignome.recipes.run_owner import clear_run_dir, owner_kind
from alignome.report.rundir import load_run

#: Parent of the run directories of runs without ``--out``.
DEFAULT_RUNS = Path("runs")


def run_recipe(
    recipe_path: Path,
    preset: str | None = None,
    data_dir: Path | None = None,
    out: Path | None = None,
    seed: int | None = None,
    overrides: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Run a recipe of any kind and write its run directory; returns the directory.

    Completed units of work are checkpointed atomically under ``checkpoints/``;
    running the same recipe into the same directory resumes from them. A directory
    holding a run of another kind is refused, unless ``overwrite`` deletes it first
    (which also starts the same recipe afresh).
    """
    overrides = dict(overrides or {})
    if seed is not None:
        overrides["seed"] = seed
    recipe = load_recipe(recipe_path, preset=preset, data_dir=data_dir, overrides=overrides)
    out = Path(out) if out is not None else DEFAULT_RUNS / f"{recipe.name}-{preset or 'default'}"
    if overwrite:
        clear_run_dir(out)
    return get_kind(recipe.kind, Path(recipe_path)).run(recipe, preset, out)


def build_report(run_dir: str | Path) -> Path:
    """(Re)build ``summary.md``, ``figures/*.png`` and ``report.html`` of a run directory.

    The run's kind is the one :func:`alignome.recipes.run_owner.owner_kind` reads (a folder
    naming none is read as the default kind); that kind's report reads the files it needs.

    Returns
    -------
    pathlib.Path
        Path of the written ``report.html``: one self-contained file with CSS
        inline and figures inlined as base64 PNG, which opens without network.

    Raises
    ------
    alignome.errors.DataError
        If ``run_dir`` or its ``results.csv`` is missing, or ``results.csv``
        lacks a required column.

    Examples
    --------
    >>> build_report("runs/ad-gated-fusion-quick")  # doctest: +SKIP
    PosixPath('runs/ad-gated-fusion-quick/report.html')
    """
    kind = get_kind(owner_kind(run_dir) or DEFAULT_KIND, Path(run_dir))
    return kind.report(load_run(run_dir, kind.tables))
