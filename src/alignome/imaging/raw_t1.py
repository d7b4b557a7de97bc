"""Raw T1 scan -> skull-stripped, bias-corrected volume in MNI152 space (the optional ANTs steps).

Steps (any subset, always run in this order):

* ``n4``: N4 bias-field correction of the head (:mod:`alignome.imaging.n4`);
* ``register``: registration to nilearn's MNI152 template (``affine``, or ``syn`` for affine then
  deformable); the output lies on the template grid at the recipe's spacing;
* ``skull_strip``: the template brain mask carried onto the scan (:mod:`alignome.imaging.skull_strip`);
  with ``register`` the output is the registered brain, without it the brain on the scan's own grid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignome.imaging.ants_runtime import import_ants
from alignome.imaging.mni_template import mni_brain_mask, mni_template
from alignome.imaging.n4 import n4_correct
from alignome.imaging.registration import Registration, Transform, head_region, register
from alignome.imaging.skull_strip import align_head, strip_and_register

def raw_t1_chain(path: str | Path, steps: tuple[str, ...], registration: Registration, spacing_mm: float) -> Any:
    """Run ``steps`` on the scan at ``path``; returns a nibabel image (world coordinates RAS, as NIfTI).

    Parameters
    ----------
    path
        A 3D NIfTI T1 scan, any grid and orientation.
    steps
        A subset of :data:`alignome.imaging.settings.STEP_ORDER`, in that order.
    registration
        ``"affine"`` or ``"syn"``.
    spacing_mm
        Voxel size of the template grid that registration works on and the output lies on.
    """
    ants = import_ants()
    scan = ants.image_read(str(path))
    if scan.dimension != 3:
        raise ValueError(f"expected one 3D volume, got a {scan.dimension}D image")
    scan = scan.clone("float")
    if "n4" in steps:
        scan = n4_correct(scan)
    if "register" not in steps and "skull_strip" not in steps:
        return ants.to_nibabel_nifti(scan)
    template, brain = mni_template(spacing_mm), mni_brain_mask(spacing_mm)
    transforms: list[Transform] = []
    try:
        if "skull_strip" in steps:
            scan, head, final = strip_and_register(scan, template, brain, registration)
            transforms += [head, final]
        else:
            final = align_head(scan, template, brain)
            transforms.append(final)
            if registration == "syn":
                final = register(scan, template, "syn", mask=head_region(brain), initial=final)
                transforms.append(final)
        if "register" in steps:
            scan = final.to_template(template, scan)
            if "skull_strip" in steps:
                scan = scan * brain
        return ants.to_nibabel_nifti(scan)
    finally:
        for transform in transforms:
            transform.remove_files()
