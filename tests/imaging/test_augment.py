"""Tests of the seeded batched 3D augmentations."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from alignome.imaging.augment import AugmentSettings, affine_grid_3d, augment_batch

OFF = dict(flip_p=0.0, flip_axes=(0, 1, 2), rotate_deg=0.0, scale=0.0, translate_vox=0.0, intensity_scale=0.0, intensity_shift=0.0)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _volumes(n: int = 6, shape: tuple[int, int, int] = (12, 14, 16), seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, *shape, generator=_gen(seed))


def _blob(n: int, size: int = 32, radius: float = 2.5) -> torch.Tensor:
    """A smooth ball off the centre, so that flips, shifts and rotations move it."""
    ax = torch.arange(size, dtype=torch.float32)
    z, y, x = torch.meshgrid(ax, ax, ax, indexing="ij")
    c = size / 2
    r2 = (z - c - 2) ** 2 + (y - c + 1) ** 2 + (x - c - 3) ** 2
    return torch.exp(-r2 / (2 * radius**2)).expand(n, 1, size, size, size).clone()


def _centre_of_mass(v: torch.Tensor) -> torch.Tensor:
    size = v.shape[-3:]
    grids = torch.meshgrid(*[torch.arange(s, dtype=v.dtype) for s in size], indexing="ij")
    w = v[:, 0]
    total = w.sum(dim=(1, 2, 3))
    return torch.stack([(w * g).sum(dim=(1, 2, 3)) / total for g in grids], dim=1)


def test_same_generator_state_same_output() -> None:
    x = _volumes()
    s = AugmentSettings()
    a = augment_batch(x, s, _gen(7))
    b = augment_batch(x, s, _gen(7))
    assert torch.equal(a, b)
    assert not torch.allclose(a, augment_batch(x, s, _gen(8)))
    g = _gen(7)
    first, second = augment_batch(x, s, g), augment_batch(x, s, g)
    assert torch.equal(first, a)
    assert not torch.allclose(first, second)  # the generator advances
    assert torch.equal(x, _volumes())  # input untouched


def test_a_sample_draw_does_not_depend_on_batch_size() -> None:
    x = _volumes(6)
    s = AugmentSettings()
    assert torch.allclose(augment_batch(x[:2], s, _gen(3)), augment_batch(x, s, _gen(3))[:2], atol=1e-6)


def test_flips_are_exact_flips() -> None:
    x = _volumes(16)
    out = augment_batch(x, AugmentSettings(**{**OFF, "flip_p": 1.0}), _gen(0))
    assert torch.equal(out, x.flip(2, 3, 4))
    out = augment_batch(x, AugmentSettings(**{**OFF, "flip_p": 0.5}), _gen(1))
    patterns = set()
    for i in range(16):
        matches = [
            dims
            for k in range(4)
            for dims in itertools.combinations((2, 3, 4), k)
            if torch.equal(out[i], x[i].flip([d - 1 for d in dims]) if dims else x[i])
        ]
        assert len(matches) == 1, f"sample {i} is not an exact flip of its input"
        patterns.add(matches[0])
    assert len(patterns) >= 3  # flips are drawn per sample and per axis


def test_default_flips_are_left_right_only() -> None:
    x = _volumes(16)
    out = augment_batch(x, AugmentSettings(**{**OFF, "flip_p": 1.0, "flip_axes": (0,)}), _gen(0))
    assert torch.equal(out, x.flip(2))
    assert AugmentSettings().flip_axes == (0,)
    with pytest.raises(ValueError, match="flip_axes"):
        AugmentSettings(flip_axes=(3,))


def test_folded_flips_match_exact_flips_when_the_affine_is_on() -> None:
    x = _volumes(8)
    tiny = {**OFF, "translate_vox": 1e-7}
    exact = augment_batch(x, AugmentSettings(**{**OFF, "flip_p": 0.5}), _gen(4))
    folded = augment_batch(x, AugmentSettings(**{**tiny, "flip_p": 0.5}), _gen(4))
    assert torch.allclose(exact, folded, atol=1e-5)
    assert not torch.allclose(exact, x, atol=1e-3)


def test_zero_strength_is_identity_and_disabled_returns_input() -> None:
    x = _volumes()
    assert torch.equal(augment_batch(x, AugmentSettings(**OFF), _gen(0)), x)
    tiny = AugmentSettings(**{**OFF, "rotate_deg": 1e-6, "scale": 1e-8, "translate_vox": 1e-6})
    assert torch.allclose(augment_batch(x, tiny, _gen(0)), x, atol=1e-4)
    assert augment_batch(x, AugmentSettings(enabled=False), _gen(0)) is x


def test_intensity_jitter_bounds() -> None:
    c = 0.5
    x = torch.full((32, 1, 6, 6, 6), c)
    s = AugmentSettings(**{**OFF, "intensity_scale": 0.1, "intensity_shift": 0.05})
    out = augment_batch(x, s, _gen(2))
    per_sample = out.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample))  # one (a, b) per sample
    values = per_sample[:, 0]
    lo, hi = c * 0.9 - 0.05, c * 1.1 + 0.05
    assert values.min() >= lo - 1e-6 and values.max() <= hi + 1e-6
    assert values.std() > 0.01  # really jittered
    # a pure scale keeps zero at zero; a pure shift moves everything by the same b
    z = augment_batch(torch.zeros(4, 1, 4, 4, 4), AugmentSettings(**{**OFF, "intensity_scale": 0.3}), _gen(0))
    assert torch.equal(z, torch.zeros_like(z))


def test_translation_and_scale_stay_within_bounds() -> None:
    x = _blob(12)
    com0 = _centre_of_mass(x)[0]
    shifted = augment_batch(x, AugmentSettings(**{**OFF, "translate_vox": 3.0}), _gen(0))
    delta = _centre_of_mass(shifted) - com0
    assert delta.abs().max() <= 3.0 + 0.05
    assert delta.abs().max() > 1.0  # something moved
    assert torch.allclose(shifted.sum(dim=(1, 2, 3, 4)), x.sum(dim=(1, 2, 3, 4)), rtol=1e-3)  # no clipping
    # rotation about the centre keeps the distance of the blob to the volume centre
    centre = (torch.tensor(x.shape[-3:], dtype=torch.float32) - 1) / 2
    rotated = augment_batch(x, AugmentSettings(**{**OFF, "rotate_deg": 10.0}), _gen(1))
    r0 = (com0 - centre).norm()
    r = (_centre_of_mass(rotated) - centre).norm(dim=1)
    assert torch.allclose(r, r0.expand_as(r), atol=0.05)
    assert (_centre_of_mass(rotated) - com0).norm(dim=1).max() > 0.2
    # scaling about the centre moves the blob by at most (scale * distance)
    scaled = augment_batch(x, AugmentSettings(**{**OFF, "scale": 0.1}), _gen(2))
    moved = (_centre_of_mass(scaled) - com0).norm(dim=1)
    assert moved.max() <= 0.1 * r0 + 0.05


def test_fast_affine_grid_equals_torch() -> None:
    theta = torch.randn(3, 3, 4, generator=_gen(0))
    ours = affine_grid_3d(theta, (5, 6, 7))
    ref = F.affine_grid(theta, [3, 1, 5, 6, 7], align_corners=False)
    assert torch.allclose(ours, ref, atol=1e-5)


def test_affine_probability_zero_keeps_geometry() -> None:
    x = _volumes(8)
    s = AugmentSettings(**{**OFF, "rotate_deg": 10.0, "scale": 0.1, "translate_vox": 3.0, "affine_p": 0.0})
    assert torch.equal(augment_batch(x, s, _gen(0)), x)


def test_affine_probability_resamples_only_the_chosen_samples() -> None:
    x = _volumes(16)
    spatial = {**OFF, "flip_p": 0.5, "rotate_deg": 10.0, "scale": 0.1, "translate_vox": 3.0}
    full = augment_batch(x, AugmentSettings(**spatial), _gen(5))
    half = augment_batch(x, AugmentSettings(**spatial, affine_p=0.5), _gen(5))
    resampled = 0
    for i in range(16):
        flips = [x[i].flip([d - 1 for d in dims]) for k in range(4) for dims in itertools.combinations((2, 3, 4), k)]
        if torch.equal(half[i], full[i]):
            resampled += 1  # same draw, same transform as with affine_p=1
        else:
            assert any(torch.equal(half[i], f) for f in flips)  # only flipped, not interpolated
    assert 3 <= resampled <= 13


def test_half_precision_input_keeps_dtype() -> None:
    x = _volumes(2).half()
    out = augment_batch(x, AugmentSettings(), _gen(0))
    assert out.dtype == torch.float16 and out.shape == x.shape


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        AugmentSettings(flip_p=1.5)
    with pytest.raises(ValueError):
        AugmentSettings(scale=-0.1)
    with pytest.raises(ValueError):
        AugmentSettings(intensity_scale=1.0)
    with pytest.raises(ValueError):
        augment_batch(torch.rand(2, 8, 8, 8), AugmentSettings(), _gen(0))
