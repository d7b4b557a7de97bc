"""A small convolutional VAE (Kingma & Welling 2014) sharing the CNN2D encoder: the unsupervised baseline of paper 003.

Encoder = :class:`alignome.models.cnn2d.CNN2DEncoder` → ``mu`` and ``log_var`` (linear);
decoder = linear → last-block grid → transposed stride-2 convolutions mirroring the
encoder → a sigmoid image. The embedding read out is ``mu``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from alignome.models.cnn2d import CNN2DEncoder


class ConvVAE2D(nn.Module):
    """VAE on ``(B, C, S, S)`` images in [0, 1]; ``size`` must be divisible by ``2**len(widths)``."""

    def __init__(self, size: int, widths: Sequence[int] = (16, 32, 64), latent_dim: int = 16, in_channels: int = 1,
                 pool_size: int = 2) -> None:
        super().__init__()
        self.encoder = CNN2DEncoder(widths, in_channels=in_channels, pool_size=pool_size)
        self.mu = nn.Linear(self.encoder.out_dim, latent_dim)
        self.log_var = nn.Linear(self.encoder.out_dim, latent_dim)
        self.grid = -(-size // 2 ** len(widths))
        self.widths = list(widths)
        self.size = size
        self.expand = nn.Linear(latent_dim, widths[-1] * self.grid * self.grid)
        layers: list[nn.Module] = []
        chans = [*reversed(widths), widths[0]]
        for i, (a, b) in enumerate(zip(chans[:-1], chans[1:])):
            layers.append(nn.ConvTranspose2d(a, b, 4, stride=2, padding=1))
            if i < len(widths) - 1:
                layers.append(nn.ReLU(inplace=True))
        layers += [nn.ReLU(inplace=True), nn.Conv2d(widths[0], in_channels, 3, padding=1)]
        self.decoder = nn.Sequential(*layers)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``mu`` and ``log_var`` of q(latent | x)."""
        h = self.encoder(x)
        return self.mu(h), self.log_var(h).clamp(-10, 10)

    def decode(self, latent: Tensor) -> Tensor:
        """Latent codes → images in [0, 1], cropped to ``size``."""
        h = self.expand(latent).view(-1, self.widths[-1], self.grid, self.grid)
        return torch.sigmoid(self.decoder(h))[..., : self.size, : self.size]

    def loss(self, x: Tensor, gen: torch.Generator, beta: float = 1.0) -> Tensor:
        """Negative ELBO per image: summed binary cross-entropy + ``beta``·KL, averaged over the batch."""
        mu, log_var = self.encode(x)
        eps = torch.randn(mu.shape, generator=gen).to(mu)
        recon = self.decode(mu + eps * (0.5 * log_var).exp())
        rec = F.binary_cross_entropy(recon, x.clamp(0, 1), reduction="sum") / x.shape[0]
        kl = -0.5 * (1 + log_var - mu.pow(2) - log_var.exp()).sum() / x.shape[0]
        return rec + beta * kl
