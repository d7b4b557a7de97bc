"""The in-memory cohort every recipe consumes, whatever the files looked like."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class DropRecord:
    """Rows (or, with ``unit``, single values) removed while reading: where, how many, why."""

    source: str
    count: int
    reason: str
    unit: str = "row(s)"

    def __str__(self) -> str:
        return f"{self.source}: dropped {self.count} {self.unit} — {self.reason}"


@dataclass
class Cohort:
    """A cohort in memory, in alignome's own column names.

    Attributes
    ----------
    assessments
        One row per clinical assessment. Columns: ``subject`` (str), ``age``
        (float, years), ``diagnosis`` (str in CN/MCI/AD or NA), ``mmse`` (float
        or NaN). Sorted by subject, then age.
    subjects
        One row per subject, index ``subject`` (str). Columns ``sex`` (0 female,
        1 male, float), ``education`` (years, float; NaN if unknown).
    scans
        One row per MRI scan. Columns ``subject``, ``age`` and one float column
        per region (names in ``regions``). Sorted by subject, then age.
    regions
        Names of the regional volume columns in ``scans``.
    genotypes
        Subjects × variants allele counts (0/1/2 of the effect allele A1, or
        dosages), float32, NaN where missing; index is the subject id, columns
        are variant ids. Holds only the variants selected for the recipe.
    variants
        Index variant id (same order as ``genotypes.columns``); columns
        ``chrom``, ``pos``, ``a1``, ``a2``; ``p`` when summary statistics were given.
    drops
        Every row dropped while reading, with reason.
    truth
        Ground truth of a simulated cohort (per-scan table with at least
        ``subject``, ``age`` and ``latent_*`` columns), else ``None``.
    """

    assessments: pd.DataFrame
    subjects: pd.DataFrame
    scans: pd.DataFrame
    regions: list[str]
    genotypes: pd.DataFrame
    variants: pd.DataFrame
    drops: list[DropRecord] = field(default_factory=list)
    truth: pd.DataFrame | None = None

    @property
    def subject_ids(self) -> list[str]:
        """All subject ids in the cohort, sorted."""
        return sorted(self.subjects.index.astype(str))
