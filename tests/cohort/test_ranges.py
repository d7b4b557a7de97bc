"""Values outside their physical range: an age is an error naming the row, an MMSE is dropped and counted."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from alignome.cohort import load_cohort
from alignome.cohort.image_cohort import read_image_manifest
from alignome.errors import DataError

from tests.helpers.cohort_files import VISITS, VOLUMES, write_cohort


def test_a_negative_visit_age_names_the_file_and_row(tmp_path):
    visits = VISITS.replace("S002,65.5,AD", "S002,-65.5,AD")
    with pytest.raises(DataError) as err:
        load_cohort(write_cohort(tmp_path, visits=visits), n_snps=2)
    text = str(err.value)
    assert "visits.csv" in text and "row 4" in text and "-65.5" in text and "fix:" in text


def test_a_negative_scan_age_names_the_file_and_row(tmp_path):
    volumes = VOLUMES.replace("S003,80.5,", "S003,-80.5,")
    with pytest.raises(DataError) as err:
        load_cohort(write_cohort(tmp_path, volumes=volumes), n_snps=2)
    assert "volumes.csv" in str(err.value) and "row 5" in str(err.value)


def test_an_age_in_months_is_caught(tmp_path):
    visits = VISITS.replace("S001,70.0,CN", "S001,840,CN")
    with pytest.raises(DataError, match="months"):
        load_cohort(write_cohort(tmp_path, visits=visits), n_snps=2)


def test_a_negative_age_in_the_mri_manifest_names_the_row(tmp_path):
    for i in (1, 2, 3):
        data = np.random.default_rng(i).random((8, 8, 8)).astype(np.float32)
        nib.save(nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0])), str(tmp_path / f"{i}.nii"))
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"subject": ["a", "a", "b"], "path": ["1.nii", "2.nii", "3.nii"], "age": [70.0, 71.0, -3.0]}).to_csv(
        manifest, index=False)
    with pytest.raises(DataError) as err:
        read_image_manifest(manifest, jobs=1)
    assert "manifest.csv" in str(err.value) and "row 4" in str(err.value) and "-3" in str(err.value)


def test_an_mmse_outside_0_to_30_is_dropped_and_counted_and_the_visit_kept(tmp_path):
    visits = VISITS.replace("S002,65.5,AD,20", "S002,65.5,AD,300")
    cohort = load_cohort(write_cohort(tmp_path, visits=visits), n_snps=2)
    row = cohort.assessments.query("subject == 'S002' and age == 65.5").iloc[0]
    assert pd.isna(row["mmse"]) and row["diagnosis"] == "AD"
    (drop,) = [d for d in cohort.drops if "mmse" in d.reason]
    assert drop.count == 1 and "row 4: 300" in str(drop) and "dropped 1 mmse value(s)" in str(drop)
    assert len(cohort.assessments) == 6
