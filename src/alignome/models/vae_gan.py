"""Networks of Ko et al.'s (2022) generative-discriminative imaging-genetics model (the VAE+GAN of paper 000).

Ko, Jung, Jeon, Suk, "A deep generative-discriminative learning for multimodal representation
in imaging genetics", IEEE TMI 41(9):2348–2359, 2022; layer sizes follow the authors' public
TensorFlow code (github.com/wko1014/ENGINE, ``engine.py``), scaled to the inputs:

* SNP representation (a VAE): encoder Q: SNPs → ``snp_hidden`` (ELU) → mean and log-variance of
  ``z_snp``; decoder P: ``z_snp`` → ``snp_hidden`` (ELU) → logits of the encoded SNPs.
* Attentive-vector generation (a GAN): generator G: [covariates, ``z_snp``] → ``generator_hidden``
  (ELU) → sigmoid → a fake MRI vector and an attention vector ``a``, both of the MRI's size;
  discriminator D: MRI vector → sigmoid real/fake score (one linear layer, as in the code).
* Diagnostician C: ``x_mri ⊙ a`` → ``diagnostician_hidden`` (ELU) → class logits and a sigmoid
  MMSE (0–1).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _two_layer(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ELU(), nn.Linear(hidden, n_out))


class VaeGanNet(nn.Module):
    """The four modules Q/P (SNP VAE), G/D (attention GAN) and C (diagnostician with two heads).

    Parameters
    ----------
    n_snps, n_regions, n_covariates
        Input sizes: encoded SNPs, MRI regions, covariates given to the generator.
    n_classes
        Classes of the diagnosis head.
    latent_dim
        Size of ``z_snp`` (50 in Ko et al.).
    snp_hidden, generator_hidden, diagnostician_hidden
        Hidden widths of Q and P, of G, and of C (500, 100 and 25 in Ko et al.).
    """

    def __init__(
        self,
        n_snps: int,
        n_regions: int,
        n_covariates: int,
        n_classes: int,
        latent_dim: int = 50,
        snp_hidden: int = 500,
        generator_hidden: int = 100,
        diagnostician_hidden: int = 25,
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = _two_layer(n_snps, snp_hidden, 2 * latent_dim)
        self.decoder = _two_layer(latent_dim, snp_hidden, n_snps)
        self.generator = _two_layer(n_covariates + latent_dim, generator_hidden, 2 * n_regions)
        self.discriminator = nn.Linear(n_regions, 1)
        self.diagnostician = nn.Sequential(nn.Linear(n_regions, diagnostician_hidden), nn.ELU())
        self.classify = nn.Linear(diagnostician_hidden, n_classes)
        self.regress = nn.Linear(diagnostician_hidden, 1)

    def encode(self, snp: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-variance of ``q(z_snp | snp)``."""
        mean, logvar = self.encoder(snp).chunk(2, dim=1)
        return mean, logvar

    def decode(self, z: Tensor) -> Tensor:
        """Logits of the encoded SNPs given ``z_snp``."""
        return self.decoder(z)

    def generate(self, z: Tensor, covariates: Tensor) -> tuple[Tensor, Tensor]:
        """Fake MRI vector and attention vector from ``[covariates, z_snp]`` (both in (0, 1))."""
        fake, attention = torch.sigmoid(self.generator(torch.cat([covariates, z], dim=1))).chunk(2, dim=1)
        return fake, attention

    def discriminate(self, mri: Tensor) -> Tensor:
        """Probability that an MRI vector is real, shape ``(n,)``."""
        return torch.sigmoid(self.discriminator(mri)).squeeze(1)

    def diagnose(self, mri: Tensor, attention: Tensor) -> tuple[Tensor, Tensor]:
        """Class logits and MMSE (0–1) from the attended MRI ``mri ⊙ attention``."""
        feature = self.diagnostician(mri * attention)
        return self.classify(feature), torch.sigmoid(self.regress(feature)).squeeze(1)

    def groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters of each module, the units Ko et al.'s separate optimisers update."""
        return {
            "encoder": list(self.encoder.parameters()),
            "decoder": list(self.decoder.parameters()),
            "generator": list(self.generator.parameters()),
            "discriminator": list(self.discriminator.parameters()),
            "diagnostician": list(self.diagnostician.parameters()),
            "classify": list(self.classify.parameters()),
            "regress": list(self.regress.parameters()),
        }
