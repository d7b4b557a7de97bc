"""Handwriting-like character images rendered offline from the fonts matplotlib ships.

A stand-in for EMNIST (62 classes: 0-9, A-Z, a-z, the EMNIST ByClass order) where the real set
cannot be downloaded. Each class is rendered once per font (21 faces of DejaVu Sans/Serif/Mono,
STIX and Computer Modern, upright, bold, italic and oblique) into a blurred master; every sample
then picks a font and is drawn through its own random affine map (anisotropic scale, shear,
shift: no rotation, since the rotation study rotates the images) and an elastic displacement field
(Simard et al. 2003: uniform noise smoothed by a Gaussian, times ``alpha``), and gets its own stroke
width by thresholding the blurred master at its own level. Glyphs are centred by their bounding
box and scaled to fill ``GLYPH_FILL`` of the frame (EMNIST centres the bounding box too), white on
black as EMNIST shows them after transposition.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

from alignome.imaging.glyph_set import BYCLASS, GlyphSet
from alignome.simulate.image_warp import bilinear_sample, centred_grid
from alignome.simulate.progress import progress

FONT_FILES: tuple[str, ...] = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf",
    "STIXGeneralBolIta.ttf", "cmr10.ttf", "cmss10.ttf", "cmti10.ttf", "cmtt10.ttf", "cmb10.ttf",
)
__all__ = ["Distortion", "GlyphSet", "glyph_masters", "render_glyphs"]
MASTER_SIZE = 64  # masters are rendered larger than the output so warps resample them smoothly
GLYPH_FILL = 0.72  # long side of a glyph / frame side, before the random scale
MASTER_BLUR = 2.0  # master-pixel sigma: softens edges so a threshold sets the stroke width
BATCH = 2048


@dataclass(frozen=True)
class Distortion:
    """Ranges of the per-sample random distortion (lengths in output pixels of a 28-pixel frame).

    Attributes
    ----------
    scale_sd
        Standard deviation of the log scale of each axis (anisotropic).
    shear
        Maximum absolute horizontal shear (slant), drawn uniformly.
    shift_sd
        Standard deviation of the shift of each axis.
    elastic_alpha, elastic_sigma
        Simard's elastic field: amplitude and Gaussian smoothing.
    threshold
        Range of the level at which the blurred master is cut: lower draws thicker strokes.
    """

    scale_sd: float = 0.08
    shear: float = 0.3
    shift_sd: float = 1.0
    elastic_alpha: float = 18.0
    elastic_sigma: float = 4.0
    threshold: tuple[float, float] = (0.2, 0.55)


def font_dir() -> Path:
    """Folder of the TrueType fonts bundled with matplotlib."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _render_master(char: str, font_path: Path, size: int) -> np.ndarray:
    """One character of one font, bounding box centred and scaled into ``GLYPH_FILL`` of a ``size`` frame."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), size * 2)
    canvas = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(canvas).text((size, size // 2), char, fill=255, font=font)
    ink = np.asarray(canvas, dtype=np.float32) / 255.0
    rows, cols = np.nonzero(ink > 0.05)
    if rows.size == 0:
        raise ValueError(f"font {font_path.name} has no glyph for {char!r}")
    crop = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    zoom = GLYPH_FILL * size / max(crop.shape)
    glyph = np.clip(ndimage.zoom(crop, zoom, order=1), 0.0, 1.0)
    frame = np.zeros((size, size), dtype=np.float32)
    top, left = (size - glyph.shape[0]) // 2, (size - glyph.shape[1]) // 2
    frame[top:top + glyph.shape[0], left:left + glyph.shape[1]] = glyph
    return frame


@lru_cache(maxsize=2)
def glyph_masters(size: int = MASTER_SIZE) -> np.ndarray:
    """Blurred masters ``(62 × len(FONT_FILES), size, size)`` float32, index ``label × n_fonts + font``."""
    folder = font_dir()
    masters = np.stack([_render_master(char, folder / name, size) for char in BYCLASS for name in FONT_FILES])
    blurred = ndimage.gaussian_filter(masters, sigma=(0, MASTER_BLUR, MASTER_BLUR))
    peak = blurred.max(axis=(1, 2), keepdims=True)
    return (blurred / peak).astype(np.float32)  # each master peaks at 1 so thresholds mean the same


def _source_coordinates(rng: np.random.Generator, n: int, size: int,
                        distortion: Distortion) -> tuple[np.ndarray, np.ndarray]:
    """Master-frame ``(rows, cols)`` read by each output pixel: elastic field, then inverse affine."""
    unit = size / 28.0
    rows, cols = centred_grid(size)
    noise = rng.uniform(-1.0, 1.0, size=(n, 2, size, size))
    field = ndimage.gaussian_filter(noise, sigma=(0, 0, distortion.elastic_sigma * unit,
                                                  distortion.elastic_sigma * unit), mode="constant")
    field *= distortion.elastic_alpha * unit
    scale_r = np.exp(rng.normal(0.0, distortion.scale_sd, size=n))[:, None, None]
    scale_c = np.exp(rng.normal(0.0, distortion.scale_sd, size=n))[:, None, None]
    shear = rng.uniform(-distortion.shear, distortion.shear, size=n)[:, None, None]
    shift_r = rng.normal(0.0, distortion.shift_sd * unit, size=n)[:, None, None]
    shift_c = rng.normal(0.0, distortion.shift_sd * unit, size=n)[:, None, None]
    r = rows[None] + field[:, 0] - shift_r
    c = cols[None] + field[:, 1] - shift_c
    # forward map: row' = s_r·row, col' = s_c·(col − shear·row); the output reads its inverse
    src_r = r / scale_r
    src_c = c / scale_c + shear * src_r
    to_master = MASTER_SIZE / size
    centre = (MASTER_SIZE - 1) / 2.0
    return centre + src_r * to_master, centre + src_c * to_master


def render_glyphs(n: int, seed: int, size: int = 28, distortion: Distortion | None = None) -> GlyphSet:
    """Render ``n`` distorted glyphs, classes balanced (``n // 62`` or one more each) and shuffled.

    Parameters
    ----------
    n
        Number of images.
    seed
        Seed of every random choice (class order, font, distortion); same seed, same images.
    size
        Side of the square images in pixels (28 as EMNIST).
    distortion
        Ranges of the random distortion; :class:`Distortion` defaults when ``None``.

    Returns
    -------
    GlyphSet
        uint8 images, int64 labels and the 62 classes.
    """
    if n < 0 or size < 8:
        raise ValueError(f"render_glyphs needs n >= 0 and size >= 8, got n={n}, size={size}")
    distortion = distortion or Distortion()
    masters = glyph_masters(MASTER_SIZE)
    n_fonts = len(FONT_FILES)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(BYCLASS)).astype(np.int64)
    fonts = rng.integers(0, n_fonts, size=n)
    images = np.empty((n, size, size), dtype=np.uint8)
    ramp = 0.12  # soft edge of the threshold: anti-aliased strokes
    with progress("rendering glyphs", n) as advance:
        for start in range(0, n, BATCH):
            stop = min(start + BATCH, n)
            src_r, src_c = _source_coordinates(rng, stop - start, size, distortion)
            ink = bilinear_sample(masters, labels[start:stop] * n_fonts + fonts[start:stop], src_r, src_c)
            level = rng.uniform(*distortion.threshold, size=stop - start)[:, None, None]
            value = np.clip((ink - level) / ramp + 0.5, 0.0, 1.0)
            images[start:stop] = np.round(value * 255.0).astype(np.uint8)
            advance(stop - start)
    return GlyphSet(images=images, labels=labels, classes=list(BYCLASS))
