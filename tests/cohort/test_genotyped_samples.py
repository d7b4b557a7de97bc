"""Genotype samples without visits are kept out and counted; a keep file restricts the samples like `plink --keep`."""

from __future__ import annotations

import numpy as np
import pytest
from tests.helpers.cohort_files import GENOTYPES, SUBJECTS, VARIANTS, write_cohort

from alignome.cohort import load_cohort
from alignome.errors import DataError

EXTRA = ["X01", "X02", "X03"]
# extra samples homozygous for A1 everywhere: were they used, every allele mean would move
WITH_EXTRA = np.vstack([GENOTYPES, np.full((len(EXTRA), len(VARIANTS)), 2.0, dtype=np.float32)])


def _drops(cohort, reason: str) -> list:
    return [d for d in cohort.drops if reason in d.reason]


def test_extra_fam_samples_are_counted_and_not_used(tmp_path):
    data = write_cohort(tmp_path, sumstats=None, subjects=SUBJECTS + EXTRA, genotypes=WITH_EXTRA)
    cohort = load_cohort(data, n_snps=None)
    assert list(cohort.genotypes.index) == SUBJECTS
    np.testing.assert_array_equal(cohort.genotypes[VARIANTS].to_numpy(), GENOTYPES)
    (drop,) = _drops(cohort, "not in the visits table")
    assert drop.count == len(EXTRA) and drop.source == "genotypes (geno.fam)" and "X01" in str(drop)


def test_a_keep_file_of_fid_iid_lines_restricts_the_samples(tmp_path):
    (tmp_path / "keep.txt").write_text("F1 S001\nF2 S002\nF9 X01\n")
    data = write_cohort(tmp_path, sumstats=None, subjects=SUBJECTS + EXTRA, genotypes=WITH_EXTRA,
                        allow_missing_modality=True)
    data.genotypes.keep = tmp_path / "keep.txt"
    cohort = load_cohort(data, n_snps=None)
    np.testing.assert_array_equal(cohort.genotypes.loc[["S001", "S002"], VARIANTS].to_numpy(), GENOTYPES[:2])
    assert cohort.genotypes.loc["S003"].isna().all()  # has visits, left out by the keep file
    assert _drops(cohort, "not in the keep file keep.txt")[0].count == 3  # S003, X02, X03
    assert _drops(cohort, "not in the visits table")[0].count == 1  # X01: kept, but no visits


def test_a_keep_file_of_iids_without_the_cohorts_subjects_names_the_fix(tmp_path):
    (tmp_path / "keep.txt").write_text("S001\nS002\n")
    data = write_cohort(tmp_path, sumstats=None, subjects=SUBJECTS + EXTRA, genotypes=WITH_EXTRA)
    data.genotypes.keep = tmp_path / "keep.txt"
    with pytest.raises(DataError) as info:  # S003 has visits but is not kept
        load_cohort(data, n_snps=None)
    assert "S003" in str(info.value) and "allow_missing_modality" in str(info.value)
    (tmp_path / "keep.txt").write_text("A B\nC D\n")
    with pytest.raises(DataError) as info:
        load_cohort(data, n_snps=None)
    assert "keep.txt" in str(info.value) and "IID" in str(info.value)


def test_extra_rows_of_a_dosage_table_are_counted(tmp_path):
    rows = [f"{s},{','.join('' if np.isnan(v) else str(v) for v in g)}" for s, g in zip(SUBJECTS + EXTRA, WITH_EXTRA)]
    (tmp_path / "dosage.csv").write_text("IID," + ",".join(VARIANTS) + "\n" + "\n".join(rows) + "\n")
    data = write_cohort(tmp_path, sumstats=None)
    data.genotypes.bfile, data.genotypes.dosage = None, tmp_path / "dosage.csv"
    cohort = load_cohort(data, n_snps=None)
    assert list(cohort.genotypes.index) == SUBJECTS
    assert _drops(cohort, "not in the visits table")[0].source == "genotypes (dosage.csv)"
