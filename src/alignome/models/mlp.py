"""Multilayer perceptron of Linear → Norm → Activation → Dropout blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import Tensor, nn

_ACTIVATIONS: dict[str, type[nn.Module]] = {"gelu": nn.GELU, "relu": nn.ReLU}


class MLP(nn.Module):
    """A stack of hidden blocks followed by a final linear layer.

    Each hidden block is ``Linear → LayerNorm|BatchNorm1d → GELU|ReLU → Dropout``;
    the last layer is a plain ``Linear`` to ``out_dim`` (a projection).

    Parameters
    ----------
    in_dim
        Input features.
    hidden
        Widths of the hidden blocks (empty: a single linear layer).
    out_dim
        Output features.
    dropout
        Dropout probability after each hidden activation.
    norm
        ``"layer"`` (default), ``"batch"`` or ``"none"``.
    activation
        ``"gelu"`` (default) or ``"relu"``.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int],
        out_dim: int,
        dropout: float = 0.0,
        norm: Literal["layer", "batch", "none"] = "layer",
        activation: Literal["gelu", "relu"] = "gelu",
    ) -> None:
        super().__init__()
        if norm not in ("layer", "batch", "none"):
            raise ValueError(f"norm must be 'layer', 'batch' or 'none', got {norm!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        layers: list[nn.Module] = []
        width = in_dim
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if norm == "layer":
                layers.append(nn.LayerNorm(h))
            elif norm == "batch":
                layers.append(nn.BatchNorm1d(h))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)
        self.in_dim = in_dim
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        """Map ``(n, in_dim)`` to ``(n, out_dim)``."""
        return self.net(x)
