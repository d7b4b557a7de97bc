"""Typed schema of the ``ad-gated-fusion`` recipe (paper 000).

A recipe is a YAML file with the sections ``data`` (:class:`alignome.cohort.sources.DataConfig`),
``method`` and ``protocol`` plus optional ``presets``: named partial recipes deep-merged over the base.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from alignome.cohort.sources import DataConfig
from alignome.diagnoses import TASKS
from alignome.recipes.ad_gated_fusion.methods import METHODS
from alignome.recipes.kind import RecipeBase
from alignome.strict_model import StrictModel

# ----------------------------------------------------------------------------- method


class PretrainConfig(StrictModel):
    epochs: int = 200
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 15
    val_fraction: float = 0.15
    stop_on: Literal["total", "reconstruction"] = "reconstruction"


class ClassifierConfig(StrictModel):
    epochs: int = 300
    lr: float = 3e-3
    weight_decay: float = 1e-4
    hidden: int = 32
    dropout: float = 0.2
    mmse_weight: float = 1.0
    patience: int = 30
    val_fraction: float = 0.15


class VaeGanConfig(StrictModel):
    """Ko et al.'s (2022) VAE+GAN baseline (:class:`alignome.training.vae_gan.VaeGanClassifier`).

    Sizes and loss weights are the authors' (public code); the schedule is cheaper than their
    batch size 5, lr 1e-4, 200 epochs, which the ``paper`` preset restores.
    """

    latent_dim: int = Field(50, ge=1)
    snp_hidden: int = Field(500, ge=1)
    generator_hidden: int = Field(100, ge=1)
    diagnostician_hidden: int = Field(25, ge=1)
    weights: tuple[float, float, float, float, float] = (0.7, 0.5, 1.0, 1.0, 0.7)
    lr: float = Field(1e-3, gt=0)
    batch_size: int = Field(64, ge=1)
    epochs: int = Field(100, ge=1)
    patience: int = Field(10, ge=1)
    val_fraction: float = Field(0.15, ge=0, lt=1)


class MethodConfig(StrictModel):
    """Paper 000 model: encoders, contrastive objective and fusion classifier."""

    n_snps: int = 500
    embedding_dim: int = 32
    hidden: list[int] = Field(default_factory=lambda: [128])
    dropout: float = 0.1
    temperature: float = 0.1
    contrastive_form: Literal["decoupled", "standard"] = "decoupled"
    same_subject_negatives: bool = True
    contrastive_weight: float = 1.0
    reconstruction_weight: float = 1.0
    age_conditioning: bool = True
    pretrain: PretrainConfig = Field(default_factory=PretrainConfig)
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    vae_gan: VaeGanConfig = Field(default_factory=VaeGanConfig)


# ----------------------------------------------------------------------------- protocol


class SearchSpace(StrictModel):
    """Optuna search space for the fusion classifier (log-uniform where marked)."""

    lr: tuple[float, float] = (1e-3, 2e-2)
    weight_decay: tuple[float, float] = (1e-6, 1e-2)
    dropout: tuple[float, float] = (0.0, 0.5)
    hidden: list[int] = Field(default_factory=lambda: [16, 32, 64])
    mmse_weight: tuple[float, float] = (0.1, 2.0)


class PretrainSearchConfig(StrictModel):
    """Pretraining settings searched per outer fold in the inner loop (Optuna TPE, ``trials`` per fold; 0: none)."""

    trials: int = 6
    contrastive_weight: list[float] = Field(default_factory=lambda: [0.0, 0.01, 0.03, 0.1, 0.3, 1.0])
    temperature: tuple[float, float] = (0.05, 0.5)
    embedding_dim: list[int] = Field(default_factory=lambda: [16, 32, 64])
    stop_on: list[Literal["total", "reconstruction"]] = Field(default_factory=lambda: ["total", "reconstruction"])

    @model_validator(mode="after")
    def _valid(self) -> "PretrainSearchConfig":
        if self.trials < 0:
            raise ValueError("pretrain_search.trials must be 0 (no search) or more")
        if not self.contrastive_weight or min(self.contrastive_weight) < 0:
            raise ValueError("pretrain_search.contrastive_weight must list weights >= 0")
        if not 0 < self.temperature[0] <= self.temperature[1]:
            raise ValueError("pretrain_search.temperature must be a range (low, high) with 0 < low <= high")
        if not self.embedding_dim or min(self.embedding_dim) < 1 or not self.stop_on:
            raise ValueError("pretrain_search.embedding_dim and stop_on must list at least one value")
        return self


class LinearGrid(StrictModel):
    """Grid of the elastic-net baseline: ``C`` and ``l1_ratio`` of the logistic regression, ``alpha`` of the MMSE regression.

    The MMSE regression shares the ``l1_ratio`` values.
    """

    C: list[float] = Field(default_factory=lambda: [0.01, 0.1, 1.0], min_length=1)
    l1_ratio: list[float] = Field(default_factory=lambda: [0.5], min_length=1)
    alpha: list[float] = Field(default_factory=lambda: [0.003, 0.01, 0.03], min_length=1)

    @model_validator(mode="after")
    def _ranges(self) -> "LinearGrid":
        if any(not v > 0 for v in [*self.C, *self.alpha]):
            raise ValueError("C and alpha values must be positive")
        if any(not 0 <= v <= 1 for v in self.l1_ratio):
            raise ValueError("l1_ratio values must lie in [0, 1]")
        return self


class ProtocolConfig(StrictModel):
    outer_folds: int = 5
    inner_folds: int = 3
    trials: int = 8
    search: SearchSpace = Field(default_factory=SearchSpace)
    pretrain_search: PretrainSearchConfig = Field(default_factory=PretrainSearchConfig)
    rf_grid: dict[str, list[Any]] = Field(
        default_factory=lambda: {"n_estimators": [300], "max_depth": [None, 6], "min_samples_leaf": [1, 5]}
    )
    linear_grid: LinearGrid = Field(default_factory=LinearGrid)
    tasks: list[str] = Field(default_factory=lambda: list(TASKS))
    methods: list[str] = Field(default_factory=lambda: list(METHODS))
    jobs: int = 2

    @model_validator(mode="after")
    def _known(self) -> "ProtocolConfig":
        bad = [t for t in self.tasks if t not in TASKS]
        if bad:
            raise ValueError(f"unknown task(s) {bad}; choose from {list(TASKS)}")
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise ValueError(f"unknown method(s) {bad}; choose from {list(METHODS)}")
        if self.outer_folds < 2 or self.inner_folds < 2:
            raise ValueError("outer_folds and inner_folds must be at least 2")
        return self


class Recipe(RecipeBase):
    """A whole ``ad-gated-fusion`` recipe (paper 000) after presets are applied."""

    kind: Literal["ad-gated-fusion"] = "ad-gated-fusion"
    data: DataConfig
    method: MethodConfig = Field(default_factory=MethodConfig)
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)
