"""Tests of the simulated longitudinal 3D MRI cohort (alignome.simulate.mri3d)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from alignome.cli import app
from alignome.errors import ConfigError
from alignome.simulate.brain3d import (
    ENTORHINAL_SEMI_AXES_MM,
    HIPPOCAMPUS_SEMI_AXES_MM,
    load_atlas,
    output_grid,
)
from alignome.simulate.mri3d import Mri3dParams, design_cohort, render_subject, simulate_mri3d

MANIFEST_COLUMNS = ["subject", "session", "age", "modality", "path", "diagnosis", "sex"]
STAGE = {"CN": 0, "MCI": 1, "AD": 2}


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return simulate_mri3d(tmp_path_factory.mktemp("mri3d") / "a", subjects=5, visits=(2, 3), seed=5, jobs=1)


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(4.0)


@pytest.fixture(scope="module")
def stable_subjects(atlas):
    """Noise-free renders of 3 subjects who stay CN and 3 who stay AD over 3 visits."""
    designs = design_cohort(40, (3, 3), seed=0)
    picked = [d for d in designs if set(d.diagnoses) == {"CN"}][:3] + [
        d for d in designs if set(d.diagnoses) == {"AD"}
    ][:3]
    assert len(picked) == 6
    grid = output_grid(4.0)
    return [(d, render_subject(d, atlas, grid, Mri3dParams(), noise=False)) for d in picked]


def test_files_manifest_and_truth_are_consistent(cohort: Path) -> None:
    assert yaml.safe_load((cohort / "cohort.yaml").read_text()) == {"manifest": "manifest.csv", "truth": "truth.csv"}
    man = pd.read_csv(cohort / "manifest.csv")
    truth = pd.read_csv(cohort / "truth.csv")
    assert list(man.columns) == MANIFEST_COLUMNS
    assert (man["modality"] == "T1w").all()
    assert man["subject"].nunique() == 5
    assert man.groupby("subject").size().between(2, 3).all()
    for row in man.itertuples():
        assert row.path == f"images/{row.subject}/{row.session}/anat/{row.subject}_{row.session}_T1w.nii.gz"
        assert (cohort / row.path).is_file()
    assert len(list((cohort / "images").rglob("*.nii.gz"))) == len(man)
    # truth: one row per scan, same ages and diagnoses
    assert list(truth["scan_id"]) == [f"{s}_{e}" for s, e in zip(man["subject"], man["session"])]
    assert truth["scan_id"].is_unique
    for col in ("subject", "session", "age", "diagnosis", "sex"):
        assert list(truth[col]) == list(man[col]), col
    for col in ("ventricle_ml", "hippocampus_ml", "brain_ml", "entorhinal_ml", "disease_rate", "subject_pace",
                "head_scale"):
        assert truth[col].notna().all() and (truth[col] > 0).all(), col
    assert (truth["disease_stage"] >= 0).all() and truth["scanner"].isin(["A", "B", "C"]).all()
    for _, g in truth.groupby("subject"):
        converted = (g["baseline_diagnosis"] != "AD").iloc[0] and (g["diagnosis"] == "AD").any()
        assert g["converts_to_ad"].iloc[0] == converted
        if converted:
            assert g["conversion_age"].iloc[0] == g.loc[g["diagnosis"] == "AD", "age"].iloc[0]
    for _, g in man.groupby("subject"):
        assert 60.0 <= g["age"].iloc[0] <= 88.0
        gaps = np.diff(g["age"].to_numpy())
        assert ((gaps >= 1.0 - 1e-3) & (gaps <= 2.0 + 1e-3)).all()
        assert g["sex"].nunique() == 1
        stages = g["diagnosis"].map(STAGE).to_numpy()
        assert (np.diff(stages) >= 0).all() and (np.diff(stages) <= 1).all()  # converts forward only


def test_images_are_float32_in_mni_space_with_the_voxel_size(cohort: Path, tmp_path: Path) -> None:
    man = pd.read_csv(cohort / "manifest.csv")
    grid = output_grid(4.0)
    assert grid.shape == (50, 59, 48)
    for path in man["path"]:
        raw = (cohort / path).read_bytes()
        assert raw[4:8] == b"\0\0\0\0"  # gzip mtime 0: no time stamp in the file
        img = nib.load(cohort / path)
        data = np.asarray(img.dataobj)
        assert data.dtype == np.float32 and data.shape == grid.shape
        assert np.allclose(img.header.get_zooms(), (4.0, 4.0, 4.0))
        assert np.allclose(img.affine, grid.affine)
        assert int(img.header["sform_code"]) == 4 and nib.aff2axcodes(img.affine) == ("R", "A", "S")
        assert np.isfinite(data).all() and data.min() >= 0.0
        # skull-stripped: zero far outside the brain, bright white matter inside
        inv = np.linalg.inv(img.affine)
        corner = np.round(inv @ [-90, -120, -60, 1])[:3].astype(int)
        wm = np.round(inv @ [28, -10, 30, 1])[:3].astype(int)  # right centrum semiovale
        assert data[tuple(corner)] == 0.0
        assert data[tuple(wm)] > np.percentile(data[data > 0], 50)
    # another voxel size gives another grid and affine
    out = simulate_mri3d(tmp_path / "v6", subjects=1, visits=(1, 1), voxel_mm=6.0, seed=0, jobs=1)
    img = nib.load(out / pd.read_csv(out / "manifest.csv")["path"][0])
    assert np.allclose(img.header.get_zooms(), (6.0, 6.0, 6.0))
    assert img.shape == output_grid(6.0).shape == (33, 39, 32)
    assert np.allclose(img.affine[:3, :3], 6.0 * np.eye(3)) and np.allclose(img.affine[:3, 3], (-98, -134, -72))


def test_same_seed_same_bytes_whatever_jobs_other_seed_other_data(cohort: Path, tmp_path: Path) -> None:
    again = simulate_mri3d(tmp_path / "b", subjects=5, visits=(2, 3), seed=5, jobs=2)
    assert _hashes(again) == _hashes(cohort)
    other = simulate_mri3d(tmp_path / "c", subjects=5, visits=(2, 3), seed=6, jobs=1)
    assert not pd.read_csv(other / "truth.csv").equals(pd.read_csv(cohort / "truth.csv"))
    first = "images/sub-0001/ses-01/anat/sub-0001_ses-01_T1w.nii.gz"
    assert not np.array_equal(nib.load(other / first).get_fdata(), nib.load(cohort / first).get_fdata())
    # subject i does not depend on how many subjects are simulated
    fewer = simulate_mri3d(tmp_path / "c", subjects=2, visits=(2, 3), seed=5, jobs=1)
    assert (fewer / first).read_bytes() == (cohort / first).read_bytes()
    # rewriting a folder with fewer subjects leaves no stale images of the earlier cohort behind
    assert sorted(p.parts[-4] for p in (fewer / "images").rglob("*.nii.gz")) == sorted(
        pd.read_csv(fewer / "manifest.csv")["subject"]
    )
    assert sorted(p.name for p in (fewer / "images").iterdir()) == ["participants.tsv", "sub-0001", "sub-0002"]


def test_images_hold_the_true_volumes_free_of_pose_and_noise(cohort: Path, atlas) -> None:
    truth = pd.read_csv(cohort / "truth.csv")
    design = design_cohort(5, (2, 3), seed=5)[0]
    scans = render_subject(design, atlas, output_grid(4.0), Mri3dParams(), noise=False)
    mine = truth[truth["subject"] == design.subject]
    assert len(mine) == len(scans)
    assert np.allclose(mine["rendered_ventricle_ml"], [s.ventricle_ml for s in scans], atol=1e-3)
    assert np.allclose(mine["rendered_hippocampus_ml"], [s.hippocampus_ml for s in scans], atol=1e-3)
    assert np.allclose(mine["rendered_entorhinal_ml"], [s.entorhinal_ml for s in scans], atol=1e-3)
    # the renderer finds the deformation that gives each structure its true (model) volume
    for name in ("ventricle", "hippocampus", "brain", "entorhinal"):
        rel = truth[f"rendered_{name}_ml"] / truth[f"{name}_ml"] - 1.0
        assert rel.abs().max() < 0.01, name
        # and within a subject the change between visits, which atrophy rates are made of
        change = np.log(truth[f"rendered_{name}_ml"]).groupby(truth["subject"]).diff().dropna()
        true_change = np.log(truth[f"{name}_ml"]).groupby(truth["subject"]).diff().dropna()
        assert (change - true_change).abs().max() < 0.005, name


def test_ventricles_grow_and_hippocampi_shrink_within_each_subject(cohort: Path) -> None:
    truth = pd.read_csv(cohort / "truth.csv")
    for _, g in truth.groupby("subject"):
        assert (np.diff(g["age"]) > 0).all()
        assert (np.diff(g["ventricle_ml"]) > 0).all()
        assert (np.diff(g["hippocampus_ml"]) < 0).all()
        assert (np.diff(g["entorhinal_ml"]) < 0).all()
        assert (np.diff(g["brain_ml"]) < 0).all()
        assert (np.diff(g["disease_stage"]) > 0).all()
    # plausible volumes: lateral ventricles 5-90 ml, both hippocampi 3-10 ml, both entorhinal cortices 0.7-4.5 ml
    assert truth["ventricle_ml"].between(5, 90).all()
    assert truth["hippocampus_ml"].between(3, 10).all()
    assert truth["entorhinal_ml"].between(0.7, 4.5).all()


def test_atrophy_is_faster_for_ad_than_cn(stable_subjects) -> None:
    def yearly(design, scans, attr):
        years = design.ages[-1] - design.ages[0]
        return (getattr(scans[-1], attr) - getattr(scans[0], attr)) / years

    by_dx: dict[str, dict[str, list[float]]] = {"CN": {}, "AD": {}}
    for design, scans in stable_subjects:
        v = [s.ventricle_ml for s in scans]
        h = [s.hippocampus_ml for s in scans]
        assert (np.diff(v) > 0).all() and (np.diff(h) < 0).all()
        slot = by_dx[design.diagnoses[0]]
        slot.setdefault("ventricle", []).append(yearly(design, scans, "ventricle_ml"))
        slot.setdefault("hippocampus", []).append(yearly(design, scans, "hippocampus_ml"))
        slot.setdefault("entorhinal", []).append(yearly(design, scans, "entorhinal_ml"))
    assert np.mean(by_dx["AD"]["ventricle"]) > 1.5 * np.mean(by_dx["CN"]["ventricle"]) > 0
    assert np.mean(by_dx["AD"]["hippocampus"]) < 1.5 * np.mean(by_dx["CN"]["hippocampus"]) < 0
    assert np.mean(by_dx["AD"]["entorhinal"]) < 1.5 * np.mean(by_dx["CN"]["entorhinal"]) < 0


def test_design_stage_rates_and_conversions() -> None:
    designs = design_cohort(300, (2, 4), seed=1)
    params = Mri3dParams()
    converted = {"CN->MCI": 0, "MCI->AD": 0}
    for d in designs:
        stages = [STAGE[x] for x in d.diagnoses]
        expected = d.rate_multiplier * np.array([params.disease.progression[s] for s in stages])
        assert np.allclose(d.stage_rate, expected)
        assert np.allclose(np.diff(d.stage), d.stage_rate[1:] * np.diff(d.ages))
        for a, b in zip(d.diagnoses, d.diagnoses[1:]):
            if a != b:
                converted[f"{a}->{b}"] += 1
    assert converted["CN->MCI"] > 0 and converted["MCI->AD"] > 0
    # enrolees of a later diagnosis carry a later disease stage, whatever their age
    base = pd.DataFrame({"dx": [d.diagnoses[0] for d in designs], "z": [d.stage[0] for d in designs]})
    means = base.groupby("dx")["z"].mean()
    assert means["AD"] > means["MCI"] > means["CN"]


def test_image_changes_where_the_truth_says(stable_subjects) -> None:
    y = output_grid(4.0).points()

    def box(centre, half):
        return np.all([np.abs(y[i] - centre[i]) <= half[i] for i in range(3)], axis=0)

    ventricles = box((0, -15, 18), (22, 30, 17))
    hippocampi = box((26, -22, -14), (9, 22, 9)) | box((-26, -22, -14), (9, 22, 9))
    entorhinal = box((23, -6, -34), (6, 12, 6)) | box((-23, -6, -34), (6, 12, 6))
    frontal_pole = box((0, 55, 20), (30, 12, 15))
    deep_white_matter = box((25, 25, 30), (6, 6, 6))  # far from the ventricles, hippocampi and the surface
    for design, scans in stable_subjects:
        first, last = scans[0].image, scans[-1].image
        # ventricles expand: their neighbourhood gets darker (CSF); the frontal pole only loses a
        # little at the brain's surface (whole-brain atrophy, 0.4-1.2 %/yr of volume)
        assert last[ventricles].mean() < 0.995 * first[ventricles].mean()
        years = design.ages[-1] - design.ages[0]
        assert 0.0 <= (1.0 - last[frontal_pole].mean() / first[frontal_pole].mean()) / years < 0.02
        if design.diagnoses[0] == "AD":
            assert last[hippocampi].mean() < 0.999 * first[hippocampi].mean()
            assert last[entorhinal].mean() < 0.999 * first[entorhinal].mean()
        # and the change is larger around the ventricles than far from every changing structure
        change = np.abs(last - first)
        assert change[ventricles].mean() > 20 * change[deep_white_matter].mean()


def test_subjects_differ_more_than_visits_of_a_subject(cohort: Path) -> None:
    man = pd.read_csv(cohort / "manifest.csv")
    vols = np.stack([np.asarray(nib.load(cohort / p).dataobj, dtype=np.float64).ravel() for p in man["path"]])
    vols -= vols.mean(axis=1, keepdims=True)
    vols /= np.linalg.norm(vols, axis=1, keepdims=True)
    corr = vols @ vols.T
    subj = man["subject"].to_numpy()
    same = (subj[:, None] == subj[None, :]) & ~np.eye(len(subj), dtype=bool)
    other = subj[:, None] != subj[None, :]
    assert corr[same].mean() > corr[other].mean() + 0.01
    # but visits are not copies of each other: pose, bias field and noise differ
    assert corr[same].max() < 0.99


def test_atlas_anatomy_and_invertible_atrophy(atlas) -> None:
    ml = atlas.grid.spacing**3 / 1000.0
    vent = atlas.ventricles.sum() * ml
    assert 8.0 < vent < 16.0
    x = atlas.grid.origin[0] + atlas.grid.spacing * np.arange(atlas.grid.shape[0])
    left = atlas.ventricles[x < 0].sum() * ml
    assert abs(left / vent - 0.5) < 0.05  # the symmetric template has two equal lateral ventricles
    a, b, c = HIPPOCAMPUS_SEMI_AXES_MM
    assert atlas.hippocampus.sum() * ml == pytest.approx(2 * 4 / 3 * np.pi * a * b * c / 1000, rel=0.05)
    a, b, c = ENTORHINAL_SEMI_AXES_MM
    assert atlas.entorhinal.sum() * ml == pytest.approx(2 * 4 / 3 * np.pi * a * b * c / 1000, rel=0.05)
    # inside the template brain and apart from the hippocampi (each solved for its own volume)
    assert (atlas.entorhinal * (atlas.brain < 0.5)).sum() < 0.05 * atlas.entorhinal.sum()
    assert (atlas.entorhinal * atlas.hippocampus).sum() < 0.02 * atlas.entorhinal.sum()
    grid = output_grid(4.0)
    y = grid.points()
    for flow, dist in ((atlas.ventricle_flow, 15.0), (atlas.hippocampus_flow, -2.0), (atlas.entorhinal_flow, -2.0)):
        moved = flow.follow(y, dist)
        jac = np.stack([np.stack(np.gradient(moved[i], grid.spacing), axis=0) for i in range(3)], axis=0)
        det = np.linalg.det(np.moveaxis(jac, (0, 1), (-2, -1)))
        assert det.min() > 0.0  # no folding
        assert np.abs(moved - y).max() <= abs(dist) + 1e-6


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"visits": (0, 2)}, "visits"),
        ({"visits": (3, 2)}, "visits"),
        ({"visits": 3}, "visits"),
        ({"subjects": 0}, "subjects"),
        ({"voxel_mm": 0.5}, "voxel_mm"),
        ({"seed": -1}, "seed"),
        ({"jobs": 0}, "jobs"),
    ],
)
def test_bad_arguments_raise_config_errors(tmp_path: Path, kwargs: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        simulate_mri3d(tmp_path / "x", **kwargs)
    assert err.value.field == field
    assert not (tmp_path / "x").exists()


def test_out_must_not_be_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        simulate_mri3d(target, subjects=1, visits=(1, 1))


def test_cli_writes_the_cohort_and_reports_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["simulate", "mri3d", "--out", str(out), "--subjects", "2", "--visits-min", "1", "--visits-max", "2"]
    result = runner.invoke(app, args + ["--voxel-mm", "8", "--seed", "3", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    man = pd.read_csv(out / "manifest.csv")
    assert man["subject"].nunique() == 2 and man.groupby("subject").size().between(1, 2).all()
    assert np.allclose(nib.load(out / man["path"][0]).header.get_zooms(), (8.0, 8.0, 8.0))
    assert (out / "truth.csv").is_file() and (out / "cohort.yaml").is_file()
    same = simulate_mri3d(tmp_path / "lib", subjects=2, visits=(1, 2), voxel_mm=8.0, seed=3, jobs=1)
    assert (same / "truth.csv").read_bytes() == (out / "truth.csv").read_bytes()
    bad = runner.invoke(app, ["simulate", "mri3d", "--out", str(tmp_path / "bad"), "--visits-min", "0"])
    assert bad.exit_code == 2
    assert "--visits-min 2" in bad.output


def test_images_folder_reads_as_bids_like_the_manifest(cohort: Path) -> None:
    """participants.tsv and sessions files make images/ a BIDS-like folder with the manifest's scans."""
    from alignome.cohort.image_cohort import read_bids_folder, read_image_manifest

    columns = ["subject", "session", "age", "diagnosis", "path"]
    bids = read_bids_folder(cohort / "images", jobs=1)
    manifest = read_image_manifest(cohort / "manifest.csv", jobs=1)
    assert not bids.drops
    pd.testing.assert_frame_equal(bids.scans[columns], manifest.scans[columns], check_dtype=False)
