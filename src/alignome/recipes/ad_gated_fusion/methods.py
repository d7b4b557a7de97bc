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

#: Every method of the comparison, in display order (the oracle sees the true disease severity).
METHODS = (*NEURAL_METHODS, "random-forest", "oracle")

#: Methods that run on a cohort without genotypes (their features hold allele counts only when there are some).
GENOTYPE_FREE = ("random-forest", "oracle")

#: Why the other methods cannot run without genotypes.
NEEDS_GENOTYPES = ("its encoders are pretrained on scans paired with their subject's genotypes (mri-only's MRI "
                   "encoder too); the cohort has no genotypes")
