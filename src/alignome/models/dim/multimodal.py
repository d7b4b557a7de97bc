"""Two modalities, one encoder each, with the heads every objective of paper 001 shares.

Per modality ``i``: a :class:`DCGANEncoder3D` ``E_i`` to the latent ``z_i``; a convolutional projection
``φ_i`` of its side-8 layer; the identity as latent head ``ψ_i``; a decoder when an objective
reconstructs; a linear diagnosis head for the supervised reference. Objectives combined read the
same heads, so a combination is multi-task learning over one set of projections.

For MMVAE the encoder outputs ``2·latent_dim`` numbers, the mean and log-variance of ``q(z | x_i)``;
``latent`` is then the mean (what a probe reads).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from alignome.models.cnn3d import NormKind
from alignome.models.dim.dcgan3d import DCGANDecoder3D, DCGANEncoder3D
from alignome.models.dim.heads import ConvProjection

#: Number of modalities (T1 and fALFF in the paper).
MODALITIES = 2


@dataclass
class ModalityOutput:
    """One modality's batch through its encoder and heads.

    ``latent`` ``(B, d)`` (ψ is the identity, so it is also the latent head's embedding);
    ``locations`` ``(B, L, d)``: ``φ_i`` of each of the ``L = 8³`` locations of the side-8 layer;
    ``logvar`` ``(B, d)`` for a variational encoder, else None;
    ``recon`` the decoded latent when the model has decoders, else None;
    ``logit`` ``(B,)`` of the diagnosis head when the model has one, else None.
    """

    latent: Tensor
    locations: Tensor
    logvar: Tensor | None = None
    recon: Tensor | None = None
    logit: Tensor | None = None


class MultimodalDIM(nn.Module):
    """Encoders, projections and optional decoders / diagnosis heads of two modalities.

    Parameters
    ----------
    size
        Side of the cubic input volumes.
    latent_dim
        Size of each latent and of every projection (64 in the paper).
    base_width
        First-block channels of the encoders (and last-block channels of the decoders).
    decoders
        Give each modality a decoder (AE, DCCAE, MMVAE).
    variational
        Encoders output mean and log-variance (MMVAE).
    classifier
        A linear diagnosis head on each latent (the supervised reference).
    """

    def __init__(self, size: int = 64, latent_dim: int = 64, base_width: int = 16, norm: NormKind = "group",
                 decoders: bool = False, variational: bool = False, classifier: bool = False) -> None:
        super().__init__()
        out = 2 * latent_dim if variational else latent_dim
        self.encoders = nn.ModuleList(DCGANEncoder3D(size, out, base_width, norm) for _ in range(MODALITIES))
        channels = self.encoders[0].feature_channels
        self.projections = nn.ModuleList(ConvProjection(channels, latent_dim) for _ in range(MODALITIES))
        self.decoders = (nn.ModuleList(DCGANDecoder3D(size, latent_dim, base_width, norm) for _ in range(MODALITIES))
                         if decoders else None)
        self.heads = nn.ModuleList(nn.Linear(latent_dim, 1) for _ in range(MODALITIES)) if classifier else None
        self.size, self.latent_dim, self.variational = size, latent_dim, variational

    def encode(self, i: int, x: Tensor) -> ModalityOutput:
        """Modality ``i``'s volumes ``(B, 1, s, s, s)`` through its encoder and heads (decoding the mean)."""
        enc = self.encoders[i](x)
        latent, logvar = enc.latent, None
        if self.variational:
            latent, logvar = latent.chunk(2, dim=1)
        recon = self.decoders[i](latent) if self.decoders is not None and not self.variational else None
        logit = self.heads[i](latent).squeeze(1) if self.heads is not None else None
        return ModalityOutput(latent, self.projections[i](enc.features), logvar, recon, logit)

    def decode(self, i: int, z: Tensor) -> Tensor:
        """Modality ``i``'s decoder applied to latents ``(N, d)``."""
        if self.decoders is None:
            raise RuntimeError("this model has no decoders")
        return self.decoders[i](z)

    def latent_encoder(self, i: int) -> nn.Module:
        """Modality ``i``'s volumes → latents ``(B, d)`` (the mean of a variational encoder), for saliency."""
        return _LatentOnly(self.encoders[i], self.latent_dim)

    def forward(self, x1: Tensor, x2: Tensor) -> tuple[ModalityOutput, ModalityOutput]:
        """Both modalities of a batch of pairs."""
        return self.encode(0, x1), self.encode(1, x2)


class _LatentOnly(nn.Module):
    """An encoder's first ``latent_dim`` outputs, without the heads."""

    def __init__(self, encoder: DCGANEncoder3D, latent_dim: int) -> None:
        super().__init__()
        self.encoder, self.latent_dim = encoder, latent_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.encoder(x).latent[:, : self.latent_dim]
