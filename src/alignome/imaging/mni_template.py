"""The MNI152 brain template and its brain mask as ANTs images, from the copy nilearn ships (no download)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from alignome.imaging.ants_runtime import import_ants
from alignome.imaging.mni_files import BRAIN_THRESHOLD, template_path


@lru_cache(maxsize=4)
def mni_template(spacing_mm: float) -> Any:
    """nilearn's skull-stripped MNI152 (ICBM 2009) T1 template, scaled to [0, 1] and resampled to ``spacing_mm``."""
    ants = import_ants()
    image = ants.image_read(str(template_path()))
    image = image / float(image.max())
    if spacing_mm != 1.0:
        image = ants.resample_image(image, (spacing_mm,) * 3, use_voxels=False, interp_type=0)
    return image


@lru_cache(maxsize=4)
def mni_brain_mask(spacing_mm: float) -> Any:
    """Brain mask of :func:`mni_template` (template above 10 % of its maximum, the simulator's brain), 0/1 float."""
    template = mni_template(spacing_mm)
    return template.new_image_like((template.numpy() > BRAIN_THRESHOLD).astype(np.float32))
