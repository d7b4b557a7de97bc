"""2-D image files (PNG, JPEG, NPY) as float32 ``(C, H, W)`` arrays in [0, 1].

PNG and JPEG are read with Pillow: grayscale (and grayscale + alpha) give one channel, anything else
is converted to RGB (alpha dropped). 8-bit values are divided by 255, 16-bit ones by 65535. An
``.npy`` holds ``(H, W)``, ``(H, W, C)`` or ``(C, H, W)`` with C in 1, 3 (or 4 for ``(H, W, 4)``,
alpha dropped); integer arrays are scaled by their type's maximum, float arrays are kept as they are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alignome.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".npy")
IMAGE_FIX = "give a readable PNG, JPEG or NPY image (check the path, and that the file is not truncated)"


def _scaled(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.bool_:
        return values.astype(np.float32)
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.float32) / float(np.iinfo(values.dtype).max)
    return values.astype(np.float32)


def _channels_first(values: np.ndarray, path: Path) -> np.ndarray:
    if values.ndim == 2:
        return values[None]
    if values.ndim == 3 and values.shape[-1] in (1, 3, 4) and values.shape[0] not in (1, 3):
        return np.moveaxis(values[..., :3], -1, 0)
    if values.ndim == 3 and values.shape[0] in (1, 3):
        return values
    raise DataError(f"an image array of shape {values.shape} is neither (H, W), (H, W, C) nor (C, H, W) with "
                    "1 or 3 channels", file=path, fix="save one 2-D image per file")


def _read_pillow(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("I;16", "I;16B", "I;16L"):
                return np.asarray(image, dtype=np.uint16)
            if image.mode in ("L", "LA", "1", "I", "F"):
                gray = image.convert("L") if image.mode in ("LA", "1") else image
                return np.asarray(gray)
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataError(f"unreadable image ({error})", file=path, fix=IMAGE_FIX) from None


def read_image_file(path: str | Path) -> np.ndarray:
    """The image at ``path`` as float32 ``(C, H, W)`` (module docstring: channels and scaling).

    Raises
    ------
    DataError
        Missing file, unknown suffix, unreadable or empty image, or an array of another shape.
    """
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DataError(f"unknown image type '{path.suffix}'", file=path,
                        fix=f"convert the image to one of {', '.join(IMAGE_SUFFIXES)}")
    if not path.is_file():
        raise DataError("image file not found", file=path, fix=IMAGE_FIX)
    if path.suffix.lower() == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise DataError(f"unreadable image ({error})", file=path, fix=IMAGE_FIX) from None
        if values.dtype.kind not in "biuf":
            raise DataError(f"an image array of type {values.dtype}", file=path,
                            fix="save numbers (uint8, float32, ...)")
    else:
        values = _read_pillow(path)
    if values.size == 0:
        raise DataError("the image is empty", file=path, fix=IMAGE_FIX)
    return _channels_first(_scaled(values), path)
