"""SCARF: the stated share of entries, each replaced by another subject's value of the same variant."""

from __future__ import annotations

import torch

from alignome.training.scarf import scarf_corrupt


def test_replaces_the_stated_share_with_other_subjects_values() -> None:
    x = torch.arange(64 * 500, dtype=torch.float32).reshape(64, 500)  # every value unique: its row is readable
    out = scarf_corrupt(x, 0.1, torch.Generator().manual_seed(0))
    share = out.mask.float().mean().item()
    assert abs(share - 0.1) < 4 * (0.1 * 0.9 / x.numel()) ** 0.5
    changed = out.values != x
    assert torch.equal(changed, out.mask)  # unique values: every corrupted entry changed, no other did
    rows = (out.values // 500).long()
    cols = (out.values % 500).long()
    assert torch.equal(cols, torch.arange(500).expand(64, 500))  # same variant
    own = torch.arange(64)[:, None].expand(64, 500)
    assert not (rows[out.mask] == own[out.mask]).any()  # another subject
    assert torch.equal(rows[out.mask], out.donor[out.mask])
    assert len(torch.unique(rows[out.mask])) == 64  # donors drawn across the batch


def test_seeded_and_p_zero_is_identity() -> None:
    x = torch.randn(8, 20)
    a = scarf_corrupt(x, 0.3, torch.Generator().manual_seed(5)).values
    b = scarf_corrupt(x, 0.3, torch.Generator().manual_seed(5)).values
    assert torch.equal(a, b)
    assert torch.equal(scarf_corrupt(x, 0.0, torch.Generator()).values, x)
