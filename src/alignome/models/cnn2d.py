"""Small 2D CNN image encoder (GEMCONT's phenotype encoder on 2 CPU cores).

``len(widths)`` blocks of ``Conv2d(k=3, stride 2, padding 1) → GroupNorm → ReLU`` halve
the image each time; an adaptive average pool keeps a ``pool_size``² layout of the last
block, flattened into ``features``. Three blocks suit 28×28 glyphs (→ 4×4), five suit
256×256 curve images (→ 8×8). GroupNorm normalises each image on its own, so an embedding
never depends on the other images of its batch (BatchNorm would leak batch statistics
into a contrastive loss). Keeping a coarse spatial layout (``pool_size`` 2) rather than a
global average lets the features say *where* strokes are, which a rotation changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn


class CNN2DEncoder(nn.Module):
    """Strided 2D convolution blocks and a small adaptive pool, flattened.

    Parameters
    ----------
    widths
        Output channels of each block (one stride-2 block per entry).
    in_channels
        Image channels (1 grayscale, 3 RGB).
    pool_size
        Side of the pooled layout kept from the last block.
    """

    def __init__(self, widths: Sequence[int] = (16, 32, 64), in_channels: int = 1, pool_size: int = 2) -> None:
        super().__init__()
        if not widths or min(widths) < 1:
            raise ValueError(f"widths must list at least one positive channel count, got {list(widths)}")
        layers: list[nn.Module] = []
        prev = in_channels
        for w in widths:
            layers += [nn.Conv2d(prev, w, 3, stride=2, padding=1, bias=False),
                       nn.GroupNorm(math.gcd(w, 8), w), nn.ReLU(inplace=True)]
            prev = w
        self.trunk = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.channels = prev
        self.out_dim = prev * pool_size * pool_size

    def feature_map(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` images → ``(B, widths[-1], H', W')`` last-block activations."""
        return self.trunk(x)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` images → ``(B, out_dim)`` features."""
        return self.pool(self.trunk(x)).flatten(1)


class ImageEmbedder(nn.Module):
    """Encoder → features ``e`` → 2-layer projection → embedding (unit norm in ``forward``'s ``z``).

    ``forward`` returns ``features`` (e_p), ``projection`` (before normalising) and ``z``
    (unit norm), so one model serves the contrastive losses, a supervised head and the
    embedding read out for probes and GWAS.
    """

    def __init__(self, encoder: nn.Module, feature_dim: int, embedding_dim: int, hidden: int | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(hidden or feature_dim)
        self.projection = nn.Sequential(nn.Linear(feature_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, embedding_dim))
        self.embedding_dim = embedding_dim

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """Images → ``features``, ``projection`` and unit-norm ``z``."""
        features = self.encoder(x)
        projection = self.projection(features)
        return {"features": features, "projection": projection, "z": F.normalize(projection, dim=1)}
