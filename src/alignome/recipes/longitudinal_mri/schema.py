"""Typed schema of the ``longitudinal-mri`` recipe (paper 004, ClinImCL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from alignome.cohort.sources import ManifestSource
from alignome.diagnoses import default_diagnosis_map
from alignome.imaging.augment import AugmentSettings
from alignome.imaging.settings import PreprocessSettings
from alignome.recipes.kind import RecipeBase
from alignome.recipes.longitudinal_mri.methods import VOXEL_PCA
from alignome.strict_model import StrictModel

#: References the contrastive encoder is compared with.
REFERENCES = ("untrained", "supervised", VOXEL_PCA)


class MRIDataConfig(StrictModel):
    """Where the 3D cohort comes from: ``simulate``, a ``manifest`` or a ``bids`` folder."""

    simulate: dict[str, Any] | None = None
    manifest: ManifestSource | None = None
    bids: Path | None = None
    truth: Path | None = None
    modality: str = "T1w"
    diagnosis_map: dict[str, list[str]] = Field(default_factory=default_diagnosis_map)
    cache_dir: Path | None = None

    @field_validator("manifest", mode="before")
    @classmethod
    def _manifest_path_only(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, (str, Path)) else value

    @model_validator(mode="after")
    def _one_source(self) -> "MRIDataConfig":
        given = [k for k in ("simulate", "manifest", "bids") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of 'simulate', 'manifest' or 'bids' (got {given or 'none'}); "
                "e.g. 'manifest: {path: scans.csv}' or 'simulate: {subjects: 24}'"
            )
        return self


class LongitudinalMethod(StrictModel):
    """Encoder, objective and optimiser of paper 004 (defaults as in the paper where it says).

    ``select_by`` chooses the kept epoch on validation subjects: ``val_loss`` (the InfoNCE being
    trained, at the configured temperature) or ``val_top1`` (re-identification with the projection).

    ``devices`` > 1 trains data-parallel (Lightning DDP; ``strategy: ddp_spawn`` on CPU, ``ddp``
    on GPUs) with negatives gathered from every process.
    """

    preprocess: PreprocessSettings = Field(default_factory=PreprocessSettings)
    widths: list[int] = Field(default_factory=lambda: [8, 16, 32, 64])
    embedding_dim: int = 128
    pool_size: int = 1
    temperature: float = 0.07
    learnable_temperature: bool = False
    contrastive_form: Literal["standard", "decoupled"] = "standard"
    epochs: int = 10
    batch_size: int = 8
    subject_fraction: float = 0.25
    lr: float = 1e-4
    weight_decay: float = 1e-4
    augment: AugmentSettings = Field(default_factory=AugmentSettings)
    precision: Literal["auto", "32-true", "16-mixed", "bf16-mixed"] = "auto"
    select_by: Literal["val_loss", "val_top1"] = "val_loss"
    devices: int = 1
    strategy: str = "auto"

    @model_validator(mode="after")
    def _sane(self) -> "LongitudinalMethod":
        if len(self.widths) != 4:
            raise ValueError(f"widths must list the 4 block widths of the encoder, got {self.widths}")
        if not 0 < self.subject_fraction <= 1:
            raise ValueError(f"subject_fraction must be in (0, 1], got {self.subject_fraction}")
        if self.batch_size < 2:
            raise ValueError("batch_size (pairs per batch) must be at least 2: a batch needs negatives")
        return self


class LongitudinalProtocol(StrictModel):
    """Subject-wise train/validation/test split, the reference encoders, and repeats over seeds.

    ``seeds`` (e.g. ``[0, 1, 2]``) repeats the whole run once per seed, in place of the
    recipe's ``seed`` (a simulated cohort too, unless ``data.simulate.seed`` pins it), and
    reports each figure's mean and spread over the seeds.
    """

    val_fraction: float = 0.2
    test_fraction: float = 0.25
    references: list[str] = Field(default_factory=lambda: list(REFERENCES))
    supervised_epochs: int | None = None
    jobs: int = 2
    seeds: list[int] | None = None

    @model_validator(mode="after")
    def _sane(self) -> "LongitudinalProtocol":
        bad = [r for r in self.references if r not in REFERENCES]
        if bad:
            raise ValueError(f"unknown reference(s) {bad}; choose from {list(REFERENCES)}")
        if not (0 < self.val_fraction < 1 and 0 < self.test_fraction < 1 and self.val_fraction + self.test_fraction < 1):
            raise ValueError("val_fraction and test_fraction must be in (0, 1) and sum to less than 1")
        if self.seeds is not None and (not self.seeds or len(set(self.seeds)) != len(self.seeds)):
            raise ValueError(f"seeds must list distinct seeds, e.g. [0, 1, 2], got {self.seeds}")
        return self


class LongitudinalMRIRecipe(RecipeBase):
    """A whole ``longitudinal-mri`` recipe after presets are applied."""

    kind: Literal["longitudinal-mri"] = "longitudinal-mri"
    data: MRIDataConfig
    method: LongitudinalMethod = Field(default_factory=LongitudinalMethod)
    protocol: LongitudinalProtocol = Field(default_factory=LongitudinalProtocol)
