"""A cohort's genotype source (the recipe's ``data.genotypes``): a PLINK binary fileset or a dosage table.

A source is opened first (subjects and variant table only) and the selected
variants are read afterwards, so a GWAS-sized ``.bed`` never enters memory. The
fileset's ``.bim``/``.fam`` are read by :mod:`alignome.io.plink_fileset`, its
genotypes by bed-reader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from alignome.errors import DataError
from alignome.io.plink_fileset import read_fileset
from alignome.io.plink_files import PLINK_FIX
from alignome.io.tables import Table, as_id, numeric, read_raw

if TYPE_CHECKING:  # pragma: no cover - annotation only (pydantic is slow to import)
    from alignome.cohort.sources import GenotypesSource


@dataclass
class GenotypeFile:
    """An opened genotype source.

    Attributes
    ----------
    path
        The file genotypes are read from (``.bed`` or the dosage table).
    subjects
        Subject ids (str), in file order.
    variants
        Index variant id; columns ``chrom``, ``pos``, ``a1`` (counted allele), ``a2``.
    reader
        Function of variant positions -> subjects × variants float32 array.
    """

    path: Path
    subjects: pd.Index
    variants: pd.DataFrame
    reader: Callable[[np.ndarray], np.ndarray]

    def read(self, ids: list[str]) -> pd.DataFrame:
        """Allele counts of variants ``ids`` (float32, NaN missing), subjects × variants."""
        positions = self.variants.index.get_indexer(pd.Index(ids))
        values = self.reader(np.asarray(positions, dtype=np.intp))
        return pd.DataFrame(values, index=self.subjects, columns=pd.Index(list(ids), dtype=object))


def _unique(ids: pd.Series, path: Path, what: str, fix: str) -> None:
    dup = ids.duplicated(keep=False)
    if dup.any():
        first = ids[dup].iloc[0]
        rows = [int(i) + 1 for i in ids.index[ids == first]]
        raise DataError(f"duplicated {what} '{first}' in rows {rows[:5]}", file=path, row=rows[0], fix=fix)


def open_plink(prefix: Path) -> GenotypeFile:
    """Open a PLINK 1 binary fileset (read and checked by :func:`alignome.io.plink_fileset.read_fileset`);
    values count allele A1 (as PLINK does)."""
    from bed_reader import open_bed

    fs = read_fileset(prefix, field="genotypes.bfile")
    bed = fs.bed
    handle = open_bed(bed, fam_filepath=bed.with_suffix(".fam"), bim_filepath=bed.with_suffix(".bim"),
                      iid_count=fs.n, sid_count=fs.m)

    def reader(positions: np.ndarray) -> np.ndarray:
        try:
            return handle.read(index=np.s_[:, positions], dtype="float32")
        except (ValueError, OSError) as exc:
            raise DataError(f"bed-reader could not read the genotypes: {exc}", file=bed, fix=PLINK_FIX) from None

    return GenotypeFile(path=bed, subjects=pd.Index(np.array(fs.fam[1], dtype=object), dtype=object),
                        variants=fs.variants_frame(), reader=reader)


def open_dosage(path: Path, subject_column: str) -> GenotypeFile:
    """Open a dosage table: a subject column and one 0..2 column per variant."""
    path = Path(path)
    frame = read_raw(path, "genotypes")
    if subject_column not in frame.columns:
        raise DataError(
            f"missing subject column '{subject_column}'; available columns: {list(frame.columns)[:20]}",
            file=path,
            field=subject_column,
            fix="set `subject_column: <your column>` under genotypes in the recipe's data section",
        )
    subjects = as_id(frame[subject_column])
    _unique(subjects, path, "subject", "give each subject one row in the dosage table")
    if subjects.isna().any():
        row = int(subjects.index[subjects.isna()][0]) + 1
        raise DataError("missing subject id", file=path, field=subject_column, row=row, fix="fill in or remove the row")
    ids = [c for c in frame.columns if c != subject_column]
    table = Table(frame=frame, path=path, section="genotypes", names={})
    variants = pd.DataFrame(
        {"chrom": None, "pos": np.nan, "a1": None, "a2": None}, index=pd.Index(ids, name="variant", dtype=object)
    )

    def reader(positions: np.ndarray) -> np.ndarray:
        out = np.empty((len(frame), len(positions)), dtype=np.float32)
        for j, position in enumerate(positions):
            column = ids[position]
            values = numeric(table, column)
            bad = (values < 0) | (values > 2)
            if bad.any():
                row = int(values.index[bad][0]) + 1
                raise DataError(f"dosage {values[bad].iloc[0]} outside [0, 2]", file=path, field=column, row=row,
                                fix="give allele counts or dosages between 0 and 2 (empty for missing)")
            out[:, j] = values.to_numpy(dtype=np.float32)
        return out

    return GenotypeFile(path=path, subjects=pd.Index(subjects.to_numpy(), dtype=object), variants=variants, reader=reader)


def open_genotypes(source: GenotypesSource) -> GenotypeFile:
    """Open the genotype source named in the recipe's ``data.genotypes``."""
    if source.bfile is not None:
        return open_plink(source.bfile)
    return open_dosage(source.dosage, source.subject_column)
