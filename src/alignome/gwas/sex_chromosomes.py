"""The sex chromosomes and chrMT in a genome scan, as ``plink2 --glm`` treats them by default.

Checked against plink2 (tests/gwas/test_plink.py): genotypes are used as the ``.bed``
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

from alignome.io.chromosomes import chromosome_kind

#: Kinds whose calls count copies out of one: effect sizes are reported per copy of that one.
HAPLOID = ("Y", "MT")


def sex_chromosome(code: object) -> str:
    """``"X"``, ``"Y"``, ``"MT"`` or ``""`` (autosomal treatment) for a ``.bim`` chromosome code.

    Codes are read as PLINK reads them (:func:`alignome.io.chromosomes.chromosome_kind`: ``chrX``, ``23``,
    ``M``, …); a contig PLINK would not know is scanned like an autosome.
    """
    return chromosome_kind(code)


def chromosome_runs(chroms) -> list[tuple[int, int, str]]:
    """``(start, stop, kind)`` of the consecutive variants of the same kind (see :func:`sex_chromosome`)."""
    chroms = np.asarray(chroms, dtype=object)
    if chroms.size == 0:
        return []
    # the kind of each run of equal codes, then runs of equal kinds
    heads = np.flatnonzero(np.concatenate(([True], chroms[1:] != chroms[:-1])))
    head_kinds = [sex_chromosome(c) for c in chroms[heads]]
    runs: list[tuple[int, int, str]] = []
    for head, stop, kind in zip(heads.tolist(), [*heads[1:].tolist(), chroms.size], head_kinds):
        if runs and runs[-1][2] == kind:
            runs[-1] = (runs[-1][0], stop, kind)
        else:
            runs.append((head, stop, kind))
    return runs


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
