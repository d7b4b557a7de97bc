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


class ProtocolConfig(StrictModel):
    outer_folds: int = 5
    inner_folds: int = 3
    trials: int = 8
    search: SearchSpace = Field(default_factory=SearchSpace)
    pretrain_search: PretrainSearchConfig = Field(default_factory=PretrainSearchConfig)
    rf_grid: dict[str, list[Any]] = Field(
        default_factory=lambda: {"n_estimators": [300], "max_depth": [None, 6], "min_samples_leaf": [1, 5]}
    )
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
