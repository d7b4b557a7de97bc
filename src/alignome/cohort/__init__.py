"""Cohorts: visit tables, regional volumes, genotypes and NIfTI scans, read and validated.

The file formats themselves (PLINK filesets, tables, NIfTI checks) are read by :mod:`alignome.io`.
The names below are imported on first use (PEP 562), so importing one module such as
``alignome.cohort.genotypes`` does not pull in the imaging stack (nibabel, joblib) or pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alignome._lazy import lazy_exports

_EXPORTS = {
    "ImageCohort": "image_cohort", "read_bids_folder": "image_cohort", "read_image_manifest": "image_cohort",
    "load_cohort": "load", "Cohort": "model", "DropRecord": "model", "final_visits": "pairing",
    "pair_scans": "pairing",
}

__all__ = [
    "Cohort", "DropRecord", "ImageCohort", "final_visits", "load_cohort", "pair_scans",
    "read_bids_folder", "read_image_manifest",
]

if TYPE_CHECKING:  # pragma: no cover
    from alignome.cohort.image_cohort import (
        ImageCohort,
        read_bids_folder,
        read_image_manifest,
    )
    from alignome.cohort.load import load_cohort
    from alignome.cohort.model import Cohort, DropRecord
    from alignome.cohort.pairing import final_visits, pair_scans


__getattr__ = lazy_exports(__name__, _EXPORTS)
