"""SCARF corruption of tabular inputs (Bahri et al. 2021), as paper 003 applies it to genotypes.

Each entry is corrupted with probability ``p``; a corrupted entry (i, j) takes the value of
variant j in another subject of the same batch, drawn uniformly among the B − 1 others.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Corrupted:
    """A corrupted batch: ``values``, which entries were replaced (``mask``) and from which row (``donor``)."""

    values: Tensor
    mask: Tensor
    donor: Tensor


def scarf_corrupt(x: Tensor, p: float, generator: torch.Generator) -> Corrupted:
    """Replace each entry of ``x`` (B×S) with probability ``p`` by the same column of another random row.

    The draws come from ``generator`` only (mask then donors, a fixed layout), so a seeded
    generator gives the same corruption. ``p = 0`` returns ``x`` unchanged.
    """
    if not 0 <= p < 1:
        raise ValueError(f"SCARF corruption probability must be in [0, 1), got {p}")
    b, s = x.shape
    mask = torch.rand(b, s, generator=generator) < p
    offset = torch.randint(1, max(b, 2), (b, s), generator=generator)  # 1..B−1: never the row itself
    donor = (torch.arange(b)[:, None] + offset) % b
    if b < 2 or p == 0:
        return Corrupted(x, torch.zeros_like(mask), torch.arange(b)[:, None].expand(b, s))
    mask, donor = mask.to(x.device), donor.to(x.device)
    return Corrupted(torch.where(mask, torch.gather(x, 0, donor), x), mask, donor)
