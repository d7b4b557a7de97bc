"""Frozen backbone + gated attention pooling (Ilse et al. 2018) + 2-layer MLP head (paper 003, fundus).

The backbone turns an image into a grid of feature vectors (tokens); the gated attention
of Ilse et al. weighs them, ``a_k ∝ exp(wᵀ(tanh(V h_k) ⊙ σ(U h_k)))``, and their weighted sum
goes through a two-layer MLP. The backbone is frozen (no gradient, eval mode) and its
weights come from a local checkpoint file (:func:`load_backbone`); nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from alignome.errors import DataError


class GatedAttentionPool(nn.Module):
    """Gated attention pooling of ``(B, K, C)`` tokens into ``(B, C)`` (Ilse et al. 2018, eq. 9)."""

    def __init__(self, dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.v = nn.Linear(dim, hidden)
        self.u = nn.Linear(dim, hidden)
        self.w = nn.Linear(hidden, 1)

    def weights(self, tokens: Tensor) -> Tensor:
        """``(B, K)`` attention weights, summing to one over the K tokens."""
        scores = self.w(torch.tanh(self.v(tokens)) * torch.sigmoid(self.u(tokens))).squeeze(-1)
        return scores.softmax(dim=1)

    def forward(self, tokens: Tensor) -> Tensor:
        return (self.weights(tokens).unsqueeze(-1) * tokens).sum(dim=1)


class FrozenBackboneEncoder(nn.Module):
    """A frozen backbone's feature map, attention-pooled, through a 2-layer MLP.

    ``backbone`` must provide ``feature_map(x) -> (B, C, H, W)`` and ``channels`` (C), as
    :class:`alignome.models.cnn2d.CNN2DEncoder` does.
    """

    def __init__(self, backbone: nn.Module, out_dim: int, attention_hidden: int = 64) -> None:
        super().__init__()
        self.backbone = backbone.requires_grad_(False).eval()
        c = backbone.channels
        self.pool = GatedAttentionPool(c, attention_hidden)
        self.head = nn.Sequential(nn.Linear(c, c), nn.ReLU(inplace=True), nn.Linear(c, out_dim))
        self.out_dim = out_dim

    def train(self, mode: bool = True) -> "FrozenBackboneEncoder":
        super().train(mode)
        self.backbone.eval()  # frozen: its normalisation statistics never update
        return self

    def forward(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            fmap = self.backbone.feature_map(x)
        tokens = fmap.flatten(2).transpose(1, 2)  # (B, H·W, C)
        return self.head(self.pool(tokens))


def load_backbone(backbone: nn.Module, path: str | Path) -> nn.Module:
    """Load a state dict saved with ``torch.save(model.state_dict(), path)`` into ``backbone``.

    Raises DataError naming the file when it is missing, unreadable, or its keys or shapes
    do not match the backbone's.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"backbone checkpoint {path} not found", file=path, field="backbone_checkpoint",
                        fix="give the path of a state dict saved with torch.save(model.state_dict(), path)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise DataError(f"cannot read backbone checkpoint {path}: {exc}", file=path, field="backbone_checkpoint",
                        fix="save it with torch.save(model.state_dict(), path)") from exc
    try:
        backbone.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise DataError(f"backbone checkpoint {path} does not fit the backbone: {exc}", file=path,
                        field="backbone_checkpoint", fix="use the widths the checkpoint was trained with") from exc
    return backbone
