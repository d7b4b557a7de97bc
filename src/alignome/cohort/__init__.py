"""Cohorts: visit tables, regional volumes and genotypes, read and validated."""

from alignome.cohort.load import load_cohort
from alignome.cohort.model import Cohort, DropRecord
from alignome.cohort.pairing import final_visits, pair_scans

__all__ = ["Cohort", "DropRecord", "final_visits", "load_cohort", "pair_scans"]
