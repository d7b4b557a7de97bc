"""Every bad input gives a DataError naming the file, the column and the fix."""

from __future__ import annotations

import pytest
from tests.helpers.cohort_files import VISITS, VOLUMES, write_cohort

from alignome.cohort import load_cohort
from alignome.errors import DataError


def _error(data, n_snps=2) -> str:
    with pytest.raises(DataError) as info:
        load_cohort(data, n_snps)
    return str(info.value)


def test_missing_column(tmp_path):
    data = write_cohort(tmp_path, visits=VISITS.replace("dx,", "diag,"))
    text = _error(data)
    assert "visits.csv" in text and "'dx'" in text and "diag" in text  # names it and lists available
    assert "columns: {diagnosis: <your column>}" in text


def test_non_numeric_value_names_row(tmp_path):
    text = _error(write_cohort(tmp_path, visits=VISITS.replace("S002,66.5,AD,,M", "S002,66.5,AD,2O,M")))
    assert "visits.csv" in text and "'mmse'" in text and "row 5" in text and "'2O'" in text and "fix:" in text


def test_non_numeric_region_value(tmp_path):
    text = _error(write_cohort(tmp_path, volumes=VOLUMES.replace("3500.0", "35OO.0")))
    assert "volumes.csv" in text and "Left-Hippocampus" in text and "row 4" in text and "fix:" in text


def test_duplicated_visit(tmp_path):
    text = _error(write_cohort(tmp_path, visits=VISITS + "S001,71.0,MCI,26,F,16\n"))
    assert "visits.csv" in text and "'age'" in text and "rows 3 and 8" in text and "fix:" in text


def test_visits_at_the_same_whole_year_of_age_say_how_to_give_exact_ages(tmp_path):
    text = _error(write_cohort(tmp_path, visits=VISITS + "S001,71,MCI,26,F,16\n"))
    assert "rows 3 and 8" in text and "whole years" in text and "days since baseline / 365.25" in text
    assert "date: <dates>, baseline_age:" in text
    assert "whole years" not in _error(write_cohort(tmp_path, visits=VISITS + "S002,65.5,AD,21,M,12\n"))


def test_duplicated_scan(tmp_path):
    text = _error(write_cohort(tmp_path, volumes=VOLUMES + "S002,65.5,3501,3601\n"))
    assert "volumes.csv" in text and "rows 4 and 6" in text


def test_unknown_diagnosis_label(tmp_path):
    text = _error(write_cohort(tmp_path, visits=VISITS.replace("MCI", "Prodromal")))
    assert "visits.csv" in text and "'dx'" in text and "row 3" in text and "Prodromal" in text
    assert "diagnosis_map" in text


def test_unknown_sex_and_conflicting_sex(tmp_path):
    assert "sex_map" in _error(write_cohort(tmp_path, visits=VISITS.replace("S002,65.5,AD,20,M", "S002,65.5,AD,20,X")))
    text = _error(write_cohort(tmp_path, visits=VISITS.replace("S002,66.5,AD,,M", "S002,66.5,AD,,F")))
    assert "S002" in text and "'sex'" in text


def test_subject_without_genotypes(tmp_path):
    visits = VISITS + "S004,60.0,CN,30,M,10\n"
    volumes = VOLUMES + "S004,60.0,4000,4000\n"
    text = _error(write_cohort(tmp_path, visits, volumes))
    assert "visits.csv" in text and "subject" in text and "S004" in text and "geno.bed" in text
    assert "allow_missing_modality: true" in text


def test_subject_without_visits_is_always_an_error(tmp_path):
    volumes = VOLUMES + "S009,60.0,4000,4000\n"
    text = _error(write_cohort(tmp_path, volumes=volumes, allow_missing_modality=True))
    assert "volumes.csv" in text and "S009" in text and "fix:" in text


def test_truncated_bed(tmp_path):
    data = write_cohort(tmp_path)
    bed = tmp_path / "geno.bed"
    bed.write_bytes(bed.read_bytes()[:-1])
    text = _error(data)
    assert "geno.bed" in text and "truncated" in text and "fix:" in text


def test_missing_fam(tmp_path):
    data = write_cohort(tmp_path)
    (tmp_path / "geno.fam").unlink()
    text = _error(data)
    assert "geno.fam" in text and "not found" in text and "fix:" in text


def test_duplicate_variant_ids(tmp_path):
    data = write_cohort(tmp_path)
    bim = tmp_path / "geno.bim"
    bim.write_text(bim.read_text().replace("rs2", "rs1"))
    text = _error(data)
    assert "geno.bim" in text and "rs1" in text and "fix:" in text


def test_p_value_out_of_range(tmp_path):
    text = _error(write_cohort(tmp_path, sumstats="variant\tp\nrs1\t0.5\nrs2\t1.5\n"))
    assert "sumstats.tsv" in text and "'p'" in text and "row 3" in text and "fix:" in text
    text = _error(write_cohort(tmp_path, sumstats="variant\tp\nrs1\t0\n"))
    assert "row 2" in text


def test_too_many_variants_without_sumstats(tmp_path):
    text = _error(write_cohort(tmp_path, sumstats=None), n_snps=2)
    assert "sumstats" in text and "fix:" in text


def test_missing_file(tmp_path):
    data = write_cohort(tmp_path)
    (tmp_path / "volumes.csv").unlink()
    text = _error(data)
    assert "volumes.csv" in text and "not found" in text
