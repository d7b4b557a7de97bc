"""Seeded, batched 3D augmentations: flips, a small affine, intensity jitter.

All random parameters of a batch are drawn from one ``torch.Generator`` in a
fixed layout (15 uniforms per sample, drawn whatever the settings), so the same
generator state gives the same output and one sample's draw never shifts
another's. Spatial transforms run batched on the volume's device:

* per-sample flips of each axis with probability ``flip_p``;
* a small affine — rotations about the three axes in ``±rotate_deg``, per-axis
  scaling in ``1 ± scale``, translation in ``±translate_vox`` voxels — resampled
  with ``F.affine_grid`` + ``F.grid_sample`` (trilinear, zero padding); when the
  affine is active the flips are folded into it (one resampling pass), when it
  is off the flips are exact index flips and nothing is interpolated;
* intensity jitter ``x * (1 + a) + b`` with ``a ∈ ±intensity_scale`` and
  ``b ∈ ±intensity_shift`` per sample.

The affine is applied with probability ``affine_p`` per sample (1 by default);
only those samples are resampled, the others get exact flips and the jitter,
so the resampling cost scales with ``affine_p``. Costs at 96³ are measured in
``benchmarks/cnn3d_throughput.py``: trilinear resampling is of the order of a training step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

#: Uniform draws per sample: 3 flips, 3 angles, 3 scales, 3 shifts, 2 intensity, 1 affine gate.
_DRAWS = 15


@dataclass(frozen=True)
class AugmentSettings:
    """Strengths of the on-the-fly augmentations (all per sample).

    Parameters
    ----------
    flip_p
        Probability of flipping each axis of ``flip_axes``, in [0, 1].
    flip_axes
        Spatial axes that may flip (0, 1, 2 = the first, second, third spatial
        axis). Default ``(0,)``: left-right only, for volumes in RAS orientation
        (the preprocessing's default); a mirrored brain is still a plausible
        brain, an upside-down one is not.
    rotate_deg
        Maximum absolute rotation about each axis, degrees.
    scale
        Maximum relative scaling per axis (0.05: factors in [0.95, 1.05]).
    translate_vox
        Maximum absolute translation per axis, in voxels.
    intensity_scale
        Maximum ``|a|`` of the jitter ``x * (1 + a) + b``.
    intensity_shift
        Maximum ``|b|`` of the jitter.
    enabled
        False turns every augmentation off (``augment_batch`` returns its input).
    affine_p
        Probability that a sample gets the affine (rotation, scaling,
        translation); flips and jitter do not depend on it.
    """

    flip_p: float = 0.5
    flip_axes: tuple[int, ...] = (0,)
    rotate_deg: float = 5.0
    scale: float = 0.05
    translate_vox: float = 2.0
    intensity_scale: float = 0.1
    intensity_shift: float = 0.05
    enabled: bool = True
    affine_p: float = 1.0

    def __post_init__(self) -> None:
        for name in ("flip_p", "affine_p"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        for name in ("rotate_deg", "scale", "translate_vox", "intensity_scale", "intensity_shift"):
            value = getattr(self, name)
            if not (value >= 0.0 and math.isfinite(value)):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")
        if not set(self.flip_axes) <= {0, 1, 2}:
            raise ValueError(f"flip_axes must be spatial axes among 0, 1, 2, got {self.flip_axes}")
        if self.scale >= 1.0:
            raise ValueError(f"scale must be < 1 (factors 1 ± scale), got {self.scale}")
        if self.intensity_scale >= 1.0:
            raise ValueError(f"intensity_scale must be < 1, got {self.intensity_scale}")

    @property
    def affine_active(self) -> bool:
        """Whether the affine part can change anything."""
        return self.affine_p > 0 and (self.rotate_deg > 0 or self.scale > 0 or self.translate_vox > 0)


def _rotation(angles: Tensor) -> Tensor:
    """Rotation matrices ``(B, 3, 3)`` from angles ``(B, 3)`` (radians) about x, y, z."""
    cx, cy, cz = torch.cos(angles).unbind(1)
    sx, sy, sz = torch.sin(angles).unbind(1)
    one, zero = torch.ones_like(cx), torch.zeros_like(cx)
    rx = torch.stack([one, zero, zero, zero, cx, -sx, zero, sx, cx], 1).view(-1, 3, 3)
    ry = torch.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], 1).view(-1, 3, 3)
    rz = torch.stack([cz, -sz, zero, sz, cz, zero, zero, zero, one], 1).view(-1, 3, 3)
    return rz @ ry @ rx


def _theta(u: Tensor, flips: Tensor, settings: AugmentSettings, sizes: tuple[int, int, int]) -> Tensor:
    """Normalised affine matrices ``(B, 3, 4)`` for ``F.affine_grid`` (output → input)."""
    # grid components are (x, y, z) = (W, H, D): reverse the (D, H, W) axis order
    flip_sign = 1.0 - 2.0 * flips.flip(1).to(u.dtype)
    angles = (2 * u[:, 3:6] - 1) * math.radians(settings.rotate_deg)
    scales = 1.0 + (2 * u[:, 6:9] - 1) * settings.scale
    shifts = (2 * u[:, 9:12] - 1) * settings.translate_vox
    # voxel-centred coordinates: input = R · S · Flip · output + t
    m = _rotation(angles) @ torch.diag_embed(scales * flip_sign)
    half = torch.tensor([sizes[2], sizes[1], sizes[0]], dtype=u.dtype, device=u.device) / 2.0
    # normalised coordinates (align_corners=False): v = half * n
    m_norm = m * half[None, None, :] / half[None, :, None]
    t_norm = shifts / half[None, :]
    return torch.cat([m_norm, t_norm[:, :, None]], dim=2)


def _coords(n: int, like: Tensor) -> Tensor:
    """Normalised voxel-centre coordinates of one axis (``align_corners=False``)."""
    return (torch.arange(n, dtype=like.dtype, device=like.device) * 2 + 1) / n - 1


def affine_grid_3d(theta: Tensor, sizes: tuple[int, int, int]) -> Tensor:
    """``F.affine_grid(theta, (B, C, *sizes), align_corners=False)`` built by broadcasting.

    Equal to ``F.affine_grid`` up to float rounding, and cheaper on CPU: the grid of an affine map is a sum of three per-axis terms, so it needs
    two broadcast additions instead of a ``(D·H·W) × 4`` matrix product per sample.

    Parameters
    ----------
    theta
        ``(B, 3, 4)`` normalised affine matrices (output → input).
    sizes
        Output spatial size ``(D, H, W)``.

    Returns
    -------
    Tensor
        Sampling grid ``(B, D, H, W, 3)`` with components ``(x, y, z)``.
    """
    d, h, w = sizes
    gx = theta[:, None, :, 0] * _coords(w, theta)[None, :, None]  # (B, W, 3)
    gy = theta[:, None, :, 1] * _coords(h, theta)[None, :, None]  # (B, H, 3)
    gz = theta[:, None, :, 2] * _coords(d, theta)[None, :, None] + theta[:, None, :, 3]  # (B, D, 3)
    return (gz[:, :, None, None, :] + gy[:, None, :, None, :]) + gx[:, None, None, :, :]


def host_to_device(t: Tensor, device: torch.device) -> Tensor:
    """``t`` on ``device``; a CPU tensor goes to a GPU through pinned memory, without waiting.

    A plain ``tensor.to("cuda")`` from pageable memory blocks the host until the
    GPU's queued kernels have run; the copy from pinned memory is queued instead
    (PyTorch's pinned-memory cache keeps the source alive until it is done).
    """
    if t.device.type == "cpu" and device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


def _resample(x: Tensor, theta: Tensor, sizes: tuple[int, int, int]) -> Tensor:
    """Flips + affine of every sample of ``x`` (``theta`` from :func:`_theta`) in one trilinear pass."""
    grid = affine_grid_3d(theta.to(x.dtype), sizes)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment_batch(x: Tensor, settings: AugmentSettings, generator: torch.Generator) -> Tensor:
    """Augment a batch of volumes, each sample with its own random draw.

    Parameters
    ----------
    x
        Volumes ``(B, C, D, H, W)`` (``C`` is 1 for a T1w MRI); not modified.
    settings
        Strengths of the augmentations.
    generator
        Source of every random number; the same state gives the same output.
        Its device is where the (tiny) parameter draw happens, and where the
        samples to flip or resample are chosen and the affine matrices built;
        these go to ``x.device`` in two copies. With a CPU generator a GPU step
        never waits for its queued kernels here.

    Returns
    -------
    Tensor
        Augmented volumes, same shape and dtype as ``x`` (half precision is
        computed in float32). ``x`` itself when ``settings.enabled`` is False.
    """
    if x.ndim != 5:
        raise ValueError(f"expected a (B, C, D, H, W) tensor, got shape {tuple(x.shape)}")
    if not settings.enabled:
        return x
    batch = x.shape[0]
    sizes = (int(x.shape[2]), int(x.shape[3]), int(x.shape[4]))
    u = torch.rand(batch, _DRAWS, generator=generator, dtype=torch.float64, device=generator.device)
    flippable = torch.tensor([a in settings.flip_axes for a in range(3)], device=u.device)
    flips = (u[:, 0:3] < settings.flip_p) & flippable  # axes D, H, W
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    if settings.affine_active:
        resample = u[:, 14] < settings.affine_p
    else:
        resample = torch.zeros(batch, dtype=torch.bool, device=u.device)
    chosen = torch.nonzero(resample).flatten()
    flip_only = [torch.nonzero(flips[:, axis] & ~resample).flatten() for axis in range(3)]
    # the parameters the volumes need, built where they were drawn, moved in two queued copies
    theta = _theta(u, flips, settings, sizes).to(work.dtype).reshape(batch, 12)
    shift_scale = torch.stack([(2 * u[:, 12] - 1) * settings.intensity_scale,
                               (2 * u[:, 13] - 1) * settings.intensity_shift], 1).to(work.dtype)
    index = torch.cat([chosen, *flip_only])
    counts = [chosen.numel(), *(i.numel() for i in flip_only)]
    params = host_to_device(torch.cat([theta, shift_scale], 1), x.device)
    index = host_to_device(index, x.device)
    theta, a, b = params[:, :12].view(batch, 3, 4), params[:, 12], params[:, 13]
    chosen_x, *flip_x = torch.split(index, counts)
    if counts[0] == batch:  # every sample resampled: no copy of the input needed
        out = _resample(work, theta, sizes)
    else:
        out = work.clone()
        for axis in range(3):  # exact flips of the samples that are not resampled
            if counts[axis + 1]:
                out[flip_x[axis]] = out[flip_x[axis]].flip(axis + 2)
        if counts[0]:
            out[chosen_x] = _resample(work[chosen_x], theta[chosen_x], sizes)
    if settings.intensity_scale > 0 or settings.intensity_shift > 0:
        out = out.mul_(1 + a.view(-1, 1, 1, 1, 1)).add_(b.view(-1, 1, 1, 1, 1))  # out is a fresh tensor here
    return out.to(x.dtype)
