"""The sex chromosomes and chrMT in a genome scan, as ``plink2 --glm`` treats them by default.

Checked against plink2 (tests/test_gwas_plink.py): genotypes are used as the ``.bed``
stores them (males' hemizygous calls 0/2, plink2's ``xchr-model`` 2), and

* **chrX** (``X``, ``23``, ``chrX``): when the scanned samples include both males and
  females, sex (``.fam`` column 5) is added as a covariate and samples of unknown sex
  are left out; otherwise chrX is tested like an autosome, with every sample;
* **chrY** (``Y``, ``24``): males only, no sex covariate; without males its variants
  have no test (alignome writes their rows with ``OBS_CT`` 0 and NA statistics, where
  plink2 leaves them out);
* **chrY and chrMT** (``MT``, ``M``, ``26``) are haploid: a call counts A1 copies out of
  one, half the ``.bed``'s 0/2 (a heterozygous call counts ½), so BETA and SE are twice
  those of the stored counts while T_STAT, P and the multi-trait test are unchanged;
* ``XY`` (pseudo-autosomal, 25) and everything else: like autosomes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alignome.errors import DataError
from alignome.genetics.sumstats_io import normalise_chrom

#: Kinds whose calls count copies out of one: effect sizes are reported per copy of that one.
HAPLOID = ("Y", "MT")


def sex_chromosome(code: object) -> str:
    """``"X"``, ``"Y"``, ``"MT"`` or ``""`` (autosomal treatment) for a ``.bim`` chromosome code.

    Codes are read as :func:`~alignome.genetics.sumstats_io.normalise_chrom` reads them (``chrX``, ``23``,
    ``M``, …); a contig PLINK would not know is scanned like an autosome.
    """
    try:
        name = normalise_chrom(code)
    except DataError:
        return ""
    return name if name in ("X", "Y", "MT") else ""


def chromosome_runs(chroms) -> list[tuple[int, int, str]]:
    """``(start, stop, kind)`` of the consecutive variants of the same kind (see :func:`sex_chromosome`)."""
    codes, uniques = pd.factorize(np.asarray(chroms, dtype=object))
    kinds = np.array([sex_chromosome(u) for u in uniques], dtype=object)[codes]
    bounds = [0, *(np.flatnonzero(kinds[1:] != kinds[:-1]) + 1).tolist(), len(kinds)]
    return [(a, b, kinds[a]) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def samples_tested(kind: str, sex: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(keep, sex_covariate)`` for variants of ``kind`` given the scanned samples' sex (1 male, 2 female, 0).

    ``keep`` is a boolean mask over the samples (None: no sample can be tested);
    ``sex_covariate`` the extra covariate column for the kept samples (1 male, 0 female), or None.
    """
    if kind == "X" and (sex == 1).any() and (sex == 2).any():
        keep = sex != 0
        return keep, (sex[keep] == 1).astype(np.float64)
    if kind == "Y":
        keep = sex == 1
        return (keep if keep.any() else None), None
    return np.ones(sex.size, dtype=bool), None
