"""SmoothGrad saliency of each latent dimension of a 3D encoder, and how two modalities' saliencies correlate.

Paper 001 (section 4, Fig. 3) computes, per latent dimension ``d`` instead of per label,
SmoothGrad (Smilkov et al. 2017) with noise SD 0.05 and 5 samples, then brain-masks the
map, rescales it to ``[0, 1]`` and smooths it with a Gaussian of σ 1.5. Here:

1. ``samples`` copies of the volume get Gaussian noise of SD ``sigma`` — in the input's own
   units (absolute, as Captum's ``NoiseTunnel`` ``stdevs``; on z-normalised inputs 0.05 is
   5 % of the brain's SD); ``sigma_relative=True`` takes it as a fraction of each volume's
   intensity range ``max − min`` instead (Smilkov et al.'s noise level);
2. the saliency is the mean over the copies of ``|∂ z_d / ∂ x|`` (Captum's ``Saliency``,
   ``abs=True``, under ``NoiseTunnel(nt_type="smoothgrad")``);
3. outside the brain mask (the input's non-zero voxels unless a mask is given) it is 0;
   inside it is rescaled to ``[0, 1]`` (min–max), smoothed by a Gaussian of σ 1.5 voxels,
   and masked again so the smoothing does not spill outside the brain.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy import ndimage as ndi

from alignome.errors import DataError


def _dimensions(dimension: int | Sequence[int] | None, latent: int) -> list[int]:
    dims = list(range(latent)) if dimension is None else (
        [int(dimension)] if np.ndim(dimension) == 0 else [int(d) for d in dimension])
    bad = [d for d in dims if not 0 <= d < latent]
    if bad or not dims:
        raise DataError(f"latent dimension(s) {bad or dims} outside 0..{latent - 1}", field="dimension",
                        fix=f"pick dimensions between 0 and {latent - 1}")
    return dims


def postprocess_saliency(raw: np.ndarray, mask: np.ndarray, smoothing_sigma: float = 1.5) -> np.ndarray:
    """Brain-mask a raw ``(D, H, W)`` saliency, rescale it to ``[0, 1]`` inside the mask, smooth, mask again."""
    out = np.where(mask, raw, 0.0).astype(np.float64)
    inside = out[mask]
    if inside.size:
        lo, hi = inside.min(), inside.max()
        out[mask] = (inside - lo) / (hi - lo) if hi > lo else 0.0
    if smoothing_sigma > 0:
        out = ndi.gaussian_filter(out, smoothing_sigma)
    return np.where(mask, out, 0.0).astype(np.float32)


def smoothgrad(
    encoder: torch.nn.Module,
    volumes: np.ndarray | torch.Tensor,
    dimension: int | Sequence[int] | None = None,
    sigma: float = 0.05,
    samples: int = 5,
    seed: int = 0,
    masks: np.ndarray | None = None,
    smoothing_sigma: float = 1.5,
    sigma_relative: bool = False,
    postprocess: bool = True,
) -> np.ndarray:
    """SmoothGrad saliency of latent dimension(s) of ``encoder`` for each volume.

    Parameters
    ----------
    encoder
        Maps ``(B, 1, D, H, W)`` float tensors to ``(B, latent)``; run in eval mode here
        (its mode is restored afterwards), on the device of its parameters.
    volumes
        ``(B, 1, D, H, W)`` inputs (as the encoder sees them, e.g. standardised).
    dimension
        One latent dimension, several, or ``None`` for all.
    sigma, samples, seed
        Noise SD (see ``sigma_relative``), noisy copies per volume, and the seed of the noise.
    masks
        ``(B, D, H, W)`` brain masks; default: the input's non-zero voxels.
    smoothing_sigma
        Gaussian σ in voxels of the post-processing (0: none).
    sigma_relative
        Take ``sigma`` as a fraction of each volume's intensity range (max − min).
    postprocess
        ``False`` returns the raw mean absolute gradients (no mask, rescaling or smoothing).

    Returns
    -------
    np.ndarray
        ``(B, len(dimensions), D, H, W)`` float32.
    """
    x = torch.as_tensor(np.asarray(volumes) if not isinstance(volumes, torch.Tensor) else volumes)
    if x.ndim != 5 or x.shape[1] != 1:
        raise DataError(f"volumes have shape {tuple(x.shape)}, not (B, 1, D, H, W)", field="volumes",
                        fix="add the channel axis: volumes[:, None]")
    if samples < 1 or sigma < 0:
        raise DataError(f"SmoothGrad needs samples >= 1 and sigma >= 0, got {samples} and {sigma}",
                        field="samples", fix="use the paper's sigma=0.05, samples=5")
    params = next(encoder.parameters(), None)
    device = params.device if params is not None else torch.device("cpu")
    dtype = params.dtype if params is not None else torch.float32
    x = x.to(device=device, dtype=dtype)
    masks = (x[:, 0] != 0).cpu().numpy() if masks is None else np.asarray(masks, dtype=bool)
    if masks.shape != tuple(x[:, 0].shape):
        raise DataError(f"masks have shape {masks.shape}, volumes {tuple(x[:, 0].shape)}", field="masks",
                        fix="give one (D, H, W) mask per volume")
    scale = torch.full((len(x),), float(sigma), device=device, dtype=dtype)
    if sigma_relative:
        flat = x.reshape(len(x), -1)
        scale = scale * (flat.max(1).values - flat.min(1).values)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            latent = encoder(x[:1]).shape[1]
        dims = _dimensions(dimension, latent)
        total = torch.zeros((len(x), len(dims)) + tuple(x.shape[2:]), device=device, dtype=dtype)
        for _ in range(samples):
            noise = torch.randn(x.shape, generator=generator, dtype=dtype).to(device)
            noisy = (x + noise * scale.view(-1, 1, 1, 1, 1)).requires_grad_(True)
            z = encoder(noisy)
            for j, d in enumerate(dims):
                # each volume's z_d depends on its own input only (eval mode), so one backward serves the batch
                (grad,) = torch.autograd.grad(z[:, d].sum(), noisy, retain_graph=j < len(dims) - 1)
                total[:, j] += grad[:, 0].abs()
    finally:
        encoder.train(was_training)
    raw = (total / samples).cpu().numpy()
    if not postprocess:
        return raw.astype(np.float32)
    return np.stack([np.stack([postprocess_saliency(raw[b, j], masks[b], smoothing_sigma) for j in range(len(dims))])
                     for b in range(len(x))]).astype(np.float32)


def saliency_correlation(maps_a: Sequence[np.ndarray] | np.ndarray,
                         maps_b: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Correlation ``[da, db]`` between each dimension's saliency in modality a and each in modality b.

    ``maps_a`` is ``[n, da, V]`` and ``maps_b`` ``[n, db, V]`` (``V`` voxels, flattened; any
    indexable over subjects, read one subject at a time). Entry ``(i, j)`` is the mean over
    the ``n`` subjects of the Pearson correlation across voxels between subject ``s``'s map
    of dimension ``i`` in a and of dimension ``j`` in b (0 where a map is constant).
    """
    n = len(maps_a)
    if n == 0 or len(maps_b) != n:
        raise DataError(f"{n} and {len(maps_b)} subjects' saliency maps", field="maps",
                        fix="give both modalities' maps for the same subjects, in the same order")

    def unit_rows(m: np.ndarray) -> np.ndarray:
        m = np.asarray(m, dtype=np.float64).reshape(np.shape(m)[0], -1)
        m = m - m.mean(1, keepdims=True)
        norm = np.linalg.norm(m, axis=1, keepdims=True)
        return np.divide(m, norm, out=np.zeros_like(m), where=norm > 0)

    total = None
    for s in range(n):
        a, b = unit_rows(maps_a[s]), unit_rows(maps_b[s])
        if a.shape[1] != b.shape[1]:
            raise DataError(f"subject {s}: {a.shape[1]} voxels in a, {b.shape[1]} in b", field="maps",
                            fix="give both modalities' maps on the same grid")
        total = a @ b.T if total is None else total + a @ b.T
    return total / n


def best_correlated_pair(correlation: np.ndarray) -> tuple[int, int, float]:
    """``(i, j, r)``: the dimension pair of largest correlation (the paper's Fig. 3 pair)."""
    c = np.asarray(correlation)
    i, j = np.unravel_index(int(np.nanargmax(c)), c.shape)
    return int(i), int(j), float(c[i, j])
