"""A raw-looking T1 head around a simulated brain: scalp, skull, neck, misregistration, bias, scanner grid.

:func:`raw_head` turns one rendered, skull-stripped scan in MNI space (the *clean* volume) into
what a scanner writes before any preprocessing:

* **head**: around the brain (distance ``d`` from its mask) a CSF rim (``d`` < 3 mm, T1 0.2),
  skull bone (3–9 mm, 0.08) and scalp fat (9–15 mm, 0.85); below the brain a neck, an elliptic
  cylinder (semi-axes 55 × 60 mm around ``(0, −20)``) of muscle (0.45) under 5 mm of fat, down to
  ``z = −150`` mm; partial-volume edges from a half-voxel Gaussian;
* **misregistration**: scanner world = ``s · R · (x − c) + c + t`` for MNI ``x``, ``c`` the pose
  centre: rotation ``R`` (SD 5° per axis), translation ``t`` (SD 10 mm per axis), scale ``s``
  (log-SD 0.04);
* **scanner grid**: stored as sagittal slices (voxel axes run A→P, S→I, L→R), voxels of
  ``voxel_mm × (1, 1, 1.25)``, a 256 × 256 × 200 mm field of view;
* **bias**: a smooth multiplicative field over the field of view (log-SD 0.25, correlation 60 mm);
* **noise**: Rician, SD 2 % of the template maximum, everywhere (the air is not zero).

The transform is returned so that the truth table can hold it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from alignome.simulate.brain3d import Grid, SmoothField, rotation
from alignome.simulate.rician import rician_magnitude

CSF_MM, BONE_MM, SCALP_MM = 3.0, 9.0, 15.0
T1_CSF, T1_BONE, T1_FAT, T1_MUSCLE = 0.2, 0.08, 0.85, 0.45
NECK_CENTRE_MM = (0.0, -20.0)
NECK_SEMI_AXES_MM = (55.0, 60.0)
NECK_FAT_MM = 5.0
NECK_BOTTOM_MM = -150.0
FOV_MM = np.array([256.0, 256.0, 200.0])  # along the scanner's A-P, S-I and L-R voxel axes
FOV_CENTRE_MM = np.array([0.0, -20.0, -10.0])
VOXEL_STRETCH = np.array([1.0, 1.0, 1.25])


@dataclass(frozen=True)
class RawHeadParams:
    """Spread of the misregistration, the bias field and the noise of a raw head."""

    rotation_sd_deg: float = 5.0
    translation_sd_mm: float = 10.0
    scale_log_sd: float = 0.04
    bias_log_sd: float = 0.25
    bias_sigma_mm: float = 60.0
    noise_sd: float = 0.02


@dataclass(frozen=True)
class RawHead:
    """A raw head on its scanner grid, and the MNI → scanner-world transform it was drawn with."""

    image: np.ndarray
    affine: np.ndarray
    rotation_deg: np.ndarray
    translation_mm: np.ndarray
    scale: float


def head_shell(brain: np.ndarray, grid: Grid) -> tuple[np.ndarray, Grid]:
    """T1 (template scale, 0–1) of everything but the brain on ``grid`` extended down to the neck's bottom.

    Returns the shell (zero inside the brain mask ``brain``) and the extended grid.
    """
    below = int(np.ceil((grid.origin[2] - NECK_BOTTOM_MM) / grid.spacing))
    margin = int(np.ceil(SCALP_MM / grid.spacing)) + 1
    pad = ((margin, margin), (margin, margin), (below, margin))
    mask = np.pad(brain, pad)
    origin = grid.origin - grid.spacing * np.array([margin, margin, below])
    big = Grid(shape=mask.shape, spacing=grid.spacing, origin=origin)
    d = ndi.distance_transform_edt(~mask, sampling=grid.spacing)
    t1 = np.select([mask, d < CSF_MM, d < BONE_MM, d < SCALP_MM], [0.0, T1_CSF, T1_BONE, T1_FAT], 0.0)
    x, y, z = (origin[a] + grid.spacing * np.arange(n) for a, n in enumerate(mask.shape))
    # the neck's cross-section is the same at every height: its radius on the (x, y) plane only
    r = np.hypot((x[:, None] - NECK_CENTRE_MM[0]) / NECK_SEMI_AXES_MM[0],
                 (y[None, :] - NECK_CENTRE_MM[1]) / NECK_SEMI_AXES_MM[1])[:, :, None]
    lowest_brain = z[np.flatnonzero(mask.any(axis=(0, 1)))[0]]
    neck = (r < 1.0) & (z[None, None, :] < lowest_brain + 20.0) & (d >= SCALP_MM)
    fat = np.broadcast_to(r > 1.0 - NECK_FAT_MM / min(NECK_SEMI_AXES_MM), mask.shape)
    t1[neck] = np.where(fat[neck], T1_FAT, T1_MUSCLE)
    t1 = ndi.gaussian_filter(t1, 0.5)
    t1[mask] = 0.0
    return t1.astype(np.float32), big


def scanner_grid(voxel_mm: float) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Voxel-to-scanner-world affine and grid shape: sagittal storage (axes A→P, S→I, L→R) over :data:`FOV_MM`."""
    spacing = voxel_mm * VOXEL_STRETCH
    shape = np.ceil(FOV_MM / spacing).astype(int)
    # columns: world direction of each voxel axis; axis 0 runs A→P (-y), axis 1 S→I (-z), axis 2 L→R (+x)
    axes = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    affine = np.eye(4)
    affine[:3, :3] = axes * spacing
    affine[:3, 3] = FOV_CENTRE_MM - affine[:3, :3] @ ((shape - 1) / 2.0)
    return affine, tuple(int(n) for n in shape)


def raw_head(
    clean: np.ndarray, brain: np.ndarray, grid: Grid, level: float, centre: np.ndarray,
    rng: np.random.Generator, params: RawHeadParams = RawHeadParams(),
) -> RawHead:
    """Wrap the clean scan ``clean`` (zero outside ``brain``, on ``grid``) in a head and rescan it.

    Parameters
    ----------
    clean
        The skull-stripped scan in MNI space.
    brain
        Its brain mask (bool, same grid).
    grid
        The MNI output grid.
    level
        Intensity of T1 = 1 in ``clean`` (the subject's gain), so the head matches the brain's scale.
    centre
        Rotation and scaling centre (mm).
    rng
        Generator of the misregistration, bias and noise.
    params
        Their spreads.
    """
    angles = rng.normal(0.0, params.rotation_sd_deg, 3)
    shift = rng.normal(0.0, params.translation_sd_mm, 3)
    scale = float(np.exp(rng.normal(0.0, params.scale_log_sd)))
    bias = SmoothField.draw(rng, params.bias_sigma_mm, params.bias_log_sd, 1)
    shell, big = head_shell(brain, grid)
    lo = np.round((grid.origin - big.origin) / grid.spacing).astype(int)
    head = shell * level
    head[lo[0]:lo[0] + grid.shape[0], lo[1]:lo[1] + grid.shape[1], lo[2]:lo[2] + grid.shape[2]] += clean
    affine, shape = scanner_grid(grid.spacing)
    world = affine[:3, :3] @ np.indices(shape, dtype=np.float64).reshape(3, -1) + affine[:3, 3:4]
    c = np.asarray(centre, dtype=np.float64).reshape(3, 1)
    mni = rotation(angles).T @ (world - c - shift.reshape(3, 1)) / scale + c
    signal = ndi.map_coordinates(head, big.to_index(mni), order=1, mode="constant", cval=0.0)
    signal = signal * np.exp(bias(world)[0])  # the coil's field is fixed to the scanner, not the head
    image = rician_magnitude(signal, params.noise_sd * level, rng).reshape(shape).astype(np.float32)
    return RawHead(image=image, affine=affine, rotation_deg=angles, translation_mm=shift, scale=scale)


def raw_truth(head: RawHead) -> dict[str, float]:
    """Truth-table columns of a raw head's misregistration (MNI → scanner world)."""
    row = {f"raw_rotation_{a}_deg": round(float(v), 4) for a, v in zip("xyz", head.rotation_deg)}
    row.update({f"raw_shift_{a}_mm": round(float(v), 4) for a, v in zip("xyz", head.translation_mm)})
    row["raw_scale"] = round(head.scale, 5)
    return row
