"""Paper 000's gated fusion network with diagnosis and MMSE heads."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from alignome.models.mlp import MLP

MODALITIES = ("snp", "mri")


class GatedFusionNet(nn.Module):
    """Modality-level gate over ``z_snp`` and ``z_mri`` followed by two MLP heads.

    ``[α_snp, α_mri] = softmax(W_g [z_snp, z_mri] + b_g)``,
    ``z_fused = α_snp z_snp + α_mri z_mri``, ``h = [z_fused, demographics]``;
    a classification head gives logits and a regression head gives the
    min-max-scaled MMSE through a sigmoid.

    A missing modality (per-sample mask False, or a modality left out of
    ``modalities``) has its latent replaced by zeros and its gate logit set to
    ``-inf``, so the other modality gets weight exactly 1 and the missing
    input (even NaN) has no influence on the outputs.

    Parameters
    ----------
    embedding_dim
        Size of each latent.
    n_demographics
        Demographic covariates appended after fusion (0 for none).
    n_classes
        Classes of the diagnosis head.
    hidden
        Hidden width(s) of each head.
    dropout
        Dropout in the heads.
    modalities
        Modalities used: ``("snp", "mri")`` (default), ``("snp",)`` or ``("mri",)``
        for the single-modal ablations.
    """

    def __init__(
        self,
        embedding_dim: int,
        n_demographics: int,
        n_classes: int,
        hidden: int | Sequence[int] = 32,
        dropout: float = 0.2,
        modalities: Sequence[str] = MODALITIES,
    ) -> None:
        super().__init__()
        modalities = tuple(modalities)
        if not modalities or any(m not in MODALITIES for m in modalities) or len(set(modalities)) != len(modalities):
            raise ValueError(f"modalities must be a non-empty subset of {MODALITIES}, got {modalities}")
        self.embedding_dim = embedding_dim
        self.n_demographics = n_demographics
        self.n_classes = n_classes
        self.modalities = modalities
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        self.gate = nn.Linear(2 * embedding_dim, 2)
        self.class_head = MLP(embedding_dim + n_demographics, widths, n_classes, dropout)
        self.mmse_head = MLP(embedding_dim + n_demographics, widths, 1, dropout)

    def _mask(self, name: str, given: Tensor | None, n: int, device: torch.device) -> Tensor:
        if name not in self.modalities:
            return torch.zeros(n, dtype=torch.bool, device=device)
        if given is None:
            return torch.ones(n, dtype=torch.bool, device=device)
        return given.to(device=device, dtype=torch.bool).reshape(n)

    def forward(
        self,
        z_snp: Tensor,
        z_mri: Tensor,
        demographics: Tensor | None = None,
        has_snp: Tensor | None = None,
        has_mri: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Fuse the latents and predict.

        Parameters
        ----------
        z_snp, z_mri
            Latents, ``(n, embedding_dim)``; rows of a missing modality may hold anything.
        demographics
            ``(n, n_demographics)``; may be None when ``n_demographics == 0``.
        has_snp, has_mri
            Boolean ``(n,)`` masks; None means present for every row.

        Returns
        -------
        dict of str to Tensor
            ``logits`` ``(n, n_classes)``, ``mmse`` ``(n,)`` in (0, 1),
            ``alpha`` ``(n, 2)`` gate weights ``[α_snp, α_mri]`` and ``z_fused``.

        A row with no usable modality (e.g. no scan under an MRI-only model)
        gets α = [0, 0] and z_fused = 0: its prediction rests on the
        demographics alone.
        """
        n = z_snp.shape[0]
        m_snp = self._mask("snp", has_snp, n, z_snp.device)
        m_mri = self._mask("mri", has_mri, n, z_snp.device)
        z_s = torch.where(m_snp[:, None], z_snp, torch.zeros_like(z_snp))
        z_v = torch.where(m_mri[:, None], z_mri, torch.zeros_like(z_mri))
        gate_logits = self.gate(torch.cat([z_s, z_v], dim=1))
        present = torch.stack([m_snp, m_mri], dim=1)
        none = ~present.any(dim=1, keepdim=True)
        alpha = torch.softmax(gate_logits.masked_fill(~present, float("-inf")).masked_fill(none, 0.0), dim=1)
        alpha = alpha.masked_fill(none, 0.0)
        z_fused = alpha[:, :1] * z_s + alpha[:, 1:] * z_v
        if self.n_demographics > 0:
            if demographics is None:
                raise ValueError(f"this network expects {self.n_demographics} demographic column(s)")
            h = torch.cat([z_fused, demographics.reshape(n, self.n_demographics).to(z_fused.dtype)], dim=1)
        else:
            h = z_fused
        return {
            "logits": self.class_head(h),
            "mmse": torch.sigmoid(self.mmse_head(h)).squeeze(1),
            "alpha": alpha,
            "z_fused": z_fused,
        }
