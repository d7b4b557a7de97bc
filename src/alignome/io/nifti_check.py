"""Is a NIfTI file usable as one 3D volume? One short reason when it is not.

:func:`check_nifti` reads the whole file (so a truncated gzip stream is
found here, not in the middle of training) and returns ``None`` for a usable
volume or a reason that starts with one of the categories in
:data:`REASONS`, optionally followed by `` (detail)``. Readers group dropped
rows by :func:`reason_category`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nibabel as nib
import numpy as np

MISSING = "file not found"
UNREADABLE = "unreadable, corrupt or truncated NIfTI"
NOT_3D = "not a 3D volume"
NON_FINITE = "NaN or infinite voxels"
CONSTANT = "empty or constant image"
BAD_AFFINE = "non-finite or singular affine"
IMPLAUSIBLE = "implausible voxel size or field of view"
REASONS = (MISSING, UNREADABLE, NOT_3D, NON_FINITE, CONSTANT, BAD_AFFINE, IMPLAUSIBLE)

#: Voxel edge lengths (mm) of a plausible MRI volume; outside them the affine is wrong (a 400 mm
#: voxel would make resampling to 1–2 mm allocate terabytes).
VOXEL_MM = (0.1, 20.0)
#: Largest extent (mm) of a plausible volume along any axis.
MAX_FIELD_OF_VIEW_MM = 600.0


def reason_category(reason: str) -> str:
    """The category of a reason returned by :func:`check_nifti` (its text before `` (``)."""
    return reason.split(" (", 1)[0]


def spatial_shape(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The 3D shape of an image shape, or ``None`` when it is not one volume.

    A 4D (or higher) shape whose extra axes all have length 1 counts as 3D;
    every spatial axis must have at least 2 voxels.
    """
    if len(shape) < 3 or any(int(n) != 1 for n in shape[3:]):
        return None
    if min(shape[:3]) < 2:
        return None
    return tuple(int(n) for n in shape[:3])


def implausible_geometry(shape: tuple[int, ...], affine: np.ndarray) -> str | None:
    """Why voxel sizes or field of view of a volume are implausible (:data:`VOXEL_MM`,
    :data:`MAX_FIELD_OF_VIEW_MM`), or ``None`` when they are plausible."""
    voxel = np.sqrt((np.asarray(affine, dtype=float)[:3, :3] ** 2).sum(axis=0))
    if voxel.min() < VOXEL_MM[0] or voxel.max() > VOXEL_MM[1]:
        return f"voxels of {' x '.join(f'{v:g}' for v in voxel)} mm, expected {VOXEL_MM[0]:g}-{VOXEL_MM[1]:g} mm"
    fov = voxel * np.asarray(shape[:3], dtype=float)
    if fov.max() > MAX_FIELD_OF_VIEW_MM:
        return f"field of view {' x '.join(f'{v:g}' for v in fov)} mm, expected at most {MAX_FIELD_OF_VIEW_MM:g} mm"
    return None


def check_nifti(path: str | Path) -> str | None:
    """Check that ``path`` is a readable, finite, non-constant 3D NIfTI volume.

    Parameters
    ----------
    path
        A ``.nii`` or ``.nii.gz`` file.

    Returns
    -------
    str or None
        ``None`` when the file is usable; otherwise the reason, one of
        :data:`REASONS` optionally followed by `` (detail)``: the file is
        missing; it cannot be read (not NIfTI, corrupt, truncated gzip); it is
        not 3D (a 4D file whose last axis has length 1 is accepted); it holds
        NaN or infinite voxels; it is empty or constant; its affine is
        non-finite or singular; its voxel sizes or field of view are implausible.
    """
    path = Path(path)
    if not path.is_file():
        return MISSING
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nibabel warns on odd headers; the verdict says what matters
        return _check(path)


def _check(path: Path) -> str | None:
    try:
        image = nib.load(str(path))
        shape = tuple(image.shape)
        affine = np.asarray(image.affine, dtype=float)
    except Exception as exc:  # nibabel raises many kinds for bad headers
        return f"{UNREADABLE} ({type(exc).__name__}: {str(exc)[:120]})"
    if spatial_shape(shape) is None:
        return f"{NOT_3D} (shape {shape})"
    if not np.isfinite(affine).all() or abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        return BAD_AFFINE
    implausible = implausible_geometry(shape, affine)
    if implausible:
        return f"{IMPLAUSIBLE} ({implausible})"
    try:
        data = np.asanyarray(image.dataobj)
    except Exception as exc:  # EOFError, zlib.error, OSError, ValueError ...
        return f"{UNREADABLE} ({type(exc).__name__}: {str(exc)[:120]})"
    if data.size == 0:
        return CONSTANT
    if np.issubdtype(data.dtype, np.floating):
        bad = int(data.size - np.count_nonzero(np.isfinite(data)))
        if bad:
            return f"{NON_FINITE} ({bad} voxel(s))"
    if data.min() == data.max():
        return f"{CONSTANT} (every voxel is {float(data.flat[0]):g})"
    return None
