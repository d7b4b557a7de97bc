"""Weighted contrastive + reconstruction objective of paper 000's pretraining stage."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from alignome.objectives.contrastive import ContrastiveForm, contrastive_loss
from alignome.objectives.reconstruction import reconstruction_loss


class PairedContrastiveReconstructionLoss:
    """Weighted sum of a cross-modal contrastive loss and two reconstruction MSEs.

    ``loss = contrastive_weight * L_cont + reconstruction_weight * (MSE_snp + MSE_mri)``.
    A term whose weight is 0 is not computed and is reported as 0.

    Parameters
    ----------
    temperature
        Contrastive temperature.
    form
        ``"decoupled"`` (paper 000) or ``"standard"`` InfoNCE.
    contrastive_weight, reconstruction_weight
        Non-negative weights of the two terms.
    """

    def __init__(
        self,
        temperature: float,
        form: ContrastiveForm = "decoupled",
        contrastive_weight: float = 1.0,
        reconstruction_weight: float = 1.0,
    ) -> None:
        if contrastive_weight < 0 or reconstruction_weight < 0:
            raise ValueError("loss weights must be non-negative")
        if contrastive_weight == 0 and reconstruction_weight == 0:
            raise ValueError("at least one of contrastive_weight and reconstruction_weight must be positive")
        self.temperature = temperature
        self.form = form
        self.contrastive_weight = contrastive_weight
        self.reconstruction_weight = reconstruction_weight

    def __call__(
        self, outputs: Mapping[str, Tensor], snps: Tensor, volumes: Tensor, groups: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Compute the loss terms.

        Parameters
        ----------
        outputs
            A model's forward output with ``z_snp``, ``z_mri``, ``recon_snp``, ``recon_mri``.
        snps, volumes
            Reconstruction targets (the encoders' inputs, age excluded).
        groups
            Optional subject of each row: other scans of a row's subject are then
            left out of its contrastive denominator (see :func:`contrastive_loss`).

        Returns
        -------
        dict of str to Tensor
            ``loss`` (weighted total), ``contrastive`` and ``reconstruction``
            (weighted contributions, summing to ``loss``), and the unweighted
            ``contrastive_raw``, ``recon_snp``, ``recon_mri``.
        """
        zero = outputs["z_snp"].new_zeros(())
        if self.contrastive_weight > 0:
            cont = contrastive_loss(outputs["z_snp"], outputs["z_mri"], self.temperature, self.form, groups=groups)["loss"]
        else:
            cont = zero
        if self.reconstruction_weight > 0:
            r_snp = reconstruction_loss(outputs["recon_snp"], snps)
            r_mri = reconstruction_loss(outputs["recon_mri"], volumes)
        else:
            r_snp = r_mri = zero
        w_cont = self.contrastive_weight * cont
        w_rec = self.reconstruction_weight * (r_snp + r_mri)
        return {
            "loss": w_cont + w_rec,
            "contrastive": w_cont,
            "reconstruction": w_rec,
            "contrastive_raw": cont.detach(),
            "recon_snp": r_snp.detach(),
            "recon_mri": r_mri.detach(),
        }
