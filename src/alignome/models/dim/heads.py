"""Projection heads of the contrastive objectives (paper 001, section 3.2)."""

from __future__ import annotations

from torch import Tensor, nn


class ConvProjection(nn.Module):
    """Two 1×1×1 convolutions (ReLU between) from a layer's channels to ``out_dim``, per location.

    Returns ``(B, L, out_dim)``: the embedding of each of the ``L = D·H·W`` locations.
    """

    def __init__(self, in_channels: int, out_dim: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv3d(in_channels, out_dim, 1), nn.ReLU(inplace=True), nn.Conv3d(out_dim, out_dim, 1)
        )

    def forward(self, features: Tensor) -> Tensor:
        """Project ``(B, C, D, H, W)`` features to ``(B, D·H·W, out_dim)`` location embeddings."""
        return self.net(features).flatten(2).transpose(1, 2)
