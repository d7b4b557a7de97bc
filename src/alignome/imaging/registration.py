"""Affine or deformable (SyN) registration of a T1 scan to the MNI152 template with ANTs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from alignome.imaging.ants_runtime import import_ants

Registration = Literal["affine", "syn"]

#: How far (mm) the template's brain mask is grown to make the region where a head is compared with
#: the skull-stripped template: wide enough to hold the dark CSF and bone around the brain, narrow
#: enough to leave out the bright scalp, which the template does not have.
HEAD_MASK_MARGIN_MM = 8.0
_ANTS_TYPE = {"affine": "Affine", "syn": "SyN"}


@dataclass
class Transform:
    """A registration's transform files: ``forward`` maps the scan onto the template, ``inverse`` back."""

    forward: list[str]
    inverse: list[str]

    def to_template(self, template: Any, image: Any, interpolator: str = "linear") -> Any:
        """``image`` (scan space) resampled onto the template grid."""
        return import_ants().apply_transforms(fixed=template, moving=image, transformlist=self.forward,
                                              interpolator=interpolator)

    def to_scan(self, scan: Any, image: Any, interpolator: str = "linear") -> Any:
        """``image`` (template space) resampled onto the scan's grid."""
        invert = [name.endswith(".mat") for name in self.inverse]
        return import_ants().apply_transforms(fixed=scan, moving=image, transformlist=self.inverse,
                                              whichtoinvert=invert, interpolator=interpolator)

    def remove_files(self) -> None:
        """Delete the transform files ANTs wrote to the temporary folder."""
        for name in {*self.forward, *self.inverse}:
            if os.path.isfile(name):
                os.remove(name)


def _schedule(spacing_mm: float) -> dict[str, Any]:
    """Multi-resolution schedule: at 2 mm or coarser, three levels (ANTs' four would shrink a 4 mm head
    below ten voxels across)."""
    if spacing_mm < 2.0:
        return {}
    return {"aff_shrink_factors": (4, 2, 1), "aff_smoothing_sigmas": (2, 1, 0), "aff_iterations": (1000, 500, 250)}


def register(scan: Any, template: Any, kind: Registration, mask: Any | None = None,
             initial: Transform | None = None) -> Transform:
    """Register ``scan`` (moving) to ``template`` (fixed); Mattes mutual information, ANTs' defaults otherwise.

    Parameters
    ----------
    scan, template
        ANTs images.
    kind
        ``"affine"`` (12 parameters) or ``"syn"`` (affine, then symmetric diffeomorphic).
    mask
        Template-space region where the metric is computed (None: everywhere).
    initial
        Transform to start from (affine; its composition with the new one is returned);
        None starts by matching the centres of mass.
    """
    ants = import_ants()
    spacing = min(float(s) for s in template.spacing)
    result = ants.registration(
        fixed=template, moving=scan, type_of_transform=_ANTS_TYPE[kind], mask=mask,
        initial_transform=None if initial is None else initial.forward[-1], **_schedule(spacing),
    )
    return Transform(forward=list(result["fwdtransforms"]), inverse=list(result["invtransforms"]))


def head_region(brain_mask: Any) -> Any:
    """The template brain mask grown by :data:`HEAD_MASK_MARGIN_MM` (the region a head is compared in)."""
    ants = import_ants()
    radius = max(1, int(round(HEAD_MASK_MARGIN_MM / min(float(s) for s in brain_mask.spacing))))
    return ants.iMath(brain_mask, "MD", radius)
