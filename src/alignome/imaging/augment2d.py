"""Seeded, batched 2D image augmentations for GEMCONT's use cases.

* :func:`random_erasing` — per image, with probability ``p``, one axis-aligned rectangle
  of area share in ``scale`` and aspect ratio in ``ratio`` set to ``value``. Nothing is
  resampled or moved, so the image's orientation (the rotation study's signal) is kept.
* :func:`random_resized_crop` — per image, a crop of area share in ``scale`` and aspect
  ratio in ``ratio`` at a random place, resized back to the full size (bilinear,
  ``F.affine_grid`` with scale and translation only: no rotation).
* :func:`gaussian_blur` — per image, a Gaussian of σ in ``sigma`` (separable, reflect padding).

Every random number comes from the given ``torch.Generator`` in a fixed layout, so a
seeded generator reproduces the batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor


def _area_boxes(n: int, scale: tuple[float, float], ratio: tuple[float, float],
                gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Per-image box heights and widths (fractions of the side) of area share in ``scale`` and aspect in ``ratio``."""
    area = scale[0] + (scale[1] - scale[0]) * torch.rand(n, generator=gen)
    log_r = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * torch.rand(n, generator=gen)
    aspect = log_r.exp()
    bh = (area / aspect).sqrt().clamp(max=1.0)
    bw = (area * aspect).sqrt().clamp(max=1.0)
    return bh, bw


def random_erasing(x: Tensor, gen: torch.Generator, p: float = 0.5, scale: tuple[float, float] = (0.02, 0.15),
                   ratio: tuple[float, float] = (0.3, 3.3), value: float = 0.0) -> Tensor:
    """Erase one random rectangle in each image with probability ``p`` (``x``: ``(B, C, H, W)``)."""
    b, _, h, w = x.shape
    apply = torch.rand(b, generator=gen) < p
    bh, bw = _area_boxes(b, scale, ratio, gen)
    top = torch.rand(b, generator=gen) * (1 - bh)
    left = torch.rand(b, generator=gen) * (1 - bw)
    rows = (torch.arange(h) + 0.5) / h
    cols = (torch.arange(w) + 0.5) / w
    in_r = (rows[None] >= top[:, None]) & (rows[None] < (top + bh)[:, None])
    in_c = (cols[None] >= left[:, None]) & (cols[None] < (left + bw)[:, None])
    box = (in_r[:, :, None] & in_c[:, None, :]) & apply[:, None, None]
    return x.masked_fill(box[:, None].to(x.device), value)


def random_resized_crop(x: Tensor, gen: torch.Generator, scale: tuple[float, float] = (0.7, 1.0),
                        ratio: tuple[float, float] = (0.8, 1.25)) -> Tensor:
    """Crop a random box of each image and resize it back to the full size."""
    b = x.shape[0]
    bh, bw = _area_boxes(b, scale, ratio, gen)
    cy = (torch.rand(b, generator=gen) * 2 - 1) * (1 - bh)  # centre in normalised [-1, 1] coordinates
    cx = (torch.rand(b, generator=gen) * 2 - 1) * (1 - bw)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = bw, cx
    theta[:, 1, 1], theta[:, 1, 2] = bh, cy
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def gaussian_blur(x: Tensor, gen: torch.Generator, sigma: tuple[float, float] = (0.1, 2.0), p: float = 0.5) -> Tensor:
    """Blur each image with probability ``p`` by a Gaussian of σ (pixels) drawn in ``sigma``."""
    b, c, h, w = x.shape
    apply = torch.rand(b, generator=gen) < p
    s = sigma[0] + (sigma[1] - sigma[0]) * torch.rand(b, generator=gen)
    radius = max(1, int(math.ceil(3 * sigma[1])))
    radius = min(radius, (min(h, w) - 1) // 2)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t[None] / s[:, None].to(x.dtype)) ** 2)
    k = k / k.sum(dim=1, keepdim=True)
    k = torch.where(apply[:, None], k, (t[None] == 0).to(x.dtype))  # identity kernel where not applied
    k = k.repeat_interleave(c, dim=0).to(x.device)  # one kernel per (image, channel)
    flat = x.reshape(1, b * c, h, w)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="reflect"), k[:, None, None, :], groups=b * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="reflect"), k[:, None, :, None], groups=b * c)
    return flat.reshape(b, c, h, w)


AugmentKind = Literal["erase", "crop_blur", "none"]


@dataclass(frozen=True)
class Augment2D:
    """One of GEMCONT's augmentation sets: ``erase`` (rotation study), ``crop_blur`` (spirometry) or ``none``."""

    kind: AugmentKind = "erase"
    erase_p: float = 0.5
    erase_scale: tuple[float, float] = (0.02, 0.15)
    crop_scale: tuple[float, float] = (0.7, 1.0)
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    blur_p: float = 0.5

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        if self.kind == "erase":
            return random_erasing(x, gen, p=self.erase_p, scale=self.erase_scale)
        if self.kind == "crop_blur":
            return gaussian_blur(random_resized_crop(x, gen, scale=self.crop_scale), gen, sigma=self.blur_sigma,
                                 p=self.blur_p)
        if self.kind == "none":
            return x
        raise ValueError(f"augmentation must be 'erase', 'crop_blur' or 'none', got {self.kind!r}")
