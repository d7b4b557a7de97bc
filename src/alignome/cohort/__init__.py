"""Cohorts: visit tables, regional volumes and genotypes, read and validated."""

from alignome.cohort.model import Cohort, DropRecord

__all__ = ["Cohort", "DropRecord"]
