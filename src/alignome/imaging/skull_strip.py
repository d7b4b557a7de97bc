"""Skull stripping without trained weights: the MNI152 brain mask carried onto the scan by registration.

nilearn ships the template already skull-stripped (no with-skull template offline), so the head,
its neck cut off first as FSL's ``robustfov`` does (everything more than 170 mm below the top of
the head) and its scalp eroded away (:func:`rough_brain`), is aligned affinely with the metric
restricted to the template's brain grown by a few mm (:func:`align_head`); the template's brain
mask, carried back onto the scan, cuts the skull, scalp and neck away; then the stripped brain is
registered to the template brain again (affine or SyN, starting from the first transform), which
is far more exact than head-to-brain, and that second transform gives the output and the final mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alignome.imaging.ants_runtime import import_ants
from alignome.imaging.registration import Registration, Transform, head_region, register


def strip_and_register(scan: Any, template: Any, brain_mask: Any, kind: Registration) -> tuple[Any, Transform, Transform]:
    """Skull-strip ``scan`` and register its brain to ``template``.

    Returns
    -------
    tuple
        The skull-stripped scan (zero outside the brain, scan grid), the first (head-to-template,
        affine) transform and the final (brain-to-brain, ``kind``) one.
    """
    head = align_head(scan, template, brain_mask)
    stripped = mask_scan(scan, head, brain_mask)
    brain = register(stripped, template, kind, initial=head)
    return mask_scan(scan, brain, brain_mask), head, brain


def align_head(scan: Any, template: Any, brain_mask: Any) -> Transform:
    """Affine registration of a whole head to the skull-stripped template: neck cut, scalp eroded away,
    metric inside the template brain grown by a few mm (:func:`alignome.imaging.registration.head_region`)."""
    return register(rough_brain(without_neck(scan)), template, "affine", mask=head_region(brain_mask))


def mask_scan(scan: Any, transform: Transform, brain_mask: Any) -> Any:
    """``scan`` times the template brain mask carried onto its grid by ``transform`` (half-voxel threshold)."""
    carried = transform.to_scan(scan, brain_mask)
    return scan * (carried > 0.5)


#: How far below the top of the head the brain can reach (FSL robustfov's 170 mm).
HEAD_DEPTH_MM = 170.0
#: The head: voxels above this share of the 99th intensity percentile.
HEAD_THRESHOLD = 0.1


def without_neck(scan: Any) -> Any:
    """``scan`` with everything more than :data:`HEAD_DEPTH_MM` below the top of the head set to zero.

    "Below" is the scanner's superior axis (world z), along which a head lies in any scanner; the top
    is the highest voxel brighter than :data:`HEAD_THRESHOLD` of the 99th percentile. The neck would
    otherwise pull the centre of mass that registration starts from far below the brain's.
    """
    data = scan.numpy()
    head = data > HEAD_THRESHOLD * np.percentile(data, 99)
    index = np.indices(data.shape).reshape(3, -1).astype(np.float64)
    world_z = (np.asarray(scan.direction) @ (np.asarray(scan.spacing)[:, None] * index))[2] + scan.origin[2]
    world_z = world_z.reshape(data.shape)
    top = world_z[head].max()
    return scan.new_image_like(np.where(world_z >= top - HEAD_DEPTH_MM, data, 0.0).astype(np.float32))


#: Erosion (mm) that parts the brain from the scalp across the dark skull before the largest blob is kept.
SCALP_EROSION_MM = 6.0


def rough_brain(scan: Any) -> Any:
    """``scan`` inside a rough brain mask, for the first registration: a BET-like morphological cut.

    Voxels above the mean (brain and scalp, not the dark skull and CSF), eroded by
    :data:`SCALP_EROSION_MM` so the scalp comes apart from the brain, the largest blob kept and
    grown back by as much. Without it the bright scalp, which the skull-stripped template lacks,
    can draw the head into the template's brain.
    """
    ants = import_ants()
    radius = max(1, int(round(SCALP_EROSION_MM / min(float(s) for s in scan.spacing))))
    mask = ants.get_mask(scan, cleanup=0)
    mask = ants.iMath(ants.iMath(mask, "ME", radius), "GetLargestComponent")
    return scan * ants.iMath(mask, "MD", radius)
