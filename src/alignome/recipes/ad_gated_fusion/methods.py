"""The methods paper 000 compares, and what each neural one means: pretraining variant and modalities used."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NeuralMethod:
    """A contrastive-pretraining + gated-fusion configuration."""

    pretrain_variant: str
    modalities: tuple[str, ...] = ("snp", "mri")


#: pretraining variants: overrides of the fold's chosen settings passed to ContrastivePretrainer
#: (the contrastive term alone keeps weight 1: its scale does not matter without a second term)
PRETRAIN_VARIANTS: dict[str, dict[str, object]] = {
    "full": {},
    "reconstruction-only": {"contrastive_weight": 0.0},
    "contrastive-only": {"reconstruction_weight": 0.0, "contrastive_weight": 1.0},
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

#: Ablations of the paper's method: its pretraining or inputs with one part taken away.
ABLATIONS = tuple(m for m in NEURAL_METHODS if m != MAIN_METHOD)

#: The linear baseline the paper's method must beat; the headline's difference column is against it.
LINEAR_BASELINE = "logistic-regression"

#: The non-linear baseline on the same features.
FOREST_BASELINE = "random-forest"

#: Methods that run on a cohort without genotypes (their features hold allele counts only when there are some).
GENOTYPE_FREE = ("random-forest", "logistic-regression", "oracle")

#: Why the other methods cannot run without genotypes.
NEEDS_GENOTYPES = ("they learn from genotypes (the neural methods' encoders are pretrained on scans paired with "
                   "their subject's genotypes, mri-only's MRI encoder too; vae-gan generates its MRI from a SNP VAE); "
                   "the cohort has no genotypes")
