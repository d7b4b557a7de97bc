"""Resize 2-D images to one square size and one number of channels."""

from __future__ import annotations

import numpy as np


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """``(C, H, W)`` float → ``(C, size, size)`` float32, each channel bilinearly (antialiased when shrinking).

    The aspect ratio is not kept: a non-square image is stretched to the square.
    """
    from PIL import Image

    if image.shape[1:] == (size, size):
        return image.astype(np.float32, copy=False)
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(c, dtype=np.float32))
                           .resize((size, size), Image.Resampling.BILINEAR)) for c in image]
    return np.stack(channels).astype(np.float32)


def match_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Grayscale ↔ RGB: one channel repeated to three, or three averaged with the ITU-R 601 luma weights."""
    if image.shape[0] == channels:
        return image
    if channels == 3:
        return np.repeat(image[:1], 3, axis=0)
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)[:, None, None]
    return (image[:3] * luma).sum(axis=0, keepdims=True)
