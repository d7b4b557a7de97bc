"""The ``gemcont`` kind as the registry knows it."""

from alignome.recipes.gemcont.report import TABLES, build_gemcont_report
from alignome.recipes.gemcont.run import run_gemcont
from alignome.recipes.gemcont.schema import GemcontRecipe
from alignome.recipes.kind import RecipeKind

KIND = RecipeKind(name="gemcont", schema=GemcontRecipe, run=run_gemcont, report=build_gemcont_report, tables=TABLES)
