"""Linear genotype projector of GEMCONT (paper 003): S panel variants → unit-norm z_g ∈ R^d.

``z_g = normalize(W x + b)`` with ``W`` (d×S), ``x`` the allele counts of the panel.

Initialisation from the panel's GWAS effects ``β`` (length S), ``init="effects"``:

* row 0 of ``W`` is ``β`` itself, so output 0 starts as the polygenic score ``xᵀβ``
  (the paper: "weights connected to each input variant were initialized to the
  corresponding effect size");
* rows 1..d−1 are random directions orthogonal to ``β`` (and to each other while d ≤ S), each
  of norm ``other_scale·‖β‖``: small, so the score dominates at the start, and orthogonal to
  ``β``, so they add no second copy of it;
* the bias is ``−W·mean`` with ``mean`` the allele-count means of the *training* subjects,
  so every output starts centred (uncentred counts would put every ``z_g`` near the same
  point of the sphere, where the contrastive loss has almost no gradient).

``init="random"`` (the ablation) draws ``W`` as ``nn.Linear`` does and centres the same way.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

ProjectorInit = Literal["effects", "random"]


class GenotypeProjector(nn.Module):
    """Linear map of allele counts to a unit-norm embedding.

    Parameters
    ----------
    n_variants
        S, the panel size.
    dim
        d, the embedding size.
    init
        ``"effects"`` (needs ``effects``) or ``"random"``.
    effects
        Length-S GWAS effect sizes of the panel (per counted allele).
    center
        Length-S allele-count means of the training subjects (zeros when absent).
    other_scale
        Norm of rows 1..d−1 relative to ``‖β‖`` under ``init="effects"``.
    seed
        Seeds the random rows.
    """

    def __init__(self, n_variants: int, dim: int, init: ProjectorInit = "effects", effects: np.ndarray | None = None,
                 center: np.ndarray | None = None, other_scale: float = 0.1, seed: int = 0) -> None:
        super().__init__()
        if n_variants < 1 or dim < 1:
            raise ValueError(f"n_variants and dim must be >= 1, got {n_variants} and {dim}")
        self.linear = nn.Linear(n_variants, dim)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            if init == "effects":
                if effects is None:
                    raise ValueError("init='effects' needs the panel's effect sizes")
                self.linear.weight.copy_(effect_init(np.asarray(effects, dtype=np.float64), dim, other_scale, gen))
            elif init == "random":
                bound = 1.0 / np.sqrt(n_variants)  # nn.Linear's default, drawn from our generator
                self.linear.weight.uniform_(-bound, bound, generator=gen)
            else:
                raise ValueError(f"init must be 'effects' or 'random', got {init!r}")
            mean = torch.zeros(n_variants) if center is None else torch.as_tensor(np.asarray(center), dtype=torch.float32)
            if mean.shape != (n_variants,):
                raise ValueError(f"center must have {n_variants} values, got {tuple(mean.shape)}")
            self.linear.bias.copy_(-(self.linear.weight @ mean))
        self.init = init

    def forward(self, x: Tensor) -> Tensor:
        """``(B, S)`` allele counts → ``(B, d)`` unit-norm embeddings."""
        return F.normalize(self.linear(x), dim=1)


def effect_init(effects: np.ndarray, dim: int, other_scale: float, gen: torch.Generator) -> Tensor:
    """The d×S initial weight: row 0 = ``effects``, the others small and orthogonal to it (and to each other while d ≤ S)."""
    if effects.ndim != 1 or not np.all(np.isfinite(effects)):
        raise ValueError("effects must be a finite vector of one effect size per variant")
    s = effects.shape[0]
    norm = float(np.linalg.norm(effects))
    if norm == 0:
        raise ValueError("effects are all zero: they cannot initialise the projector (use init='random')")
    weight = torch.zeros(dim, s, dtype=torch.float64)
    weight[0] = torch.tensor(effects)
    if dim > 1:
        unit = weight[0] / norm
        rows = torch.randn(dim - 1, s, generator=gen, dtype=torch.float64)
        if s > 1:  # one variant (a PRS as the only input) leaves no direction ⟂ β: the rows stay random
            rows = rows - (rows @ unit)[:, None] * unit[None]  # ⟂ β
        if dim <= s:  # room for mutually orthogonal rows as well
            basis = torch.cat([unit[:, None], rows.T], dim=1)
            rows = torch.linalg.qr(basis)[0][:, 1:].T
        weight[1:] = rows / rows.norm(dim=1, keepdim=True) * (other_scale * norm)
    return weight.float()
