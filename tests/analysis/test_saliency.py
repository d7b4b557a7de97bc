"""Tests of SmoothGrad saliency per latent dimension and the cross-modality saliency correlation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alignome.analysis.saliency import best_correlated_pair, postprocess_saliency, saliency_correlation, smoothgrad
from alignome.errors import DataError

SIDE = 8


class Tiny(torch.nn.Module):
    """A small non-linear 3D encoder (conv, batch norm, tanh, linear) to 3 latent dimensions."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv3d(1, 2, 3, padding=1)
        self.norm = torch.nn.BatchNorm3d(2)
        self.head = torch.nn.Linear(2 * SIDE**3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.norm(self.conv(x))).flatten(1))


def _volumes(n: int = 2) -> torch.Tensor:
    rng = np.random.default_rng(0)
    v = np.zeros((n, 1, SIDE, SIDE, SIDE), dtype=np.float32)
    v[:, :, 2:6, 1:7, 2:7] = rng.standard_normal((n, 1, 4, 6, 5))
    return torch.from_numpy(v)


def test_linear_encoder_saliency_is_the_absolute_weight() -> None:
    lin = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(SIDE**3, 4))
    raw = smoothgrad(lin, _volumes(), dimension=[1, 3], postprocess=False)
    w = lin[1].weight.detach().abs().numpy().reshape(4, SIDE, SIDE, SIDE)
    np.testing.assert_allclose(raw[0], w[[1, 3]], rtol=1e-6)
    np.testing.assert_allclose(raw[1], w[[1, 3]], rtol=1e-6)


def test_matches_a_slow_per_volume_jacobian_loop() -> None:
    enc = Tiny()
    x = _volumes()
    raw = smoothgrad(enc, x, dimension=None, sigma=0.05, samples=3, seed=7, postprocess=False)
    enc.eval()
    gen = torch.Generator().manual_seed(7)
    ref = np.zeros_like(raw)
    for _ in range(3):
        noisy = x + 0.05 * torch.randn(x.shape, generator=gen)
        for b in range(len(x)):
            jac = torch.autograd.functional.jacobian(lambda v: enc(v)[0], noisy[b:b + 1])  # (3, 1, 1, D, H, W)
            ref[b] += jac[:, 0, 0].abs().numpy() / 3
    np.testing.assert_allclose(raw, ref, rtol=1e-4, atol=1e-7)


def test_relative_sigma_scales_the_noise_by_the_range() -> None:
    enc = Tiny()
    x = _volumes()[:1] * 10
    span = float(x.max() - x.min())
    absolute = smoothgrad(enc, x, sigma=0.5, samples=2, seed=1, postprocess=False)
    relative = smoothgrad(enc, x, sigma=0.5 / span, samples=2, seed=1, sigma_relative=True, postprocess=False)
    np.testing.assert_allclose(relative, absolute, rtol=1e-4, atol=1e-7)
    assert np.abs(smoothgrad(enc, x, sigma=0.5, samples=2, seed=1, sigma_relative=True, postprocess=False)
                  - absolute).max() > 1e-4


def test_postprocessing_masks_rescales_and_smooths_and_the_mode_is_restored() -> None:
    enc = Tiny().train()
    x = _volumes()
    maps = smoothgrad(enc, x, dimension=2, samples=2, smoothing_sigma=0.0)
    assert enc.training
    mask = x[:, 0].numpy() != 0
    assert maps.shape == (2, 1, SIDE, SIDE, SIDE)
    assert (maps[:, 0][~mask] == 0).all()
    for b in range(2):
        assert maps[b, 0][mask[b]].min() == pytest.approx(0.0) and maps[b, 0][mask[b]].max() == pytest.approx(1.0)
    raw = np.zeros((SIDE,) * 3)
    raw[4, 4, 4] = 1.0
    smooth = postprocess_saliency(raw, np.ones_like(raw, bool), 1.5)
    assert smooth[4, 4, 4] == smooth.max() and 0 < smooth[4, 4, 6] < smooth[4, 4, 5] < smooth[4, 4, 4] < 1


def test_saliency_correlation_matches_a_loop_of_corrcoef() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((4, 3, 50))
    b = 0.5 * a[:, [2, 0], :] + rng.random((4, 2, 50))
    corr = saliency_correlation(a, b)
    ref = np.array([[np.mean([np.corrcoef(a[s, i], b[s, j])[0, 1] for s in range(4)]) for j in range(2)]
                    for i in range(3)])
    np.testing.assert_allclose(corr, ref, rtol=1e-10)
    assert best_correlated_pair(corr)[:2] in {(2, 0), (0, 1)}
    with pytest.raises(DataError, match="same subjects"):
        saliency_correlation(a, b[:3])


def test_bad_shapes_and_dimensions_are_data_errors() -> None:
    with pytest.raises(DataError, match="channel"):
        smoothgrad(Tiny(), np.zeros((2, SIDE, SIDE, SIDE), np.float32))
    with pytest.raises(DataError, match="outside"):
        smoothgrad(Tiny(), _volumes(), dimension=5)
