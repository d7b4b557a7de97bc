"""The samples of genotype QC: a ``.fam`` with PLINK 1.9's founder, sex and phenotype rules."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alignome.errors import DataError
from alignome.io.fields import read_columns
from alignome.io.plink_files import PLINK_FIX
from alignome.io.plink_fileset import sex_codes


@dataclass
class Samples:
    """The ``.fam`` of a fileset, with PLINK's founder, sex and phenotype rules."""

    fid: np.ndarray
    iid: np.ndarray
    founder: np.ndarray
    control: np.ndarray
    case_control: bool
    sex: np.ndarray

    @property
    def male(self) -> np.ndarray:
        return self.sex == 1


def _number(text: str) -> float:
    if "_" in text:  # float() reads 1_0 as 10; a phenotype column does not
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def fam_samples(fam: list[list[str]], allow_no_sex: bool) -> Samples:
    """:class:`Samples` of the six ``.fam`` columns (the rules of :func:`read_fam`)."""
    fid, iid, pat, mat = (np.array(column, dtype=object) for column in fam[:4])
    founder = (pat == "0") & (mat == "0")
    sex = sex_codes(fam[4])
    values = np.array([_number(v) for v in fam[5]], dtype=np.float64)
    coded = np.isin(values, [1, 2, 0, -9])
    case_control = bool(coded.all()) and bool(np.isin(values, [1, 2]).any())
    control = ((values == 1) & (allow_no_sex | (sex != 0))) if case_control else np.ones(len(fid), dtype=bool)
    return Samples(fid=fid, iid=iid, founder=founder, control=control, case_control=case_control, sex=sex)


def read_fam(prefix: str | Path, allow_no_sex: bool = False) -> Samples:
    """Read ``PREFIX.fam`` (6 columns) and classify founders, sex and controls as PLINK 1.9 does.

    As in PLINK 1.9, a sample is a founder only when both parent ids are ``0``
    (a parent id naming no sample of the file still makes a non-founder). Sex
    is 1 (male), 2 (female) or 0 (unknown: any other code). The phenotype is
    case/control when every value is one of 1, 2, 0, -9 (0 and -9 missing);
    controls are those coded 1, and, unless ``allow_no_sex``, whose sex is
    known (PLINK 1.9 ignores the phenotype of a sample of unknown sex, except
    with ``--allow-no-sex`` or in a run that writes data such as ``--make-bed``).
    """
    prefix = Path(prefix)
    if prefix.suffix in (".bed", ".bim", ".fam"):
        prefix = prefix.with_suffix("")
    path = Path(f"{prefix}.fam")
    if not path.is_file():
        raise DataError("file not found", file=path, field="bfile", fix=PLINK_FIX)
    return fam_samples(read_columns(path, 6, ".fam"), allow_no_sex)
