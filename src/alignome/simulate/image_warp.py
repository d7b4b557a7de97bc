"""Batched bilinear resampling of 2-D images: per-image warps without a Python loop per pixel.

Both the glyph renderer (affine + elastic distortion of pre-rendered masters) and the rotation
study (each image turned by its own angle) map every output pixel to a point of a source image and
read it by bilinear interpolation; points outside the source read 0 (black background).
"""

from __future__ import annotations

import numpy as np


def bilinear_sample(stack: np.ndarray, which: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Read ``stack[which[b]]`` at fractional ``(rows[b], cols[b])`` by bilinear interpolation.

    Parameters
    ----------
    stack
        ``(K, H, W)`` source images.
    which
        ``(B,)`` index into ``stack`` of each output image.
    rows, cols
        ``(B, h, w)`` source coordinates (pixel centres at whole numbers) of every output pixel.

    Returns
    -------
    numpy.ndarray
        ``(B, h, w)`` float32; points outside the source read 0.
    """
    k, height, width = stack.shape
    padded = np.zeros((k, height + 2, width + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = stack
    # shift by the one-pixel zero border and clamp, so points far outside read the border's zeros
    r = np.clip(rows + 1.0, 0.0, height + 1.0)
    c = np.clip(cols + 1.0, 0.0, width + 1.0)
    r0 = np.minimum(np.floor(r).astype(np.int64), height)
    c0 = np.minimum(np.floor(c).astype(np.int64), width)
    fr = (r - r0).astype(np.float32)
    fc = (c - c0).astype(np.float32)
    flat = padded.reshape(k, -1)
    base = which.astype(np.int64)[:, None, None]
    stride = width + 2
    top = flat[base, r0 * stride + c0] * (1 - fc) + flat[base, r0 * stride + c0 + 1] * fc
    bottom = flat[base, (r0 + 1) * stride + c0] * (1 - fc) + flat[base, (r0 + 1) * stride + c0 + 1] * fc
    return (top * (1 - fr) + bottom * fr).astype(np.float32)


def centred_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, cols)`` of a ``size × size`` grid, measured from the image centre (float64)."""
    axis = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    return np.meshgrid(axis, axis, indexing="ij")


def rotate_images(images: np.ndarray, angles_deg: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Turn each image about its centre by its own angle (degrees, counter-clockwise as displayed).

    Parameters
    ----------
    images
        ``(n, H, W)`` float images; the background is 0.
    angles_deg
        ``(n,)`` angles; positive turns the content counter-clockwise when row 0 is drawn on top.
    chunk
        Images resampled per batch (bounds the memory of the coordinate arrays).

    Returns
    -------
    numpy.ndarray
        ``(n, H, W)`` float32, bilinear, corners that leave the frame are lost and uncovered ones read 0.
    """
    images = np.asarray(images, dtype=np.float32)
    n, height, width = images.shape
    if height != width:
        raise ValueError(f"rotate_images needs square images, got {height}×{width}")
    rows, cols = centred_grid(height)
    centre = (height - 1) / 2.0
    out = np.empty_like(images)
    theta = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        cos = np.cos(theta[start:stop])[:, None, None]
        sin = np.sin(theta[start:stop])[:, None, None]
        # inverse map: an output pixel reads the source point turned back by -theta (rows point down)
        src_rows = centre + cos * rows + sin * cols
        src_cols = centre - sin * rows + cos * cols
        out[start:stop] = bilinear_sample(images[start:stop], np.arange(stop - start), src_rows, src_cols)
    return out
