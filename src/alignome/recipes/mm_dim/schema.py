"""Typed schema of the ``mm-dim`` recipe (paper 001)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from alignome.cohort.sources import ManifestSource
from alignome.diagnoses import default_diagnosis_map
from alignome.objectives.dim import parse_objective
from alignome.recipes.kind import RecipeBase
from alignome.strict_model import StrictModel


class MMDataConfig(StrictModel):
    """Where the paired cohort comes from: ``simulate`` (the built-in T1 + fALFF cohort) or a ``manifest``.

    A manifest has one row per image: ``subject``, ``session``, ``days``, ``modality``, ``path``, ``age``,
    ``diagnosis`` (and optionally ``sex``); ``columns`` maps these names to yours. CN subjects are the
    healthy class, subjects with an AD image the disease class, the others (e.g. MCI) join pretraining only.
    """

    simulate: dict[str, Any] | None = None
    manifest: ManifestSource | None = None
    truth: Path | None = None
    modalities: tuple[str, str] = ("T1w", "fALFF")
    diagnosis_map: dict[str, list[str]] = Field(default_factory=default_diagnosis_map)
    jobs: int = 2

    @field_validator("manifest", mode="before")
    @classmethod
    def _manifest_path_only(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, (str, Path)) else value

    @model_validator(mode="after")
    def _one_source(self) -> "MMDataConfig":
        given = [k for k in ("simulate", "manifest") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of 'simulate' or 'manifest' (got {given or 'none'}); "
                             "e.g. 'manifest: {path: pairs.csv}' or 'simulate: {subjects: 48}'")
        return self


class MMMethod(StrictModel):
    """Objectives, network and optimisation (paper 001 section 3.2 where it says)."""

    objectives: list[str] = Field(default_factory=lambda: ["L-CL", "S", "AE", "supervised"])
    size: int = 64
    latent_dim: int = 64
    base_width: int = 16
    epochs: int = 200
    batch_size: int = 64
    lr: float = 4e-4
    max_lr: float = 0.01
    penalty: float = 4e-2
    clip: float = 20.0
    crop_pad: int = 4
    flip_p: float = 0.5
    iwae_samples: int = 1
    histogram_standardisation: bool = True

    @field_validator("objectives")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        if not names or len(set(names)) != len(names):
            raise ValueError(f"objectives must list distinct names, got {names}")
        for name in names:
            parse_objective(name)
        return names

    @model_validator(mode="after")
    def _sane(self) -> "MMMethod":
        if self.size < 16 or self.size & (self.size - 1):
            raise ValueError(f"size must be a power of two of at least 16 (32 or 64), got {self.size}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be at least 2: a batch needs negatives")
        return self


class MMProtocol(StrictModel):
    """Subject-wise splits (stratified folds + a hold-out set), the probe's search, introspection, CPU threads.

    ``threads`` sets torch's CPU threads for the run (None: torch's default); on cores shared with
    other work one thread can be several times faster (``benchmarks/results/mm_dim_throughput.md``).
    """

    folds: int = 5
    run_folds: int | None = None
    holdout_fraction: float = 0.12
    probe_trials: int = 500
    probe_folds: int = 5
    introspect: list[str] | None = None
    introspect_subjects: int = 24
    threads: int | None = None

    def introspected(self, objectives: list[str]) -> list[str]:
        """Objectives whose first-fold networks get saliency analyses: ``introspect``, else the paper's
        (supervised and S-AE) among those run, else the first one run."""
        if self.introspect is not None:
            return [o for o in self.introspect if o in objectives]
        return [o for o in ("supervised", "S-AE") if o in objectives] or objectives[:1]

    @model_validator(mode="after")
    def _sane(self) -> "MMProtocol":
        if self.folds < 2:
            raise ValueError(f"folds must be at least 2, got {self.folds}")
        if self.run_folds is not None and not 1 <= self.run_folds <= self.folds:
            raise ValueError(f"run_folds must be between 1 and folds ({self.folds}), got {self.run_folds}")
        if not 0 < self.holdout_fraction < 0.5:
            raise ValueError(f"holdout_fraction must be in (0, 0.5), got {self.holdout_fraction}")
        return self


class MMDimRecipe(RecipeBase):
    """A whole ``mm-dim`` recipe after presets are applied."""

    kind: Literal["mm-dim"] = "mm-dim"
    data: MMDataConfig
    method: MMMethod = Field(default_factory=MMMethod)
    protocol: MMProtocol = Field(default_factory=MMProtocol)
