"""Where the MNI152 template that nilearn ships lies, and the intensity that separates its brain from background.

Shared by the simulated brain (which is drawn on this template) and the raw-T1 chain (which registers to it).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

#: Template voxels above this fraction of its maximum are brain (the template is skull-stripped, without holes).
BRAIN_THRESHOLD = 0.1
TEMPLATE_FILE = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"


def template_path() -> Path:
    """Path of nilearn's bundled MNI152 T1 template (found without importing ``nilearn.datasets``)."""
    spec = importlib.util.find_spec("nilearn")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "datasets" / "data" / TEMPLATE_FILE
        if path.is_file():
            return path
    from nilearn.datasets import MNI152_FILE_PATH  # slower import, same file

    return Path(MNI152_FILE_PATH)
