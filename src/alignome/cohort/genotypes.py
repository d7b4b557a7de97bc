"""Genotype sources: PLINK binary filesets (via bed-reader) and dosage tables.

A source is opened first (subjects and variant table only) and the selected
variants are read afterwards, so a GWAS-sized ``.bed`` never enters memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from alignome.cohort.plink_files import PLINK_FIX, check_bed, fileset_paths
from alignome.cohort.tables import Table, as_id, numeric, read_raw
from alignome.errors import DataError

if TYPE_CHECKING:  # pragma: no cover - annotation only (pydantic costs ~0.1 s of import time)
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


def _read_plink_text(path: Path, columns: int, what: str, dtype: dict | None = None) -> pd.DataFrame:
    """A whitespace-separated PLINK text file (.fam/.bim) with pandas' C parser; strings unless typed."""
    if dtype is not None:  # typed columns parse faster; anything odd goes through the checks below
        try:
            frame = pd.read_csv(path, sep=r"\s+", header=None, dtype=dtype, na_filter=False)
            if frame.shape[1] == columns:
                return frame
        except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
            pass
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None, dtype=object, na_filter=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"empty {what} file", file=path, fix=PLINK_FIX) from None
    except pd.errors.ParserError as exc:
        raise DataError(f"expected {columns} whitespace-separated columns ({exc})", file=path, fix=PLINK_FIX) from None
    if frame.shape[1] != columns:
        raise DataError(f"expected {columns} whitespace-separated columns, found {frame.shape[1]}", file=path, fix=PLINK_FIX)
    return frame


def read_plink_fileset(prefix: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Read a PLINK 1 binary fileset's ``.fam`` and ``.bim`` and check its ``.bed``.

    Checks: files present, six columns, unique sample and variant ids,
    SNP-major magic bytes, ``.bed`` size matching samples × variants.

    Returns
    -------
    bed, fam, variants
        Path of the ``.bed``; the ``.fam`` as six string columns; the variants
        indexed by id with columns ``chrom``, ``pos``, ``a1``, ``a2``.
    """
    bed, bim, fam = fileset_paths(prefix, field="genotypes.bfile")
    fam_frame = _read_plink_text(fam, 6, ".fam")
    bim_frame = _read_plink_text(bim, 6, ".bim", dtype={0: object, 1: object, 2: object, 3: np.int64, 4: object, 5: object})
    _unique(fam_frame[1], fam, "subject (IID)", "give each sample one row in the .fam file (e.g. `plink --keep`)")
    _unique(bim_frame[1], bim, "variant id", "give each variant a unique id (e.g. `plink2 --set-all-var-ids` or `--rm-dup`)")
    check_bed(bed, len(fam_frame), len(bim_frame))
    pos = bim_frame[3].to_numpy() if bim_frame[3].dtype == np.int64 else pd.to_numeric(bim_frame[3], errors="coerce").to_numpy()
    variants = pd.DataFrame(
        {
            "chrom": bim_frame[0].to_numpy(dtype=object),
            "pos": pos,
            "a1": bim_frame[4].to_numpy(dtype=object),
            "a2": bim_frame[5].to_numpy(dtype=object),
        },
        index=pd.Index(bim_frame[1].to_numpy(dtype=object), name="variant", dtype=object),
    )
    return bed, fam_frame, variants


def open_plink(prefix: Path) -> GenotypeFile:
    """Open a PLINK 1 binary fileset; values count allele A1 (as PLINK does)."""
    from bed_reader import open_bed

    bed, fam_frame, variants = read_plink_fileset(prefix)
    fam, bim = bed.with_suffix(".fam"), bed.with_suffix(".bim")
    subjects = as_id(fam_frame[1])
    n, m = len(fam_frame), len(variants)
    handle = open_bed(bed, fam_filepath=fam, bim_filepath=bim, iid_count=n, sid_count=m)

    def reader(positions: np.ndarray) -> np.ndarray:
        try:
            return handle.read(index=np.s_[:, positions], dtype="float32")
        except (ValueError, OSError) as exc:
            raise DataError(f"bed-reader could not read the genotypes: {exc}", file=bed, fix=PLINK_FIX) from None

    return GenotypeFile(path=bed, subjects=pd.Index(subjects.to_numpy(), dtype=object), variants=variants, reader=reader)


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
