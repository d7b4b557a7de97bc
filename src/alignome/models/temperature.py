"""A learnable (or fixed) contrastive temperature stored as ``log(1/τ)``, clamped (open_clip).

The model holds ``log(1/τ)``: a parameter when learnable, a buffer when fixed, initialised
from ``temperature`` (:func:`register_log_scale`). The loss takes the multiplier
``1/τ = exp(log(1/τ))``, with ``log(1/τ)`` clamped at ``ln(max_scale)`` (open_clip's 100) so
the logits cannot blow up (:func:`scale_from_log`); feed it to
:func:`alignome.objectives.contrastive_loss` as ``logit_scale=``. :class:`Temperature` is
the stand-alone module; a model that keeps ``log(1/τ)`` under its own name (the 3D CNN's
``logit_scale``, which its checkpoints carry) registers it with the same two functions.
It lives in ``models`` because models hold it and ``objectives`` already depends on ``models``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

#: Upper bound of a learnable logit scale (open_clip): 1/τ ≤ 100.
MAX_LOGIT_SCALE = 100.0


def register_log_scale(module: nn.Module, name: str, temperature: float, learnable: bool) -> None:
    """Store ``log(1/τ)`` on ``module`` as ``name``: a parameter when ``learnable``, a buffer otherwise."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    init = torch.tensor(math.log(1.0 / temperature), dtype=torch.float32)
    if learnable:
        module.register_parameter(name, nn.Parameter(init))
    else:
        module.register_buffer(name, init)


def scale_from_log(log_scale: Tensor, max_scale: float = MAX_LOGIT_SCALE) -> Tensor:
    """The logit multiplier ``1/τ = exp(log_scale)``, ``log_scale`` clamped at ``ln(max_scale)``."""
    return log_scale.clamp(max=math.log(max_scale)).exp()


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
        if not max_scale > 0:
            raise ValueError(f"max_scale must be positive, got {max_scale}")
        self.learnable = bool(learnable)
        self.max_scale = float(max_scale)
        register_log_scale(self, "log_scale", temperature, self.learnable)

    def forward(self) -> Tensor:
        """The logit multiplier ``1/τ``, a scalar tensor (with gradient when learnable)."""
        return scale_from_log(self.log_scale, self.max_scale)

    @property
    def value(self) -> float:
        """The current τ as a float."""
        return float(1.0 / self.forward().detach())
