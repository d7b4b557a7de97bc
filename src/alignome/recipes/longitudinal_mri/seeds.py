"""Repeat a ``longitudinal-mri`` run once per seed and report each figure's mean and spread over the seeds."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from alignome.recipes.longitudinal_mri.schema import LongitudinalMRIRecipe
from alignome.recipes.run_dir import finish_run, open_run_dir
from alignome.training.ranks import is_main_process

#: Columns of ``seed_spread.csv``.
SPREAD_COLUMNS = ("method", "task", "metric", "mean", "sd", "min", "max", "n_seeds")


def seed_dir(out: Path, seed: int) -> Path:
    """The run directory of one seed inside the run directory of all seeds."""
    return out / f"seed-{seed}"


def single_seed_recipe(recipe: LongitudinalMRIRecipe, seed: int) -> LongitudinalMRIRecipe:
    """The recipe as a run of one seed: ``seed`` set, ``protocol.seeds`` cleared (same as writing ``seed:`` alone)."""
    protocol = recipe.protocol.model_copy(update={"seeds": None})
    return recipe.model_copy(update={"seed": seed, "protocol": protocol})


def share_pinned_cohort(recipe: LongitudinalMRIRecipe, first: Path, target: Path) -> bool:
    """Give ``target`` the simulated cohort of ``first`` (hard links) when ``data.simulate.seed`` pins it.

    Every seed then simulates the same cohort, so the stamp in ``first/data`` vouches for it in
    ``target`` too and the run reuses it instead of simulating again. Returns whether it shared.
    """
    simulate = recipe.data.simulate or {}
    source, data = first / "data", target / "data"
    if "seed" not in simulate or not source.is_dir() or data.exists():
        return False
    target.mkdir(parents=True, exist_ok=True)

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another file system: copy
            shutil.copy2(src, dst)

    shutil.copytree(source, data, copy_function=link)
    return True


def seed_spread(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample SD (NaN for one seed), minimum and maximum of each (method, task, metric) over the seeds."""
    values = results.assign(value=pd.to_numeric(results["value"], errors="coerce"))
    grouped = values.groupby(["method", "task", "metric"], sort=False)["value"]
    table = grouped.agg(mean="mean", sd="std", min="min", max="max", n_seeds="count").reset_index()
    return table.loc[:, list(SPREAD_COLUMNS)]


def spread_json(spread: pd.DataFrame) -> dict[str, Any]:
    """``{method: {task: {metric: {mean, sd, min, max, n_seeds}}}}`` for ``metrics.json``."""
    out: dict[str, Any] = {}
    for rec in spread.to_dict("records"):
        cell = {k: (None if pd.isna(rec[k]) else float(rec[k])) for k in ("mean", "sd", "min", "max")}
        cell["n_seeds"] = int(rec["n_seeds"])
        out.setdefault(rec["method"], {}).setdefault(rec["task"], {})[rec["metric"]] = cell
    return out


def run_seeds(recipe: LongitudinalMRIRecipe, preset: str | None, out: Path,
              run_one: Callable[[LongitudinalMRIRecipe, str | None, Path], Path]) -> Path:
    """Run ``run_one`` once per seed of ``recipe.protocol.seeds`` into ``out/seed-<s>``, then summarise in ``out``.

    Each seed's directory is exactly the run of the recipe with that ``seed`` (a cohort pinned by
    ``data.simulate.seed`` is simulated once and shared, :func:`share_pinned_cohort`). ``out`` gets
    ``results.csv`` (every seed's rows, with a ``seed`` column), ``seed_spread.csv`` (mean, SD,
    range per method, task and metric), ``metrics.json`` (the same under ``spread``) and a report.
    """
    log, _ = open_run_dir(recipe, preset, out)
    seeds = list(recipe.protocol.seeds or [])
    tables = []
    for seed in seeds:
        log.info("seed %d of %s → %s", seed, seeds, seed_dir(out, seed))
        if share_pinned_cohort(recipe, seed_dir(out, seeds[0]), seed_dir(out, seed)):
            log.info("the simulated cohort is pinned by data.simulate.seed: seed %d reuses seed %d's", seed, seeds[0])
        run_one(single_seed_recipe(recipe, seed), preset, seed_dir(out, seed))
        if not is_main_process():  # a launched copy of the command only trains; the main process summarises
            continue
        tables.append(pd.read_csv(seed_dir(out, seed) / "results.csv").assign(seed=seed))
    if not tables:
        return out
    results = pd.concat(tables, ignore_index=True)
    results.to_csv(out / "results.csv", index=False)
    spread = seed_spread(results)
    spread.to_csv(out / "seed_spread.csv", index=False)
    metrics = {"kind": recipe.kind, "recipe": recipe.name, "preset": preset, "seed": seeds[0], "seeds": seeds,
               "runs": {str(s): seed_dir(out, s).name for s in seeds}, "spread": spread_json(spread)}
    return finish_run(out, metrics, log)
