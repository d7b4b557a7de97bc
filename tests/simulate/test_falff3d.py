"""Tests of the simulated T1 + fALFF cohort (alignome.simulate.falff3d, alignome.simulate.falff_map)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from typer.testing import CliRunner

from alignome.cli import app
from alignome.errors import ConfigError
from alignome.simulate.brain3d import hippocampus_mask
from alignome.simulate.falff3d import (
    MANIFEST_COLUMNS,
    MmParams,
    design_mm_cohort,
    mm_grid,
    mm_truth_without_images,
    oracle_auc,
    simulate_mm_cohort,
)
from alignome.simulate.falff_map import (
    PCC_CENTRE_MM,
    PCC_SEMI_AXES_MM,
    FalffParams,
    SubjectFunction,
    falff_regions,
    render_falff,
)

VOXEL_MM = 6.0  # 32³ over the 192 mm field: about half a second per subject


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return simulate_mm_cohort(tmp_path_factory.mktemp("mm") / "a", subjects=2, seed=4, voxel_mm=VOXEL_MM, jobs=1)


@pytest.mark.parametrize("voxel_mm, side", [(3.0, 64), (6.0, 32), (12.0, 16)])
def test_grid_covers_the_same_192_mm_field_whatever_the_voxel_size(voxel_mm: float, side: int) -> None:
    grid = mm_grid(voxel_mm)
    assert grid.shape == (side,) * 3
    centre = grid.origin + voxel_mm * (side - 1) / 2.0
    np.testing.assert_allclose(centre, mm_grid(3.0).origin + 3.0 * 63 / 2.0)
    assert side * voxel_mm == pytest.approx(192.0)


def test_manifest_truth_and_images_agree(cohort: Path) -> None:
    man = pd.read_csv(cohort / "manifest.csv")
    truth = pd.read_csv(cohort / "truth.csv")
    assert list(man.columns) == MANIFEST_COLUMNS
    assert set(man["modality"]) == {"T1w", "fALFF"}
    pd.testing.assert_frame_equal(man.drop(columns="path"), truth[[c for c in MANIFEST_COLUMNS if c != "path"]])
    grid = mm_grid(VOXEL_MM)
    for rel in man["path"]:
        img = nib.load(cohort / rel)
        assert img.shape == (32, 32, 32)
        np.testing.assert_allclose(img.affine, grid.affine)
    # every fALFF lies near, never on, the day of its visit's T1
    t1 = man[man["modality"] == "T1w"].set_index(["subject", "session"])["days"]
    falff = man[man["modality"] == "fALFF"].set_index(["subject", "session"])["days"]
    gap = (falff - t1.loc[falff.index]).abs()
    assert (gap >= 1).all() and (gap <= 60).all()
    assert (man.groupby("subject")["days"].min() == 0).all()


def test_paper_grid_is_64_cubed_at_3_mm_around_the_brain() -> None:
    grid = mm_grid(3.0)
    assert grid.shape == (64, 64, 64)
    lo, hi = grid.origin, grid.origin + 3.0 * 63
    # the template brain's box (x −72..72, y −107..73, z −72..82 mm) fits inside
    assert np.all(lo <= [-72, -107, -72]) and np.all(hi >= [72, 73, 82])


def test_same_seed_same_bytes_with_more_jobs_through_the_cli(cohort: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "mm-cohort", "--out", str(tmp_path / "c"), "--subjects", "2",
                                      "--seed", "4", "--voxel-mm", str(VOXEL_MM), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert _hashes(tmp_path / "c") == _hashes(cohort)


def test_a_subject_does_not_change_when_the_cohort_grows() -> None:
    small = mm_truth_without_images(5, seed=3)
    large = mm_truth_without_images(9, seed=3)
    pd.testing.assert_frame_equal(small, large[large["subject"].isin(small["subject"])].reset_index(drop=True))


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="voxel"):
        simulate_mm_cohort(tmp_path, subjects=2, voxel_mm=1.0)
    with pytest.raises(ConfigError, match="subjects"):
        simulate_mm_cohort(tmp_path, subjects=0)


def test_planted_signal_lowers_falff_only_in_the_regions() -> None:
    grid = mm_grid(VOXEL_MM)
    regions = falff_regions(grid)
    anatomy = np.full(grid.shape, 0.6)  # grey matter everywhere: the regions alone shape the map
    params = FalffParams()
    subject = SubjectFunction.draw(np.random.default_rng(0), params)
    healthy = render_falff(anatomy, grid, 0.0, regions, subject, np.random.default_rng(1), params, noise=False)
    ill = render_falff(anatomy, grid, 2.0, regions, subject, np.random.default_rng(1), params, noise=False)
    ratio = ill / healthy
    points = grid.points()
    in_pcc = sum(((points[i] - PCC_CENTRE_MM[i]) / PCC_SEMI_AXES_MM[i]) ** 2 for i in range(3)) <= 1
    in_hip = hippocampus_mask(points)
    depth = dict(params.depth)
    # the deepest loss is the PCC's full depth at its centre, the hippocampus loses its own
    assert ratio.min() == pytest.approx(1 - 2 * depth["pcc_precuneus"], abs=1e-6)
    assert in_pcc[np.unravel_index(np.argmin(ratio), ratio.shape)]
    assert ratio[in_hip].min() == pytest.approx(1 - 2 * depth["hippocampus"], abs=1e-6)
    def farther_than(centre, mm):
        return np.sqrt(sum((points[i] - centre[i]) ** 2 for i in range(3))) > mm

    # beyond each region's reach (largest semi-axis + 4 smoothing σ) nothing changes
    far = farther_than(PCC_CENTRE_MM, 18 + 12) & farther_than((-26, -22, -14), 20 + 12) & farther_than(
        (26, -22, -14), 20 + 12)
    assert far.sum() > 0.9 * far.size
    np.testing.assert_allclose(ratio[far], 1.0, atol=1e-5)  # float32 division
    # dial 0 is the negative control
    none = replace(params, depth=(("pcc_precuneus", 0.0), ("hippocampus", 0.0)))
    flat = render_falff(anatomy, grid, 2.0, regions, subject, np.random.default_rng(1), none, noise=False)
    np.testing.assert_allclose(flat, healthy)


def test_ad_lowers_pcc_falff_across_noisy_subjects() -> None:
    """Region-over-brain fALFF of noisy maps falls with the planted score (not in a control region)."""
    grid = mm_grid(VOXEL_MM)
    regions = falff_regions(grid)
    points = grid.points()
    anatomy = np.where(np.sum((points - np.reshape([0, -17, 5], (3, 1, 1, 1))) ** 2, 0) < 70.0**2, 0.6, 0.0)
    params = FalffParams()
    scores = np.linspace(-1.0, 3.0, 24)
    rng = np.random.default_rng(0)
    pcc, control = [], []
    control_mask = (np.abs(points[0] - 0) < 15) & (np.abs(points[1] - 40) < 15) & (np.abs(points[2] - 20) < 15)
    for s in scores:
        m = render_falff(anatomy, grid, s, regions, SubjectFunction.draw(rng, params), rng, params)
        brain = m[anatomy > 0].mean()
        pcc.append(m[regions["pcc_precuneus"] > 0.5].mean() / brain)
        control.append(m[control_mask].mean() / brain)
    assert spearmanr(scores, pcc)[0] < -0.6
    assert abs(spearmanr(scores, control)[0]) < 0.5


def test_oracle_bounds_t1_above_falff_and_the_negative_control_is_chance() -> None:
    truth = mm_truth_without_images(600, seed=0)
    t1, falff = oracle_auc(truth, "T1w"), oracle_auc(truth, "fALFF")
    assert t1 > falff > 0.7
    # the fALFF score is partly the T1's stage: they correlate, but far from perfectly
    rho = spearmanr(truth["shared_latent"], truth["falff_score"])[0]
    assert 0.2 < rho < 0.9
    null = MmParams(shared_weight=0.0, own_mean=(0.0, 0.0, 0.0))
    assert abs(oracle_auc(mm_truth_without_images(600, seed=0, params=null), "fALFF") - 0.5) < 0.08


def test_falff_sessions_follow_their_visits() -> None:
    for design, fdesign in design_mm_cohort(30, seed=2):
        assert fdesign.visits and len(fdesign.visits) == len(fdesign.offsets)
        assert all(0 <= k < len(design.ages) for k in fdesign.visits)
        assert all(1 <= abs(o) <= 60 for o in fdesign.offsets)
        if fdesign.visits[0] == 0:
            assert fdesign.offsets[0] > 0
