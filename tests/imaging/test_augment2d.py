"""2D augmentations: erasing leaves every other pixel in place; crop/blur reduce to identity at their limits."""

from __future__ import annotations

import torch

from alignome.imaging.augment2d import gaussian_blur, random_erasing, random_resized_crop


def test_erasing_changes_only_one_box_of_the_stated_size() -> None:
    x = torch.rand(32, 1, 28, 28) + 1.0  # no zero pixel before erasing
    out = random_erasing(x, torch.Generator().manual_seed(0), p=1.0, scale=(0.05, 0.1))
    erased = out == 0
    assert torch.equal(out[~erased], x[~erased])  # nothing moved: orientation is untouched
    share = erased.float().mean(dim=(1, 2, 3))
    assert (share > 0.02).all() and (share < 0.14).all()
    for img in erased[:, 0]:  # one axis-aligned rectangle: its rows and columns span exactly its pixels
        r, c = img.any(1).nonzero().flatten(), img.any(0).nonzero().flatten()
        assert img.sum() == len(r) * len(c) == (r.max() - r.min() + 1) * (c.max() - c.min() + 1)
    untouched = random_erasing(x, torch.Generator().manual_seed(0), p=0.0)
    assert torch.equal(untouched, x)


def test_full_crop_and_no_blur_are_identity_and_blur_keeps_mass() -> None:
    x = torch.rand(4, 1, 32, 32)
    gen = torch.Generator().manual_seed(1)
    same = random_resized_crop(x, gen, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
    assert torch.equal(gaussian_blur(x, gen, p=0.0), x)
    blurred = gaussian_blur(x, gen, sigma=(1.5, 1.5), p=1.0)
    assert blurred.std() < x.std()  # smoothed
    torch.testing.assert_close(blurred.mean(dim=(2, 3)), x.mean(dim=(2, 3)), atol=0.02, rtol=0)
