"""The ``ad-gated-fusion`` kind as the registry knows it."""

from alignome.recipes.ad_gated_fusion.report import TABLES, build_report
from alignome.recipes.ad_gated_fusion.run import run_gated_fusion
from alignome.recipes.ad_gated_fusion.schema import Recipe
from alignome.recipes.kind import RecipeKind

KIND = RecipeKind(
    name="ad-gated-fusion", schema=Recipe, run=run_gated_fusion, report=build_report,
    tables=TABLES, kept_data_keys=("label_window_days",),
)
