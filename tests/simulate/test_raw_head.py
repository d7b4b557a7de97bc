"""Raw-looking heads of the simulated 3D MRI cohort (alignome.simulate.raw_head, ``simulate_mri3d(raw=True)``)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import ndimage as ndi

from alignome.simulate.brain3d import rotation
from alignome.simulate.mri3d import POSE_CENTRE_MM, simulate_mri3d


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("raw")
    kwargs = {"subjects": 2, "visits": (1, 1), "voxel_mm": 6.0, "seed": 4, "jobs": 1}
    return simulate_mri3d(root / "raw", raw=True, **kwargs), simulate_mri3d(root / "plain", **kwargs)


def _scans(root: Path) -> list[tuple[pd.Series, nib.Nifti1Image, nib.Nifti1Image]]:
    truth = pd.read_csv(root / "truth.csv")
    manifest = pd.read_csv(root / "manifest.csv").set_index(["subject", "session"])
    return [(row, nib.load(root / manifest.loc[(row.subject, row.session), "path"]), nib.load(root / row.clean_path))
            for row in truth.itertuples()]


def test_the_clean_scans_are_the_images_a_plain_simulation_writes(cohorts):
    raw, plain = cohorts
    for row, _, clean in _scans(raw):
        twin = nib.load(plain / f"images/{row.subject}/{row.session}/anat/{row.subject}_{row.session}_T1w.nii.gz")
        np.testing.assert_array_equal(np.asarray(clean.dataobj), np.asarray(twin.dataobj))
        np.testing.assert_array_equal(clean.affine, twin.affine)


def test_raw_scans_are_heads_on_a_scanner_grid_with_the_recorded_misregistration(cohorts):
    raw, _ = cohorts
    for row, head, clean in _scans(raw):
        assert nib.aff2axcodes(head.affine) == ("P", "I", "R") and head.header.get_sform(coded=True)[1] == 1
        assert head.shape != clean.shape
        data, brain = np.asarray(head.dataobj), np.asarray(clean.dataobj)
        # skull, scalp and neck: plenty of bright voxels outside the brain
        assert (data > 0.5 * np.percentile(brain[brain > 0], 50)).sum() * np.prod(head.header.get_zooms()) > 1.3 * (
            (brain > 0).sum() * np.prod(clean.header.get_zooms()))
        # the recorded transform carries each clean brain voxel to where the raw scan shows it
        angles = np.array([row.raw_rotation_x_deg, row.raw_rotation_y_deg, row.raw_rotation_z_deg])
        shift = np.array([row.raw_shift_x_mm, row.raw_shift_y_mm, row.raw_shift_z_mm])
        inside = np.argwhere(brain > 0).T
        mni = clean.affine[:3, :3] @ inside + clean.affine[:3, 3:4]
        c = POSE_CENTRE_MM.reshape(3, 1)
        world = row.raw_scale * rotation(angles) @ (mni - c) + c + shift.reshape(3, 1)
        seen = ndi.map_coordinates(data, np.linalg.inv(head.affine)[:3, :3] @ world + np.linalg.inv(head.affine)[:3, 3:4],
                                   order=1)
        truth = brain[tuple(inside)]
        assert np.corrcoef(seen, truth)[0, 1] > 0.6
        # without the transform (identity) the same comparison is worse
        naive = ndi.map_coordinates(data, np.linalg.inv(head.affine)[:3, :3] @ mni + np.linalg.inv(head.affine)[:3, 3:4],
                                    order=1)
        assert np.corrcoef(naive, truth)[0, 1] < np.corrcoef(seen, truth)[0, 1]
