"""Typed schema of the ``gemcont`` recipe (paper 003)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from alignome.recipes.gemcont.methods import METHODS
from alignome.recipes.kind import RecipeBase
from alignome.strict_model import StrictModel


class OwnImages(StrictModel):
    """Your own data: a manifest (``subject``, ``path``, numeric covariates), a PLINK fileset and a panel.

    Images (PNG/JPEG/NPY, grayscale or RGB, any size) are resized to ``size``². One random split
    puts ``test_fraction`` of the subjects on the held-out side.
    """

    path: Path
    bfile: Path
    panel: Path
    size: int = 64
    channels: int | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    test_fraction: float = 0.5

    @model_validator(mode="after")
    def _sane(self) -> "OwnImages":
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        return self


class RotationData(StrictModel):
    """The rotation simulation (paper 003 §3.1): glyphs, genotypes, a heritable angle.

    ``n_test`` subjects form the fixed test set; the training subjects of each split are
    drawn from ``n_pool`` others. ``manifest`` (your own images) or ``spirometry`` (study 2: the dials
    of :class:`alignome.simulate.spirometry.SpirometryDials`) replaces the rotation simulation. ``emnist_images`` + ``emnist_labels`` (EMNIST IDX files,
    gzipped or not) replace the rendered glyphs by real handwriting, subsampled stratified by class.
    """

    n_test: int = 4000
    n_pool: int = 8000
    n_variants: int = 20
    n_null_variants: int = 500
    h_g: float = 0.5
    alpha_max_deg: float = 45.0
    image_size: int = 28
    maf_range: tuple[float, float] = (0.05, 0.5)
    emnist_images: Path | None = None
    emnist_labels: Path | None = None
    manifest: OwnImages | None = None
    spirometry: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _sane(self) -> "RotationData":
        if (self.emnist_images is None) != (self.emnist_labels is None):
            raise ValueError("give both emnist_images and emnist_labels, or neither")
        if self.n_test < 20 or self.n_pool < 20:
            raise ValueError(f"n_test and n_pool must be at least 20, got {self.n_test} and {self.n_pool}")
        return self


class GemcontMethod(StrictModel):
    """The shared backbone and optimiser (paper 003 §3.4 where it says; the rest scaled for 2 cores).

    ``backbone_checkpoint``: a ``torch.save``'d state dict of the CNN (same ``widths``); the CNN is
    then frozen and followed by gated attention pooling and a 2-layer head (the paper's fundus
    set-up). The VAE keeps training its own encoder.
    """

    widths: list[int] = Field(default_factory=lambda: [16, 32, 64])
    pool_size: int = 2
    embedding_dim: int = 32
    epochs: int = 30
    batch_size: int = 256
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warmup_epochs: int = 2
    temperature: float = 0.07
    learnable_temperature: bool = True
    contrastive_form: Literal["decoupled", "standard"] = "decoupled"
    scarf_p: float = 0.1
    projector_init: Literal["effects", "random"] = "effects"
    augment: Literal["erase", "crop_blur", "none"] = "erase"
    erase_p: float = 0.5
    supervised_patience: int = 5
    backbone_checkpoint: Path | None = None
    supervised_val_fraction: float = 0.1

    @model_validator(mode="after")
    def _sane(self) -> "GemcontMethod":
        if self.batch_size < 2:
            raise ValueError("batch_size must be at least 2: a contrastive batch needs negatives")
        if not 0 <= self.scarf_p < 1:
            raise ValueError(f"scarf_p must be in [0, 1), got {self.scarf_p}")
        if self.warmup_epochs > self.epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) exceeds epochs ({self.epochs})")
        return self


class SweepAxes(StrictModel):
    """Values swept one axis at a time around the defaults (paper 003, Fig. 2 a–c); empty: not swept."""

    n_train: list[int] = Field(default_factory=list)
    h_g: list[float] = Field(default_factory=list)
    alpha_max_deg: list[float] = Field(default_factory=list)


class GemcontProtocol(StrictModel):
    """Training splits, methods, and the evaluation of held-out embeddings."""

    n_train: int = 4000
    splits: int = 5
    methods: list[str] = Field(default_factory=lambda: list(METHODS))
    gwas_pcs: int = 5
    threshold: float = 5e-8
    ridge_folds: int = 5
    sweep: SweepAxes = Field(default_factory=SweepAxes)
    jobs: int = 2

    @model_validator(mode="after")
    def _sane(self) -> "GemcontProtocol":
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise ValueError(f"unknown method(s) {bad}; choose from {list(METHODS)}")
        if self.splits < 1:
            raise ValueError("splits must be at least 1")
        return self


class GemcontRecipe(RecipeBase):
    """A whole ``gemcont`` recipe after presets are applied."""

    kind: Literal["gemcont"] = "gemcont"
    data: RotationData = Field(default_factory=RotationData)
    method: GemcontMethod = Field(default_factory=GemcontMethod)
    protocol: GemcontProtocol = Field(default_factory=GemcontProtocol)

    @model_validator(mode="after")
    def _pool_holds_training(self) -> "GemcontRecipe":
        largest = max([self.protocol.n_train, *self.protocol.sweep.n_train])
        if largest > self.data.n_pool:
            raise ValueError(f"n_train {largest} exceeds the training pool data.n_pool = {self.data.n_pool}")
        return self
