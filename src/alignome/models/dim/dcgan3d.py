"""DCGAN-style 3D encoder and decoder (paper 001, section 3.2).

The encoder halves a cubic volume with ``Conv3d(k=4, stride 2, padding 1) → norm → LeakyReLU(0.2)``
blocks down to side 4, then a ``k=4`` convolution maps the 4³ grid to the latent (DCGAN's
discriminator layout, its last layer giving ``latent_dim`` numbers instead of one). Widths double
per block from ``base_width``. The output of the block of spatial side 8 is returned too: the
convolutional projection heads of the contrastive objectives read it.

The norm defaults to GroupNorm (DCGAN used BatchNorm): a per-sample norm keeps an embedding
independent of the rest of its batch, which batch statistics would leak into a contrastive score
(see :mod:`alignome.models.cnn3d`).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from alignome.models.cnn3d import NormKind, norm_layer

#: Spatial side of the encoder layer the convolutional projection heads read.
FEATURE_SIDE = 8
#: Side the strided blocks shrink a volume to before the last convolution.
LAST_SIDE = 4


def _blocks_for(size: int) -> int:
    """Number of halving blocks from side ``size`` down to :data:`LAST_SIDE` (``size`` a power of two ≥ 16)."""
    n, side = 0, size
    while side > LAST_SIDE:
        if side % 2:
            break
        side //= 2
        n += 1
    if side != LAST_SIDE or size < 2 * FEATURE_SIDE:
        raise ValueError(f"input side must be a power of two of at least {2 * FEATURE_SIDE} (e.g. 32 or 64), got {size}")
    return n


@dataclass
class EncoderOutput:
    """A batch encoded: ``latent`` ``(B, latent_dim)`` and ``features`` ``(B, C, 8, 8, 8)`` of the side-8 layer."""

    latent: Tensor
    features: Tensor


class DCGANEncoder3D(nn.Module):
    """Strided 4³ convolutions from a cubic volume to a latent vector, exposing the side-8 layer.

    Parameters
    ----------
    size
        Side of the input volume (64 in the paper; 32 for quick runs).
    latent_dim
        Size of the latent (64 in the paper); an MMVAE encoder asks for twice that (mean and log-variance).
    base_width
        Channels of the first block; each further block doubles them.
    norm
        Normalisation of every block but the first (DCGAN leaves the first unnormalised).
    """

    def __init__(self, size: int = 64, latent_dim: int = 64, base_width: int = 16, norm: NormKind = "group") -> None:
        super().__init__()
        n = _blocks_for(size)
        widths = [base_width * 2**i for i in range(n)]
        self.blocks = nn.ModuleList()
        c_in = 1
        for i, c_out in enumerate(widths):
            layers: list[nn.Module] = [nn.Conv3d(c_in, c_out, 4, stride=2, padding=1, bias=i == 0)]
            if i > 0:
                layers.append(norm_layer(norm, c_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            self.blocks.append(nn.Sequential(*layers))
            c_in = c_out
        self.to_latent = nn.Conv3d(c_in, latent_dim, LAST_SIDE)
        self.feature_block = n - 2  # the last block gives side 4, the one before it side 8
        self.feature_channels = widths[self.feature_block]
        self.size, self.latent_dim, self.widths = size, latent_dim, tuple(widths)

    def forward(self, x: Tensor) -> EncoderOutput:
        """Encode ``(B, 1, size, size, size)`` volumes."""
        if x.ndim != 5 or x.shape[1] != 1 or tuple(x.shape[2:]) != (self.size,) * 3:
            raise ValueError(f"expected a (B, 1, {self.size}, {self.size}, {self.size}) tensor, got {tuple(x.shape)}")
        features = None
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == self.feature_block:
                features = x
        return EncoderOutput(latent=self.to_latent(x).flatten(1), features=features)


class DCGANDecoder3D(nn.Module):
    """The encoder mirrored: a ``k=4`` transposed convolution to 4³, then doubling blocks up to side ``size``.

    Blocks are ``ConvTranspose3d(k=4, stride 2, padding 1) → norm → ReLU``; the last one outputs
    one channel without norm or activation (intensities are z-scored, so unbounded).
    """

    def __init__(self, size: int = 64, latent_dim: int = 64, base_width: int = 16, norm: NormKind = "group") -> None:
        super().__init__()
        n = _blocks_for(size)
        widths = [base_width * 2**i for i in range(n)][::-1]
        self.from_latent = nn.Sequential(
            nn.ConvTranspose3d(latent_dim, widths[0], LAST_SIDE, bias=False), norm_layer(norm, widths[0]), nn.ReLU(inplace=True)
        )
        layers: list[nn.Module] = []
        for i in range(n):
            c_in = widths[i]
            if i == n - 1:
                layers.append(nn.ConvTranspose3d(c_in, 1, 4, stride=2, padding=1))
            else:
                c_out = widths[i + 1]
                layers += [nn.ConvTranspose3d(c_in, c_out, 4, stride=2, padding=1, bias=False), norm_layer(norm, c_out),
                           nn.ReLU(inplace=True)]
        self.blocks = nn.Sequential(*layers)
        self.size, self.latent_dim = size, latent_dim

    def forward(self, z: Tensor) -> Tensor:
        """Decode ``(B, latent_dim)`` latents into ``(B, 1, size, size, size)`` volumes."""
        return self.blocks(self.from_latent(z[:, :, None, None, None]))
