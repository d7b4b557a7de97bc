"""A recipe kind defined in the tests alone (``toy-mean``): the mean of a column, with a simulated cohort.

Registered at run time by the ``toy_kind`` fixture of ``tests/recipes/conftest.py``, as a new kind's
package would be by its line in ``registry.KINDS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
import yaml

from alignome.recipes.kind import RecipeBase, RecipeKind
from alignome.recipes.run_dir import finish_run, open_run_dir, simulate_once
from alignome.report.build import fresh_figure_dir, write_report
from alignome.report.rundir import RunFiles
from alignome.report.summary import RESULT_COLUMNS
from alignome.strict_model import StrictModel


class ToyData(StrictModel):
    values: Path | None = None
    simulate: dict | None = None
    scale: float = 1.0


class ToyRecipe(RecipeBase):
    kind: Literal["toy-mean"] = "toy-mean"
    data: ToyData


def _simulate(data_dir: Path, n: int, seed: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"value": [seed + i for i in range(n)]}).to_csv(data_dir / "values.csv", index=False)
    (data_dir / "cohort.yaml").write_text("values: values.csv\n")


def _run(recipe: ToyRecipe, preset: str | None, out: Path) -> Path:
    log, _ = open_run_dir(recipe, preset, out)
    data = recipe.data
    path = data.values
    if data.simulate is not None:
        path = simulate_once(out, {"seed": recipe.seed, **data.simulate}, _simulate, log, "toy values") / "values.csv"
    mean = float(pd.read_csv(path)["value"].mean()) * data.scale
    rows = [("mean", "all", "value", 0, mean)]
    pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).to_csv(out / "results.csv", index=False)
    metrics = {"kind": recipe.kind, "recipe": recipe.name, "preset": preset, "seed": recipe.seed, "timings_s": {}}
    return finish_run(out, metrics, log)


def _report(run: RunFiles) -> Path:
    fresh_figure_dir(run.run_dir, ())
    table = f"mean = {run.results['value'].iloc[0]:g}"
    return write_report(run, f"# toy\n\n{table}\n", table, [])


TOY = RecipeKind(name="toy-mean", schema=ToyRecipe, run=_run, report=_report, kept_data_keys=("scale",))


def write_recipe(directory: Path, data: dict) -> Path:
    """A toy recipe ``directory/toy.yaml`` with ``data`` as its data section and a preset ``double``."""
    path = directory / "toy.yaml"
    body = {"kind": "toy-mean", "name": "toy", "seed": 3, "data": data, "presets": {"double": {"data": {"scale": 2.0}}}}
    path.write_text(yaml.safe_dump(body))
    return path
