"""Paper 000's dual-branch encoder-decoder for SNPs (+ age) and regional volumes."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from alignome.models.mlp import MLP


class SnpVolumeModel(nn.Module):
    """Genetic encoder f(snps ⊕ age), volume encoder g(volumes) and two decoders.

    Each encoder is an :class:`MLP` whose last linear layer projects to the
    latent ``z`` of size ``embedding_dim``. The decoders mirror the encoders
    (hidden widths reversed) and reconstruct the encoder inputs: SNP features
    from ``z_snp`` (age is not reconstructed) and volumes from ``z_mri``.

    Parameters
    ----------
    n_snps
        SNP features (already encoded as continuous values).
    n_regions
        Regional volumes.
    embedding_dim
        Latent size.
    hidden
        Hidden widths of the encoders (reversed for the decoders).
    dropout
        Dropout in the hidden blocks.
    age_conditioning
        If True the standardised age at scan is concatenated to the SNP
        features as one extra input (paper 000's time-aware genetic embedding);
        if False age is ignored.
    """

    def __init__(
        self,
        n_snps: int,
        n_regions: int,
        embedding_dim: int = 32,
        hidden: Sequence[int] = (128,),
        dropout: float = 0.1,
        age_conditioning: bool = True,
    ) -> None:
        super().__init__()
        self.n_snps = n_snps
        self.n_regions = n_regions
        self.embedding_dim = embedding_dim
        self.age_conditioning = age_conditioning
        hidden = list(hidden)
        self.snp_encoder = MLP(n_snps + int(age_conditioning), hidden, embedding_dim, dropout)
        self.mri_encoder = MLP(n_regions, hidden, embedding_dim, dropout)
        self.snp_decoder = MLP(embedding_dim, hidden[::-1], n_snps, dropout)
        self.mri_decoder = MLP(embedding_dim, hidden[::-1], n_regions, dropout)

    def encode_snp(self, snps: Tensor, age: Tensor | None = None) -> Tensor:
        """Genetic latent ``z_snp`` of shape ``(n, embedding_dim)``.

        ``age`` (shape ``(n,)`` or ``(n, 1)``) is required when
        ``age_conditioning`` is True and ignored otherwise.
        """
        if self.age_conditioning:
            if age is None:
                raise ValueError("this model is age-conditioned: pass the (standardised) age at scan")
            age = age.reshape(-1, 1).to(snps.dtype)
            if age.shape[0] != snps.shape[0]:
                raise ValueError(f"age has {age.shape[0]} rows but snps has {snps.shape[0]}")
            snps = torch.cat([snps, age], dim=1)
        return self.snp_encoder(snps)

    def encode_mri(self, volumes: Tensor) -> Tensor:
        """Volume latent ``z_mri`` of shape ``(n, embedding_dim)``."""
        return self.mri_encoder(volumes)

    def encode(self, snps: Tensor, age: Tensor | None, volumes: Tensor) -> tuple[Tensor, Tensor]:
        """Both latents ``(z_snp, z_mri)``."""
        return self.encode_snp(snps, age), self.encode_mri(volumes)

    def forward(self, snps: Tensor, age: Tensor | None, volumes: Tensor) -> dict[str, Tensor]:
        """Encode both modalities and reconstruct their inputs.

        Returns
        -------
        dict of str to Tensor
            ``z_snp``, ``z_mri`` (latents), ``recon_snp`` ``(n, n_snps)`` and
            ``recon_mri`` ``(n, n_regions)``.
        """
        z_snp, z_mri = self.encode(snps, age, volumes)
        return {
            "z_snp": z_snp,
            "z_mri": z_mri,
            "recon_snp": self.snp_decoder(z_snp),
            "recon_mri": self.mri_decoder(z_mri),
        }
