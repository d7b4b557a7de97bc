"""N4 bias-field correction (Tustison et al. 2010) of a whole head, with ANTs."""

from __future__ import annotations

from typing import Any

from alignome.imaging.ants_runtime import import_ants

#: N4 fits the field on a copy shrunk to about this voxel size (mm): the field varies over tens
#: of mm, and the fit's time grows with the voxels of the copy (at 4 mm a 4 mm copy took 7 times
#: as long as an 8 mm one).
N4_FIT_MM = 6.0


def n4_correct(image: Any) -> Any:
    """``image`` divided by its N4-estimated smooth multiplicative bias field, fitted inside the head.

    The head is ANTs' ``get_mask`` (above the mean intensity, cleaned by morphology), so the
    dark background does not pull the fit.
    """
    ants = import_ants()
    shrink = max(1, int(round(N4_FIT_MM / min(float(s) for s in image.spacing))))
    head = ants.get_mask(image)
    return ants.n4_bias_field_correction(image, mask=head, shrink_factor=shrink)
