"""Cohorts: visit tables, regional volumes, genotypes and NIfTI scans, read and validated."""

from alignome.cohort.image_cohort import ImageCohort, read_bids_folder, read_image_manifest
from alignome.cohort.load import load_cohort
from alignome.cohort.model import Cohort, DropRecord
from alignome.cohort.pairing import final_visits, pair_scans

__all__ = [
    "Cohort", "DropRecord", "ImageCohort", "final_visits", "load_cohort", "pair_scans",
    "read_bids_folder", "read_image_manifest",
]
