"""The separable dot-product critic and its penalised, clipped InfoNCE bound (paper 001, sections 2.2 and 3.2).

For anchors ``u[m, l]`` (sample ``m``, location ``l``) and candidates ``v[k, l]`` of dimension ``n``
the critic is ``f(u, v) = uᵀv / √n`` (section 2.2 names ``n``, the latent dimension, in the critic;
AMDIM scales alike). The positive of anchor ``(m, l)`` is ``v[m, l]``; its negatives are ``v[k, l]``,
``k ≠ m``, at the same location (a latent has one location, shared by every anchor location).
The bound is ``log(exp f⁺ / (1/N Σ_k exp f_k))``; the loss returned is its negative mean without
the constant ``log N``. As in AMDIM, the squared scores are penalised (``λ·mean f²``) and the
scores entering the softmax are clipped by ``c·tanh(f/c)``, both on the scaled ``f``. Without the
``1/√n`` the penalty weighs ``√n`` (8) times more against the bound for 64-d embeddings; on the
simulated cohort L-CL's embeddings then shrank towards 0, where the bound sits at chance
(``log N``), and stayed there.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

#: λ of the squared-score penalty and c of the tanh clip (paper 001, section 3.2).
PENALTY = 4e-2
CLIP = 20.0


@dataclass
class InfoNCEBound:
    """``loss``: negative mean log-softmax of the positives; ``penalty``: ``λ·mean f²`` over all scores."""

    loss: Tensor
    penalty: Tensor

    @property
    def total(self) -> Tensor:
        return self.loss + self.penalty


def tanh_clip(scores: Tensor, clip: float = CLIP) -> Tensor:
    """``c·tanh(s/c)``: near the identity for ``|s| ≪ c``, bounded by ``±c``."""
    return clip * torch.tanh(scores / clip)


def separable_scores(u: Tensor, v: Tensor) -> Tensor:
    """``f(u[m, l], v[k, l]) = u·v / √d`` as ``(M, K, L)`` from ``u`` ``(M, L, d)`` and ``v`` ``(K, L or 1, d)``."""
    if u.ndim != 3 or v.ndim != 3 or u.shape[2] != v.shape[2] or v.shape[1] not in (1, u.shape[1]):
        raise ValueError(f"u (M, L, d) and v (K, L or 1, d) do not match: {tuple(u.shape)}, {tuple(v.shape)}")
    return torch.einsum("mld,kld->mkl", u, v.expand(-1, u.shape[1], -1)) / u.shape[2] ** 0.5


def infonce_bound(u: Tensor, v: Tensor, penalty: float = PENALTY, clip: float = CLIP) -> InfoNCEBound:
    """InfoNCE of anchors ``u`` ``(B, L, d)`` against candidates ``v`` ``(B, L or 1, d)``, positives on ``m = k``."""
    if u.shape[0] != v.shape[0]:
        raise ValueError(f"u and v must hold the same samples, got batches {u.shape[0]} and {v.shape[0]}")
    raw = separable_scores(u, v)
    log_softmax = torch.log_softmax(tanh_clip(raw, clip), dim=1)
    positives = torch.diagonal(log_softmax, dim1=0, dim2=1)  # (L, B)
    return InfoNCEBound(loss=-positives.mean(), penalty=penalty * raw.pow(2).mean())
