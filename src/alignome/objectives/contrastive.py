"""Symmetric cross-modal contrastive loss (InfoNCE), decoupled or standard.

Paper 000 (Fallmann & Kobler) uses cosine similarity divided by a temperature
and, for anchor ``i`` of modality ``a``,

.. math::

    \\ell_i = -\\log \\frac{\\exp(s_{ii}/\\tau)}{\\sum_{k \\ne i} \\exp(s_{ik}/\\tau)},

i.e. the positive is *not* in the denominator (the "decoupled" form of
Yeh et al., 2022). The total is :math:`\\frac{1}{2N}\\sum_i [\\ell(a_i, B) + \\ell(b_i, A)]`.
The ``standard`` form is the usual InfoNCE / CLIP loss (cross-entropy, positive
included in the denominator).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

ContrastiveForm = Literal["decoupled", "standard"]


def _per_anchor(logits: Tensor, form: ContrastiveForm, excluded: Tensor | None) -> Tensor:
    """Loss of each row of ``logits`` (an anchor) against the columns.

    ``excluded`` marks off-diagonal cells left out of the denominator (e.g. other
    visits of the anchor's subject), so they count neither as positive nor negative.
    """
    positives = torch.diagonal(logits)
    drop = torch.zeros_like(logits, dtype=torch.bool) if excluded is None else excluded.clone()
    drop.fill_diagonal_(form != "standard")
    denom = torch.logsumexp(logits.masked_fill(drop, float("-inf")), dim=1)
    return denom - positives


def _check_positive_scalar(value: float | Tensor, name: str) -> None:
    """Raise ValueError unless ``value`` is a positive scalar (float or one-element tensor).

    The sign of a tensor is checked only on the CPU: reading a GPU tensor on the
    host waits for every queued kernel, a stall in every training step. A tensor
    on an accelerator has its shape checked only (the models pass ``exp(·)``,
    positive by construction).
    """
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a scalar, got a tensor of shape {tuple(value.shape)}")
        if value.device.type != "cpu":
            return
        value = float(value.detach())
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")


def contrastive_loss(
    z_a: Tensor,
    z_b: Tensor,
    temperature: float | Tensor | None = None,
    form: ContrastiveForm = "decoupled",
    *,
    logit_scale: Tensor | float | None = None,
    groups: Tensor | None = None,
) -> dict[str, Tensor]:
    """Symmetric contrastive loss between two batches of paired embeddings.

    Row ``i`` of ``z_a`` and row ``i`` of ``z_b`` are a positive pair; every
    other row of the other modality is a negative.

    Parameters
    ----------
    z_a, z_b
        Embeddings, shape ``(N, d)``; they need not be normalised (cosine
        similarity is used).
    temperature
        Temperature :math:`\\tau > 0`; similarities are divided by it. A
        tensor (e.g. a learnable temperature) keeps its gradient.
    form
        ``"decoupled"`` (paper 000: positive excluded from the denominator) or
        ``"standard"`` (InfoNCE / CLIP: positive included).
    logit_scale
        Alternative to ``temperature`` (open_clip convention): the multiplier
        :math:`1/\\tau`, e.g. ``model(x)["logit_scale"]``; similarities are
        multiplied by it and a tensor keeps its gradient. Give exactly one of
        ``temperature`` and ``logit_scale``.
    groups
        Optional ``(N,)`` integer group (subject) of each pair. When given, pairs
        of the same group other than the positive itself are left out of every
        denominator: another visit of the anchor's subject is then not a negative.
        Without it (the default, and paper 000's reading) they are negatives.

    Returns
    -------
    dict of str to Tensor
        ``loss`` (scalar, the mean of both directions), ``a_to_b`` (mean over
        anchors of ``z_a``), ``b_to_a`` (mean over anchors of ``z_b``), and the
        per-anchor losses ``a_to_b_each`` and ``b_to_a_each`` (shape ``(N,)``).

    Raises
    ------
    ValueError
        On mismatched shapes, a non-positive temperature or logit scale, both or
        neither of them given, an unknown form, or a batch with fewer than two
        pairs (no negatives).
    """
    if z_a.ndim != 2 or z_a.shape != z_b.shape:
        raise ValueError(f"z_a and z_b must both be (N, d) with equal shapes, got {tuple(z_a.shape)} and {tuple(z_b.shape)}")
    if z_a.shape[0] < 2:
        raise ValueError("a contrastive batch needs at least two pairs (one positive and one negative)")
    if (temperature is None) == (logit_scale is None):
        raise ValueError("give exactly one of temperature and logit_scale")
    if temperature is not None:
        _check_positive_scalar(temperature, "temperature")
    else:
        _check_positive_scalar(logit_scale, "logit_scale")
    if form not in ("decoupled", "standard"):
        raise ValueError(f"form must be 'decoupled' or 'standard', got {form!r}")
    excluded = None
    if groups is not None:
        if groups.shape != (z_a.shape[0],):
            raise ValueError(f"groups must have shape ({z_a.shape[0]},), got {tuple(groups.shape)}")
        excluded = groups[:, None] == groups[None, :]
        excluded.fill_diagonal_(False)
    a = F.normalize(z_a, dim=1)
    b = F.normalize(z_b, dim=1)
    sim = a @ b.T
    logits = sim / temperature if temperature is not None else sim * logit_scale
    a_to_b_each = _per_anchor(logits, form, excluded)
    b_to_a_each = _per_anchor(logits.T, form, excluded)
    a_to_b, b_to_a = a_to_b_each.mean(), b_to_a_each.mean()
    return {
        "loss": 0.5 * (a_to_b + b_to_a),
        "a_to_b": a_to_b,
        "b_to_a": b_to_a,
        "a_to_b_each": a_to_b_each,
        "b_to_a_each": b_to_a_each,
    }
