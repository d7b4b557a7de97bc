"""The ``mm-dim`` kind as the registry knows it."""

from alignome.recipes.kind import RecipeKind
from alignome.recipes.mm_dim.report import TABLES, build_mm_dim_report
from alignome.recipes.mm_dim.run import run_mm_dim
from alignome.recipes.mm_dim.schema import MMDimRecipe

KIND = RecipeKind(name="mm-dim", schema=MMDimRecipe, run=run_mm_dim, report=build_mm_dim_report, tables=TABLES,
                  kept_data_keys=("modalities", "diagnosis_map", "jobs"))
