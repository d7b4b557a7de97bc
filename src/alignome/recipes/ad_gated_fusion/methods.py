"""The methods paper 000 compares, and what each neural one means: pretraining variant and modalities used."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NeuralMethod:
    """A contrastive-pretraining + gated-fusion configuration."""

    pretrain_variant: str
    modalities: tuple[str, ...] = ("snp", "mri")


#: pretraining variants: overrides passed to ContrastivePretrainer
PRETRAIN_VARIANTS: dict[str, dict[str, object]] = {
    "full": {},
    "reconstruction-only": {"contrastive_weight": 0.0},
    "contrastive-only": {"reconstruction_weight": 0.0},
    "no-age": {"age_conditioning": False},
}

#: neural methods of paper 000 Table 1 and its ablations
NEURAL_METHODS: dict[str, NeuralMethod] = {
    "contrastive+fusion": NeuralMethod("full"),
    "only-reconstruction": NeuralMethod("reconstruction-only"),
    "only-contrastive": NeuralMethod("contrastive-only"),
    "no-age": NeuralMethod("no-age"),
    "mri-only": NeuralMethod("full", ("mri",)),
    "snp-only": NeuralMethod("full", ("snp",)),
}

#: The method the paper proposes; figures that show one method show this one.
MAIN_METHOD = "contrastive+fusion"

#: Baselines fitted on the same folds: Ko et al.'s VAE+GAN fusion and two classical models on the concatenated features.
BASELINES = ("vae-gan", "random-forest", "logistic-regression")

#: Every method of the comparison, in display order (the oracle sees the true disease severity).
METHODS = (*NEURAL_METHODS, *BASELINES, "oracle")
