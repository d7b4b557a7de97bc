"""Draw flow–volume curves as fixed-axis grayscale images (the image input of the spirometry study).

Paper 003 feeds a CNN 256 × 256 grayscale pictures of each flow–volume curve. Every image here uses
the same axes (volume 0–``volume_max`` litres left to right, flow 0–``flow_max`` L/s bottom to top),
so absolute size (FVC, PEF) shows as it does on a standard plot. The curve is resampled every half
pixel along its length, splatted bilinearly and softened by a Gaussian of ``line_sigma`` pixels:
a line about 2 px wide, ink 1 on background 0, stored as uint8.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

VOLUME_MAX_L = 7.0
FLOW_MAX_L_S = 14.0


def _pixel_path(volume: np.ndarray, flow: np.ndarray, size: int, volume_max: float,
                flow_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of one curve resampled every half pixel of its length (clipped to the frame)."""
    col = np.clip(volume / volume_max, 0.0, 1.0) * (size - 1)
    row = (1.0 - np.clip(flow / flow_max, 0.0, 1.0)) * (size - 1)
    step = np.hypot(np.diff(row), np.diff(col))
    arc = np.concatenate([[0.0], np.cumsum(step)])
    at = np.arange(0.0, arc[-1] + 0.25, 0.5)
    return np.interp(at, arc, row), np.interp(at, arc, col)


def rasterise_curves(volume_l: np.ndarray, flow_l_s: np.ndarray, size: int = 256, *,
                     volume_max: float = VOLUME_MAX_L, flow_max: float = FLOW_MAX_L_S,
                     line_sigma: float | None = None) -> np.ndarray:
    """``(n, size, size)`` uint8 images of the curves ``(volume_l[i], flow_l_s[i])``.

    ``line_sigma`` defaults to ``0.6 · size / 256`` pixels so a smaller image keeps the same look.
    Points beyond the axes are drawn on the frame's edge.
    """
    n = volume_l.shape[0]
    sigma = 0.6 * size / 256 if line_sigma is None else line_sigma
    images = np.empty((n, size, size), dtype=np.uint8)
    for i in range(n):
        rows, cols = _pixel_path(np.asarray(volume_l[i], float), np.asarray(flow_l_s[i], float), size,
                                 volume_max, flow_max)
        r0, c0 = np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)
        fr, fc = rows - r0, cols - c0
        canvas = np.zeros((size + 1) * (size + 1))
        corners = ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc), (1, 0, fr * (1 - fc)), (1, 1, fr * fc))
        for dr, dc, weight in corners:
            canvas += np.bincount((r0 + dr) * (size + 1) + c0 + dc, weights=weight, minlength=canvas.size)
        ink = np.minimum(canvas.reshape(size + 1, size + 1)[:size, :size] * 2.0, 1.0)  # 2 samples per pixel
        ink = ndimage.gaussian_filter(ink, sigma) if sigma > 0 else ink
        images[i] = np.round(np.clip(ink / max(ink.max(), 1e-12), 0.0, 1.0) * 255.0)
    return images
