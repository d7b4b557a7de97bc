"""A learnable (or fixed) contrastive temperature stored as ``log(1/τ)``, clamped (open_clip).

The module holds ``log_scale = log(1/τ)``: a parameter when learnable, a buffer when
fixed, initialised from ``temperature``. Calling it returns the multiplier
``1/τ = exp(log_scale)``, with ``log_scale`` clamped at ``ln(max_scale)`` (open_clip's
100) so the logits cannot blow up; feed it to
:func:`alignome.objectives.contrastive_loss` as ``logit_scale=``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

#: Upper bound of a learnable logit scale (open_clip): 1/τ ≤ 100.
MAX_LOGIT_SCALE = 100.0


class Temperature(nn.Module):
    """``1/τ`` of a contrastive loss, learnable on the log scale or fixed.

    Parameters
    ----------
    temperature
        Initial τ > 0 (CLIP: 0.07).
    learnable
        Learn ``log(1/τ)`` (a parameter) or keep it fixed (a buffer).
    max_scale
        Clamp of ``1/τ`` (the log scale is clamped at ``ln(max_scale)``).
    """

    def __init__(self, temperature: float = 0.07, learnable: bool = True, max_scale: float = MAX_LOGIT_SCALE) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if not max_scale > 0:
            raise ValueError(f"max_scale must be positive, got {max_scale}")
        init = torch.tensor(math.log(1.0 / temperature), dtype=torch.float32)
        self.learnable = bool(learnable)
        self.max_log_scale = math.log(max_scale)
        if self.learnable:
            self.log_scale = nn.Parameter(init)
        else:
            self.register_buffer("log_scale", init)

    def forward(self) -> Tensor:
        """The logit multiplier ``1/τ``, a scalar tensor (with gradient when learnable)."""
        return self.log_scale.clamp(max=self.max_log_scale).exp()

    @property
    def value(self) -> float:
        """The current τ as a float."""
        return float(1.0 / self.forward().detach())
