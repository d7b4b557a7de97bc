"""One NIfTI file -> one preprocessed (S, S, S) float32 array, with MONAI transforms.

Steps, in order:

0. the raw-T1 steps of ``settings.steps`` (N4, registration to MNI152, skull
   stripping; :mod:`alignome.imaging.raw_t1`), when any are asked for;
1. ``LoadImage`` (nibabel, channel first; a 4D file whose extra axes have
   length 1 is read as one volume);
2. ``Orientation`` to ``settings.orientation`` (e.g. RAS), using the affine;
3. ``Spacing`` to ``settings.spacing`` mm (bilinear), unless it is ``None``;
4. ``CropForeground`` to the bounding box of :func:`foreground_mask` (voxels
   clearly above the background, in sizeable connected blobs), when
   ``settings.crop_foreground``; done before the intensity step so that the
   crop is the same for ``minmax`` and ``zscore``;
5. intensity: ``ScaleIntensity`` to [0, 1] (``minmax``) or
   ``NormalizeIntensity(nonzero=True)`` (``zscore``);
6. ``SpatialPad`` with zeros to a cube (keeps the aspect ratio, so anatomy is
   not stretched differently in each axis), then ``Resize`` to ``size³``
   (area averaging when shrinking, trilinear when enlarging).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from alignome.imaging.raw_t1 import raw_t1_chain
from alignome.imaging.settings import PreprocessSettings


_THRESHOLD = 0.10   # foreground: above 10 % of the robust intensity range (as FSL BET) ...
_BLOB_SHARE = 0.01  # ... in connected blobs of at least 1 % of the largest one
_SAMPLE = 1 << 20


def foreground_mask(x: torch.Tensor) -> torch.Tensor:
    """Voxels of the head/brain for ``CropForeground``: robust to background noise and zero padding.

    A voxel is foreground when it is brighter than the minimum plus 10 % of the
    range from the minimum to the 99th percentile of the voxels above the
    minimum, and lies in a connected blob (26-neighbourhood) holding at least
    1 % of the largest blob's voxels, so stray noise voxels and isolated hot
    voxels do not widen the box. Padding a volume with its minimum changes nothing.

    Parameters
    ----------
    x
        Channel-first image ``(C, X, Y, Z)``.

    Returns
    -------
    torch.Tensor
        Boolean mask of the shape of ``x``.
    """
    from scipy import ndimage

    lo = x.min()
    above = x[x > lo]
    if above.numel() == 0:
        return x > lo
    step = max(1, above.numel() // _SAMPLE)
    sample = above[::step].float()
    hi = sample.kthvalue(max(1, int(0.99 * sample.numel()))).values
    mask = (x > lo + _THRESHOLD * (hi - lo)).any(dim=0).cpu().numpy()
    labels, count = ndimage.label(mask, structure=np.ones((3, 3, 3), bool))
    if count > 1:
        sizes = np.bincount(labels.ravel())[1:]
        keep = np.flatnonzero(sizes >= _BLOB_SHARE * sizes.max()) + 1
        mask = np.isin(labels, keep)
    return torch.from_numpy(mask)[None].expand_as(x).to(x.device)


def preprocess_volume(path: str | Path, settings: PreprocessSettings) -> np.ndarray:
    """Preprocess one 3D NIfTI volume.

    Parameters
    ----------
    path
        A ``.nii``/``.nii.gz`` file (check it first with
        :func:`alignome.io.nifti_check.check_nifti`).
    settings
        Orientation, spacing, intensity, crop and output size.

    Returns
    -------
    numpy.ndarray
        Shape ``(size, size, size)``, float32, axes in ``settings.orientation``.
    """
    from monai.data import NibabelReader
    from monai.transforms import (
        CropForeground,
        LoadImage,
        NormalizeIntensity,
        Orientation,
        Resize,
        ScaleIntensity,
        Spacing,
        SpatialPad,
    )

    reader = NibabelReader(squeeze_non_spatial_dims=True)
    load = LoadImage(reader=reader, image_only=True, ensure_channel_first=True, dtype=np.float32)
    if settings.steps:
        with tempfile.TemporaryDirectory(prefix="alignome-raw-") as folder:
            staged = Path(folder) / "steps.nii.gz"
            raw_t1_chain(path, settings.steps, settings.registration, settings.template_mm).to_filename(staged)
            image = load(str(staged))
    else:
        image = load(str(path))
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"{path}: expected one 3D volume, got array of shape {tuple(image.shape)}")
    image = Orientation(axcodes=settings.orientation, labels=None)(image)
    if settings.spacing is not None:
        image = Spacing(pixdim=settings.spacing, mode="bilinear", padding_mode="border", dtype=np.float32)(image)
    if settings.crop_foreground:
        image = CropForeground(select_fn=foreground_mask, allow_smaller=True)(image)
    if settings.intensity == "minmax":
        image = ScaleIntensity(minv=0.0, maxv=1.0)(image)
    else:
        image = NormalizeIntensity(nonzero=True)(image)
    edge = max(int(n) for n in image.shape[1:])
    image = SpatialPad(spatial_size=(edge, edge, edge), method="symmetric", mode="constant")(image)
    mode = "area" if edge > settings.size else "trilinear"
    image = Resize(spatial_size=(settings.size,) * 3, mode=mode)(image)
    data = image.as_tensor() if hasattr(image, "as_tensor") else image
    return np.ascontiguousarray(data[0].detach().cpu().numpy(), dtype=np.float32)
