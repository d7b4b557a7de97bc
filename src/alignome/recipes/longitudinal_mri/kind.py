"""The ``longitudinal-mri`` kind as the registry knows it."""

from alignome.recipes.kind import RecipeKind
from alignome.recipes.longitudinal_mri.report import TABLES, build_longitudinal_report
from alignome.recipes.longitudinal_mri.run import run_longitudinal
from alignome.recipes.longitudinal_mri.schema import LongitudinalMRIRecipe

KIND = RecipeKind(
    name="longitudinal-mri", schema=LongitudinalMRIRecipe, run=run_longitudinal, report=build_longitudinal_report,
    tables=TABLES, kept_data_keys=("cache_dir", "modality"),
)
