"""N4 bias-field correction (Tustison et al. 2010) of a whole head, with ANTs."""

from __future__ import annotations

from typing import Any

from alignome.imaging.ants_runtime import import_ants

#: N4 fits the field on a copy shrunk to about this voxel size (mm): the field is smooth, so
#: fitting it finer costs time and changes little.
N4_FIT_MM = 4.0


def n4_correct(image: Any) -> Any:
    """``image`` divided by its N4-estimated smooth multiplicative bias field, fitted inside the head.

    The head is ANTs' ``get_mask`` (above the mean intensity, cleaned by morphology), so the
    dark background does not pull the fit.
    """
    ants = import_ants()
    shrink = max(1, int(round(N4_FIT_MM / min(float(s) for s in image.spacing))))
    head = ants.get_mask(image)
    return ants.n4_bias_field_correction(image, mask=head, shrink_factor=shrink)
