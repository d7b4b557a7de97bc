"""NIfTI cohorts: manifest and BIDS-like folder reading, file validation, drops."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from alignome.cohort.image_cohort import ImageCohort, read_bids_folder, read_image_manifest
from alignome.io.nifti_check import (
    BAD_AFFINE,
    CONSTANT,
    MISSING,
    NON_FINITE,
    IMPLAUSIBLE,
    NOT_3D,
    UNREADABLE,
    check_nifti,
    reason_category,
)
from alignome.errors import DataError

SHAPE = (16, 18, 16)


def volume(seed: int = 0, shape: tuple[int, ...] = SHAPE) -> np.ndarray:
    return np.random.default_rng(seed).random(shape).astype(np.float32) + 0.1


def save(path: Path, data: np.ndarray, affine: np.ndarray | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, np.diag([1.5, 1.5, 1.5, 1.0]) if affine is None else affine), str(path))
    return path


def truncated(path: Path) -> Path:
    save(path, volume(3))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return path


def sform_row(path: Path, row: tuple[float, float, float, float]) -> Path:
    """An uncompressed NIfTI whose srow_x is overwritten (nibabel refuses to write such affines)."""
    save(path, volume(4))
    raw = bytearray(path.read_bytes())
    raw[280:296] = struct.pack("<4f", *row)
    path.write_bytes(bytes(raw))
    return path


BAD_FILES = {
    "missing": (MISSING, lambda p: p),
    "truncated": (UNREADABLE, truncated),
    "garbage": (UNREADABLE, lambda p: (p.write_bytes(gzip.compress(b"not a nifti" * 50)), p)[1]),
    "four_d": (NOT_3D, lambda p: save(p, volume(5, SHAPE + (2,)))),
    "two_d": (NOT_3D, lambda p: save(p, volume(5, (16, 16)))),
    "nan": (NON_FINITE, lambda p: save(p, np.where(volume(6) > 0.9, np.nan, volume(6)).astype(np.float32))),
    "inf": (NON_FINITE, lambda p: save(p, np.where(volume(6) > 0.9, np.inf, volume(6)).astype(np.float32))),
    "zeros": (CONSTANT, lambda p: save(p, np.zeros(SHAPE, np.float32))),
    "constant": (CONSTANT, lambda p: save(p, np.full(SHAPE, 7.0, np.float32))),
    "400 mm voxels": (IMPLAUSIBLE, lambda p: save(p, volume(7), np.diag([400.0, 400.0, 400.0, 1.0]))),
    "0.01 mm voxels": (IMPLAUSIBLE, lambda p: save(p, volume(7), np.diag([1.0, 0.01, 1.0, 1.0]))),
    "2 m field of view": (IMPLAUSIBLE, lambda p: save(p, volume(7, (100, 8, 8)), np.diag([19.0, 1.0, 1.0, 1.0]))),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_check_nifti_names_each_problem(tmp_path, case):
    expected, make = BAD_FILES[case]
    path = make(tmp_path / f"{case.replace(' ', '_')}.nii.gz")
    reason = check_nifti(path)
    assert reason is not None and reason_category(reason) == expected


@pytest.mark.parametrize("row", [(0.0, 0.0, 0.0, 0.0), (float("nan"), 0.0, 0.0, 0.0)])
def test_check_nifti_rejects_bad_affines(tmp_path, row):
    assert check_nifti(sform_row(tmp_path / "bad_affine.nii", row)) == BAD_AFFINE


def test_check_nifti_accepts_3d_and_4d_with_last_axis_one(tmp_path):
    assert check_nifti(save(tmp_path / "a.nii.gz", volume())) is None
    assert check_nifti(save(tmp_path / "b.nii", volume()[..., None])) is None
    assert check_nifti(save(tmp_path / "c.nii.gz", (volume() * 1000).astype(np.int16))) is None


# ----------------------------------------------------------------------------- manifest


def cohort_folder(tmp_path: Path) -> Path:
    """A manifest with good and bad files (relative paths), in subject-then-age order."""
    images = tmp_path / "study" / "images"
    rows = []

    def add(subject, session, age, make=None, dx="CN", seed=0):
        name = f"{subject}_{session}.nii.gz"
        if make is None:
            save(images / name, volume(seed))
        else:
            make(images / name)
        rows.append({"subject": subject, "session": session, "age": age, "path": f"images/{name}",
                     "modality": "T1w", "diagnosis": dx, "sex": "F" if subject < "s03" else "M"})

    add("s01", "ses-1", 70.0, seed=1)
    add("s01", "ses-2", 71.5, seed=2, dx="MCI")
    add("s01", "ses-3", 73.0, seed=3, dx="AD")
    add("s02", "ses-1", 65.0, seed=4)
    add("s02", "ses-2", 66.0, make=truncated)                       # dropped: truncated
    add("s03", "ses-1", 80.0, make=BAD_FILES["four_d"][1])          # dropped: 4D
    add("s03", "ses-2", 81.0, make=lambda p: save(p, volume(7)[..., None]))  # kept: 4D, last axis 1
    add("s03", "ses-3", 82.0, seed=8, dx="LMCI")
    add("s04", "ses-1", 60.0, make=BAD_FILES["nan"][1])             # dropped: NaN
    add("s04", "ses-2", 61.0, make=BAD_FILES["constant"][1])        # dropped: constant
    add("s05", "ses-1", 75.0, make=lambda p: p)                     # dropped: missing
    add("s05", "ses-2", 76.0, seed=9)
    add("s06", "ses-1", 77.0, make=BAD_FILES["400 mm voxels"][1])   # dropped: absurd affine
    add("s06", "ses-2", 78.0, seed=10)
    manifest = tmp_path / "study" / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


def test_manifest_drops_every_bad_file_with_its_reason_and_keeps_good_rows(tmp_path):
    manifest = cohort_folder(tmp_path)
    cohort = read_image_manifest(manifest, jobs=1)
    assert isinstance(cohort, ImageCohort)
    scans = cohort.scans
    assert list(scans["scan_id"]) == ["s01_ses-1", "s01_ses-2", "s01_ses-3", "s02_ses-1",
                                      "s03_ses-2", "s03_ses-3", "s05_ses-2", "s06_ses-2"]
    assert list(scans.columns[:8]) == ["scan_id", "subject", "session", "age", "visit", "path", "modality", "diagnosis"]
    assert isinstance(scans.index, pd.RangeIndex)
    assert list(scans["visit"]) == [0, 1, 2, 0, 0, 1, 0, 0]
    assert list(scans["diagnosis"]) == ["CN", "MCI", "AD", "CN", "CN", "MCI", "CN", "CN"]
    assert list(scans["sex"]) == ["F", "F", "F", "F", "M", "M", "M", "M"]
    # each row kept its own file (no mix-up after parallel validation and sorting)
    for row in scans.itertuples():
        assert Path(row.path).is_absolute()
        assert Path(row.path).name == f"{row.subject}_{row.session}.nii.gz"
        assert Path(row.path).is_file()
    # nothing silently lost: every dropped row is counted under its reason
    by_reason = {reason_category(d.reason.split(":")[0]): d for d in cohort.drops}
    assert {k: d.count for k, d in by_reason.items()} == {
        UNREADABLE: 1, NOT_3D: 1, NON_FINITE: 1, CONSTANT: 1, MISSING: 1, IMPLAUSIBLE: 1}
    assert sum(d.count for d in cohort.drops) + len(scans) == 14
    assert "s06_ses-1.nii.gz" in by_reason[IMPLAUSIBLE].reason and "400 mm" in by_reason[IMPLAUSIBLE].reason
    assert "s02_ses-2.nii.gz" in by_reason[UNREADABLE].reason
    assert "s03_ses-1.nii.gz" in by_reason[NOT_3D].reason
    assert "s05_ses-1.nii.gz" in by_reason[MISSING].reason
    assert all("manifest.csv" in d.source for d in cohort.drops)
    # single-visit subjects are listed but kept
    assert cohort.single_visit_subjects == ["s02", "s05", "s06"]
    assert {"s02", "s05"} <= set(scans["subject"])


def test_parallel_validation_gives_the_same_cohort(tmp_path):
    manifest = cohort_folder(tmp_path)
    one = read_image_manifest(manifest, jobs=1)
    two = read_image_manifest(manifest, jobs=2)
    pd.testing.assert_frame_equal(one.scans, two.scans)
    assert one.drops == two.drops


def test_age_from_date_and_baseline_age_and_default_sessions(tmp_path):
    for name, seed in [("a.nii.gz", 1), ("b.nii.gz", 2), ("c.nii.gz", 3)]:
        save(tmp_path / name, volume(seed))
    manifest = tmp_path / "m.tsv"
    pd.DataFrame({
        "RID": ["7", "7", "8"],
        "file": ["b.nii.gz", "a.nii.gz", "c.nii.gz"],
        "scan_date": ["2012-01-01", "2010-01-01", "2011-06-01"],
        "baseline_age": ["70", "70", "55.5"],
    }).to_csv(manifest, sep="\t", index=False)
    cohort = read_image_manifest(manifest, columns={"subject": "RID", "path": "file", "date": "scan_date"}, jobs=1)
    scans = cohort.scans
    assert list(scans["subject"]) == ["7", "7", "8"]
    assert list(scans["session"]) == ["00", "01", "00"]          # default: visit order by age
    assert [Path(p).name for p in scans["path"]] == ["a.nii.gz", "b.nii.gz", "c.nii.gz"]
    assert scans["age"].tolist() == pytest.approx([70.0, 70.0 + 730 / 365.25, 55.5])
    assert list(scans["modality"]) == ["T1w", "T1w", "T1w"]
    assert scans["diagnosis"].isna().all()
    assert cohort.single_visit_subjects == ["8"]


def test_modality_filter_is_recorded(tmp_path):
    save(tmp_path / "t1.nii.gz", volume(1))
    save(tmp_path / "fl.nii.gz", volume(2))
    manifest = tmp_path / "m.csv"
    pd.DataFrame({"subject": ["a", "a"], "session": ["1", "1"], "age": [60, 60],
                  "modality": ["T1w", "FLAIR"], "path": ["t1.nii.gz", "fl.nii.gz"]}).to_csv(manifest, index=False)
    cohort = read_image_manifest(manifest, jobs=1)
    assert list(cohort.scans["path"].map(lambda p: Path(p).name)) == ["t1.nii.gz"]
    assert [d.count for d in cohort.drops] == [1] and "FLAIR" in cohort.drops[0].reason
    with pytest.raises(DataError, match="modalities present"):
        read_image_manifest(manifest, modality="T2w", jobs=1)


def test_duplicate_subject_session_is_an_error_naming_the_rows(tmp_path):
    save(tmp_path / "a.nii.gz", volume(1))
    manifest = tmp_path / "m.csv"
    pd.DataFrame({"subject": ["x", "y", "y"], "session": ["1", "1", "1"], "age": [60, 61, 62],
                  "path": ["a.nii.gz"] * 3}).to_csv(manifest, index=False)
    with pytest.raises(DataError) as info:
        read_image_manifest(manifest, jobs=1)
    assert "rows [3, 4]" in str(info.value) and "m.csv" in str(info.value)


def test_missing_column_names_file_column_and_fix(tmp_path):
    manifest = tmp_path / "m.csv"
    pd.DataFrame({"subject": ["x"], "file": ["a.nii.gz"], "age": [60]}).to_csv(manifest, index=False)
    with pytest.raises(DataError) as info:
        read_image_manifest(manifest, jobs=1)
    error = info.value
    assert error.file == str(manifest) and error.field == "path" and "columns" in (error.fix or "")


def test_unknown_diagnosis_label_names_value_and_fix(tmp_path):
    save(tmp_path / "a.nii.gz", volume(1))
    manifest = tmp_path / "m.csv"
    pd.DataFrame({"subject": ["x"], "age": [60], "path": ["a.nii.gz"], "diagnosis": ["SMC"]}).to_csv(manifest, index=False)
    with pytest.raises(DataError) as info:
        read_image_manifest(manifest, jobs=1)
    assert "'SMC'" in str(info.value) and "diagnosis_map" in (info.value.fix or "")
    mapped = read_image_manifest(manifest, jobs=1, diagnosis_map={"CN": ["CN", "SMC"], "MCI": ["MCI"], "AD": ["AD"]})
    assert list(mapped.scans["diagnosis"]) == ["CN"]


def test_no_usable_row_names_manifest_and_commonest_reason(tmp_path):
    manifest = tmp_path / "m.csv"
    save(tmp_path / "flat.nii.gz", np.zeros(SHAPE, np.float32))
    pd.DataFrame({"subject": ["a", "b", "c"], "age": [60, 61, 62],
                  "path": ["gone1.nii.gz", "gone2.nii.gz", "flat.nii.gz"]}).to_csv(manifest, index=False)
    with pytest.raises(DataError) as info:
        read_image_manifest(manifest, jobs=1)
    text = str(info.value)
    assert "m.csv" in text and "no usable scan" in text and MISSING in text and "2 row(s)" in text


def test_truth_is_aligned_to_scans(tmp_path):
    manifest = cohort_folder(tmp_path)
    truth = tmp_path / "truth.csv"
    ids = ["s05_ses-2", "s01_ses-1", "s02_ses-2", "s01_ses-3", "s01_ses-2", "s02_ses-1", "s03_ses-2", "s03_ses-3", "s06_ses-2"]
    pd.DataFrame({"scan_id": ids, "ventricle_ml": np.arange(len(ids), dtype=float)}).to_csv(truth, index=False)
    cohort = read_image_manifest(manifest, jobs=1, truth=truth)
    assert list(cohort.truth["scan_id"]) == list(cohort.scans["scan_id"])
    lookup = dict(zip(ids, range(len(ids))))
    assert cohort.truth["ventricle_ml"].tolist() == [float(lookup[i]) for i in cohort.scans["scan_id"]]


# ----------------------------------------------------------------------------- BIDS


def bids_folder(tmp_path: Path, sessions_age: bool = True) -> Path:
    root = tmp_path / "bids"
    for s, subject in enumerate(["sub-01", "sub-02"]):
        for t, session in enumerate(["ses-01", "ses-02"]):
            anat = root / subject / session / "anat"
            save(anat / f"{subject}_{session}_T1w.nii.gz", volume(10 * s + t))
            save(anat / f"{subject}_{session}_FLAIR.nii.gz", volume(99))
        table = {"session_id": ["ses-01", "ses-02"], "acq_time": ["2015-03-01", "2017-03-01"]}
        if sessions_age:
            table["age"] = [70 + s, 72 + s]
        pd.DataFrame(table).to_csv(root / subject / f"{subject}_sessions.tsv", sep="\t", index=False)
    truncated(root / "sub-02" / "ses-02" / "anat" / "sub-02_ses-02_T1w.nii.gz")
    pd.DataFrame({"participant_id": ["sub-01", "sub-02"], "age": ["60", "n/a"], "sex": ["F", "M"],
                  "diagnosis": ["CN", "AD"]}).to_csv(root / "participants.tsv", sep="\t", index=False)
    return root


def test_bids_folder_reads_sessions_ages_and_participants(tmp_path):
    cohort = read_bids_folder(bids_folder(tmp_path), jobs=1)
    scans = cohort.scans
    assert list(scans["scan_id"]) == ["sub-01_ses-01", "sub-01_ses-02", "sub-02_ses-01"]
    assert scans["age"].tolist() == [70.0, 72.0, 71.0]
    assert list(scans["diagnosis"]) == ["CN", "CN", "AD"]
    assert list(scans["sex"]) == ["F", "F", "M"]
    assert all(Path(p).name.endswith("_T1w.nii.gz") for p in scans["path"])
    assert [d.count for d in cohort.drops] == [1] and "sub-02_ses-02_T1w.nii.gz" in cohort.drops[0].reason
    assert cohort.single_visit_subjects == ["sub-02"]


def test_bids_ages_from_acq_time_and_participant_age(tmp_path):
    cohort = read_bids_folder(bids_folder(tmp_path, sessions_age=False), jobs=1)
    scans = cohort.scans
    # sub-01: participants age 60 at the first acq_time; sub-02 has no age -> dropped and counted
    assert scans["age"].tolist() == pytest.approx([60.0, 60.0 + 731 / 365.25])
    [no_age] = [d for d in cohort.drops if d.reason.startswith("no age")]
    assert no_age.count == 2 and "sub-02_ses-01_T1w.nii.gz" in no_age.reason


def test_bids_without_any_age_explains_what_is_needed(tmp_path):
    root = bids_folder(tmp_path, sessions_age=False)
    (root / "participants.tsv").unlink()
    with pytest.raises(DataError) as info:
        read_bids_folder(root, jobs=1)
    assert "sessions.tsv" in (info.value.fix or "") and "participants.tsv" in (info.value.fix or "")


def test_bids_wrong_modality_lists_what_is_there(tmp_path):
    with pytest.raises(DataError, match="FLAIR"):
        read_bids_folder(bids_folder(tmp_path), modality="T2w", jobs=1)
