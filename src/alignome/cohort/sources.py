"""Where a cohort's files are and how their columns map to alignome's names: the ``data:`` section.

These are the sections of a recipe (or of a ``cohort.yaml``) that the cohort readers take.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from alignome.diagnoses import DIAGNOSES, default_diagnosis_map
from alignome.strict_model import StrictModel


class TableSource(StrictModel):
    """A CSV/TSV/Parquet table and the mapping of its columns to alignome's names.

    ``columns`` maps alignome's name (key) to the user's column name (value).
    """

    path: Path
    columns: dict[str, str] = Field(default_factory=dict)


class VisitsSource(TableSource):
    """Clinical assessments: one row per subject visit.

    Needed columns: ``subject`` and either ``age`` or (``date`` and
    ``baseline_age``); ``diagnosis``, ``mmse``, ``sex``, ``education`` optional
    but needed for the tasks that use them.
    """

    sex_map: dict[str, int] = Field(
        default_factory=lambda: {"F": 0, "Female": 0, "female": 0, "0": 0, "M": 1, "Male": 1, "male": 1, "1": 1}
    )


class VolumesSource(StrictModel):
    """Regional volumes: a table (one row per MRI scan) or FreeSurfer stats files.

    Table: ``path`` + ``columns`` (``subject`` and ``age`` or ``date``); every
    other numeric column is a region unless ``regions`` lists them.
    FreeSurfer: ``freesurfer_manifest``, a table with columns subject, age or
    date, and ``stats_dir`` (a FreeSurfer subject directory containing
    ``stats/aseg.stats`` and optionally ``stats/lh.aparc.stats``, ``rh.aparc.stats``).
    """

    path: Path | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    regions: list[str] | None = None
    freesurfer_manifest: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "VolumesSource":
        if (self.path is None) == (self.freesurfer_manifest is None):
            raise ValueError("give exactly one of 'path' (a volumes table) or 'freesurfer_manifest'")
        return self


class GenotypesSource(StrictModel):
    """Genotypes as PLINK binary fileset (``bfile`` prefix) or a dosage table.

    A dosage table has one row per subject, a subject column (``subject_column``)
    and one column per variant holding 0/1/2 (or dosages, NaN when missing).
    Samples without visits are kept out (and counted); ``keep`` restricts the samples
    further to those listed in a file of ``FID IID`` or ``IID`` lines, as ``plink --keep``.
    """

    bfile: Path | None = None
    dosage: Path | None = None
    subject_column: str = "IID"
    keep: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "GenotypesSource":
        if (self.bfile is None) == (self.dosage is None):
            raise ValueError("give exactly one of 'bfile' (PLINK prefix) or 'dosage' (table)")
        return self


class SumstatsSource(TableSource):
    """GWAS summary statistics; needed columns ``variant`` and ``p``
    (``effect_allele`` and ``beta`` optional)."""


class DataConfig(StrictModel):
    """Where the cohort comes from.

    Either ``simulate`` (the built-in simulated cohort is written to the run
    directory and read back through the same readers) or the user's files;
    ``genotypes`` may be left out (a cohort without genotypes: no variants).
    """

    simulate: dict[str, Any] | None = None
    visits: VisitsSource | None = None
    volumes: VolumesSource | None = None
    genotypes: GenotypesSource | None = None
    sumstats: SumstatsSource | None = None
    panel: Path | None = None
    truth: Path | None = None
    diagnosis_map: dict[str, list[str]] = Field(default_factory=default_diagnosis_map)
    label_window_days: float = 90.0
    allow_missing_modality: bool = False

    @model_validator(mode="after")
    def _complete(self) -> "DataConfig":
        if self.simulate is None:
            missing = [k for k in ("visits", "volumes") if getattr(self, k) is None]
            if missing:
                raise ValueError(
                    f"data section lacks {missing}; give them, or 'simulate: {{subjects: 844}}' for the simulated cohort"
                )
            if self.genotypes is None and (self.sumstats is not None or self.panel is not None):
                raise ValueError(
                    "'sumstats' and 'panel' choose variants among the genotypes, and the data section has no "
                    "'genotypes'; give 'genotypes: {bfile: PREFIX}' (or a dosage table), or leave both out"
                )
        if self.sumstats is not None and self.panel is not None:
            raise ValueError(
                "give either 'sumstats' (variants ranked by p, top method.n_snps) or 'panel' (a variant panel "
                "file from `alignome variants select`), not both"
            )
        unknown = set(self.diagnosis_map) - set(DIAGNOSES)
        if unknown:
            raise ValueError(f"diagnosis_map keys must be among {list(DIAGNOSES)}, got {sorted(unknown)}")
        return self


class ManifestSource(TableSource):
    """A NIfTI manifest table and the mapping of its columns to alignome's names.

    Needed columns: ``subject``, ``path`` and ``age`` (or ``date`` + ``baseline_age``);
    optional ``session``, ``modality``, ``diagnosis`` and covariates.
    """
