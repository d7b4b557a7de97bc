"""Read a cohort (the user's or the simulated one, both on disk) into a :class:`Cohort`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alignome.cohort.consistency import check_subjects
from alignome.cohort.genotyped_samples import genotyped_subjects
from alignome.cohort.genotypes import GenotypeFile, open_genotypes
from alignome.cohort.model import Cohort, DropRecord
from alignome.cohort.visits import read_visits
from alignome.cohort.volumes import read_volumes
from alignome.cohort.sources import DataConfig, SumstatsSource
from alignome.errors import DataError
from alignome.genetics.select import count_not_genotyped, read_sumstats, select_top_variants
from alignome.io.tables import read_table


def read_truth(path: Path) -> pd.DataFrame:
    """Ground truth of a simulated cohort: ``subject`` (str), ``age`` and further
    numeric columns (``latent_*`` ...); columns that are not numeric stay text."""
    table = read_table(path, "truth", {}, ["subject"], ["age"])
    frame = table.frame.copy()
    for column in frame.columns:
        if column != "subject":
            values = pd.to_numeric(frame[column], errors="coerce")
            if values.notna().sum() == frame[column].notna().sum():
                frame[column] = values.astype(float)
    return frame.reset_index(drop=True)


def _drop_empty_subjects(
    assessments: pd.DataFrame, subjects: pd.DataFrame, scans: pd.DataFrame, genotyped: pd.Index | None,
    drops: list[DropRecord],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove subjects with visits but neither scans nor genotypes (recorded); ``genotyped`` None: no genotype source."""
    genotyped = genotyped if genotyped is not None else pd.Index([])
    empty = subjects.index[~subjects.index.isin(scans["subject"]) & ~subjects.index.isin(genotyped)]
    if len(empty):
        drops.append(DropRecord("cohort", len(empty), f"subject(s) with visits but neither scans nor genotypes, e.g. {list(empty[:3])}"))
        subjects = subjects.drop(index=empty)
        assessments = assessments[assessments["subject"].isin(subjects.index)].reset_index(drop=True)
    return assessments, subjects


def _sumstats_variants(
    source: SumstatsSource | None, available: pd.Index, n_snps: int | None, drops: list[DropRecord]
) -> tuple[pd.DataFrame | None, list[str]]:
    """The ``n_snps`` genotyped variants with the smallest p (all variants without sumstats)."""
    sumstats = read_sumstats(source.path, source.columns) if source is not None else None
    chosen = select_top_variants(sumstats, available, n_snps, file=source.path if source else None)
    if sumstats is None:
        return None, chosen
    absent = count_not_genotyped(sumstats, available)
    if absent:
        drops.append(DropRecord(f"sumstats ({Path(source.path).name})", absent, "variant(s) not in the genotypes"))
    if not chosen:
        raise DataError(
            "none of the summary-statistics variants is in the genotypes",
            file=source.path,
            field="variant",
            fix="use the same variant ids in both (e.g. rsIDs in the .bim and the sumstats)",
        )
    return sumstats, chosen


def _panel_variants(
    path: Path, available: pd.Index, n_snps: int | None, drops: list[DropRecord]
) -> tuple[pd.DataFrame | None, list[str]]:
    """The genotyped variants of a panel file, in panel order (most significant first), at most ``n_snps``.

    Panel variants absent from the genotypes are recorded in ``drops``; the panel's
    ``p`` (when given) is returned as the sumstats table that annotates the variants.
    """
    from alignome.genetics.panel import read_panel

    panel = read_panel(path)
    genotyped = panel["variant"].isin(available)
    if not genotyped.all():
        drops.append(DropRecord(f"panel ({Path(path).name})", int((~genotyped).sum()), "variant(s) not in the genotypes"))
    chosen = panel.loc[genotyped, "variant"].tolist()
    if not chosen:
        raise DataError("none of the panel's variants is in the genotypes", file=path, field="variant",
                        fix="use the same variant ids in both (e.g. rsIDs in the .bim and the panel)")
    if n_snps is not None:
        chosen = chosen[:n_snps]
    p = pd.to_numeric(panel["p"], errors="coerce")
    annotations = pd.DataFrame({"variant": panel["variant"], "p": p}) if p.notna().any() else None
    return annotations, chosen


def _open_genotypes(data: DataConfig, visit_subjects: pd.Index,
                    drops: list[DropRecord]) -> tuple[GenotypeFile | None, pd.Index | None]:
    """The genotype source and its samples that join the cohort; ``(None, None)`` for a cohort without genotypes."""
    if data.genotypes is None:
        return None, None
    file = open_genotypes(data.genotypes)
    samples = file.path.with_suffix(".fam") if file.path.suffix == ".bed" else file.path
    return file, genotyped_subjects(file.subjects, visit_subjects, f"genotypes ({samples.name})", data.genotypes.keep, drops)


def _genotype_table(data: DataConfig, file: GenotypeFile | None, genotyped: pd.Index | None, subjects: pd.Index,
                    n_snps: int | None, drops: list[DropRecord]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Allele counts of the selected variants, one row per subject (NaN where not genotyped), and their table;
    without a genotype source, no columns and no variants."""
    if file is None:
        empty = pd.DataFrame(columns=["chrom", "pos", "a1", "a2"], index=pd.Index([], name="variant", dtype=object))
        return pd.DataFrame(index=subjects.rename("subject"), dtype=np.float32), empty
    available = file.variants.index
    if data.panel is not None:
        sumstats, chosen = _panel_variants(data.panel, available, n_snps, drops)
    else:
        sumstats, chosen = _sumstats_variants(data.sumstats, available, n_snps, drops)
    genotypes = file.read(chosen).loc[genotyped].reindex(subjects).astype(np.float32)
    genotypes.index.name = "subject"
    variants = file.variants.loc[chosen].copy()
    if sumstats is not None:
        variants["p"] = sumstats.set_index("variant")["p"].reindex(variants.index).to_numpy()
    return genotypes, variants


def load_cohort(data: DataConfig, n_snps: int | None) -> Cohort:
    """Read visits, volumes, genotypes (and sumstats, truth) into a :class:`Cohort`.

    Parameters
    ----------
    data
        The recipe's data section, with files on disk (a simulated cohort must
        have been written first; its ``cohort.yaml`` is such a section).
    n_snps
        Number of variants to keep, the most significant in the summary
        statistics among those genotyped; ``None`` keeps all.

    Returns
    -------
    Cohort
        Genotypes have one row per subject with visits (all-NaN rows for
        subjects without genotypes when ``allow_missing_modality``), and no
        columns when the data section has no ``genotypes``.

    Raises
    ------
    DataError
        Any missing, malformed or inconsistent input; the message names the
        file, the column or row, and the fix.
    """
    if data.visits is None or data.volumes is None:
        raise DataError(
            "the data section has no visits/volumes files",
            field="data",
            fix="write the simulated cohort first (`alignome simulate`) and pass its cohort.yaml, or give your own files",
        )
    drops: list[DropRecord] = []
    assessments, subjects = read_visits(data.visits, data.diagnosis_map, drops)
    scans, regions = read_volumes(data.volumes, drops)
    genotype_file, genotyped = _open_genotypes(data, subjects.index, drops)
    files = {
        "visits": data.visits.path,
        "volumes": data.volumes.path or data.volumes.freesurfer_manifest,
        "genotypes": genotype_file.path if genotype_file is not None else None,
    }
    check_subjects(subjects.index, pd.Index(scans["subject"].unique()), genotyped, files, data.allow_missing_modality)
    assessments, subjects = _drop_empty_subjects(assessments, subjects, scans, genotyped, drops)
    genotypes, variants = _genotype_table(data, genotype_file, genotyped, subjects.index, n_snps, drops)
    truth = read_truth(data.truth) if data.truth is not None else None
    return Cohort(
        assessments=assessments,
        subjects=subjects,
        scans=scans,
        regions=regions,
        genotypes=genotypes,
        variants=variants,
        drops=drops,
        truth=truth,
    )
