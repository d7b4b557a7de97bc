"""Objectives of paper 001 by name, alone or combined (multi-task learning over one set of heads).

A name joins components with ``-``: ``L``, ``CL``, ``CS``, ``S`` (InfoNCE constructions of section 2.3),
``AE`` (reconstruction), ``CCA`` (DCCA's total correlation of the two latents), ``MMVAE`` (IWAE bound
with a mixture-of-experts posterior) and ``supervised`` (diagnosis cross-entropy, the reference).
``DCCAE`` stands for ``CCA-AE``; so ``S-AE``, ``L-CCA``, ``L-CL`` or ``L-CL-CS-S`` are combinations.

With ``φ_i`` the convolutional projection of modality ``i``'s side-8 layer (per location) and
``ψ_i`` the identity on its latent, for modalities ``i ≠ j``:

- ``L``: ``f(φ_i(c^i_{l,m}), ψ_i(z^i_m))`` for each modality (local DIM);
- ``CL``: ``f(φ_i(c^i_{l,m}), ψ_j(z^j_k))``, both directions;
- ``CS``: ``f(φ_i(c^i_{l,m}), φ_j(c^j_{l,k}))``, both directions;
- ``S``: ``f(ψ_i(z^i_m), ψ_j(z^j_k))``, both directions;

the positive at ``k = m``, negatives at ``k ≠ m`` (:func:`~alignome.objectives.dim.critic.infonce_bound`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from alignome.models.dim.multimodal import ModalityOutput, MultimodalDIM
from alignome.objectives.dim.cca import cca_loss
from alignome.objectives.dim.critic import CLIP, PENALTY, infonce_bound
from alignome.objectives.dim.mmvae import mmvae_iwae_bound

#: The InfoNCE constructions of section 2.3.
CONTRASTIVE = ("L", "CL", "CS", "S")
#: Every component a name may join.
COMPONENTS = (*CONTRASTIVE, "AE", "CCA", "MMVAE", "supervised")
#: Names standing for a combination.
ALIASES = {"DCCAE": ("CCA", "AE")}


@dataclass(frozen=True)
class Needs:
    """What the model of an objective must have: decoders, variational encoders, a diagnosis head."""

    decoders: bool
    variational: bool
    classifier: bool


def parse_objective(name: str) -> tuple[str, ...]:
    """The components of an objective name, in :data:`COMPONENTS` order; a ValueError naming the unknown part."""
    parts: list[str] = []
    for part in name.split("-"):
        found = ALIASES.get(part, (part,))
        for p in found:
            if p not in COMPONENTS:
                raise ValueError(f"unknown objective component '{part}' in '{name}'; "
                                 f"join {list(COMPONENTS)} (or {list(ALIASES)}) with '-'")
        parts += found
    if len(set(parts)) != len(parts):
        raise ValueError(f"objective '{name}' names a component twice")
    if "MMVAE" in parts and "AE" in parts:
        raise ValueError(f"objective '{name}': MMVAE already reconstructs through its decoders; drop 'AE'")
    return tuple(c for c in COMPONENTS if c in parts)


def _pairs(a: ModalityOutput, b: ModalityOutput, component: str) -> list[tuple[Tensor, Tensor]]:
    """(anchors, candidates) of each InfoNCE term of a construction, latents as one location."""
    outs = (a, b)
    lat = [o.latent[:, None, :] for o in outs]
    loc = [o.locations for o in outs]
    if component == "L":
        return [(loc[i], lat[i]) for i in range(2)]
    if component == "CL":
        return [(loc[i], lat[1 - i]) for i in range(2)]
    if component == "CS":
        return [(loc[i], loc[1 - i]) for i in range(2)]
    return [(lat[i], lat[1 - i]) for i in range(2)]


class DIMObjective:
    """A named objective: ``objective(model, x1, x2, y)`` → named loss terms and their sum ``loss``.

    Parameters
    ----------
    name
        Components joined by ``-`` (:func:`parse_objective`).
    penalty, clip
        λ and c of each InfoNCE bound.
    iwae_samples
        K of the MMVAE bound.
    """

    def __init__(self, name: str, penalty: float = PENALTY, clip: float = CLIP, iwae_samples: int = 1) -> None:
        self.name, self.components = name, parse_objective(name)
        self.penalty, self.clip, self.iwae_samples = penalty, clip, iwae_samples
        self.needs = Needs(decoders=any(c in self.components for c in ("AE", "MMVAE")),
                           variational="MMVAE" in self.components, classifier="supervised" in self.components)

    def __call__(self, model: MultimodalDIM, x1: Tensor, x2: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Loss terms of a batch of pairs; ``y`` holds 1 (AD), 0 (HC) or -1 (no label: left out of ``supervised``)."""
        a, b = model(x1, x2)
        terms: dict[str, Tensor] = {}
        for c in self.components:
            if c in CONTRASTIVE:
                bounds = [infonce_bound(u, v, self.penalty, self.clip) for u, v in _pairs(a, b, c)]
                terms[c] = sum(bd.total for bd in bounds)
            elif c == "AE":
                terms[c] = F.mse_loss(a.recon, x1) + F.mse_loss(b.recon, x2)
            elif c == "CCA":
                terms[c] = cca_loss(a.latent, b.latent)
            elif c == "MMVAE":
                voxels = x1[0].numel() + x2[0].numel()  # per voxel, on the scale of the other terms
                bound = mmvae_iwae_bound(model.decode, (a.latent, b.latent), (a.logvar, b.logvar), (x1, x2),
                                         self.iwae_samples)
                terms[c] = -bound / voxels
            elif c == "supervised":
                known = y >= 0
                terms[c] = sum(F.binary_cross_entropy_with_logits(o.logit[known], y[known].float())
                               for o in (a, b)) if known.any() else a.latent.sum() * 0.0
        terms["loss"] = torch.stack([terms[c] for c in self.components if c in terms]).sum()
        return terms
