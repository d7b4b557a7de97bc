"""Typed recipe schema, YAML loading with presets, and clear validation errors.

A recipe is a YAML file with the sections ``data``, ``method`` and ``protocol``
plus optional ``presets``: named partial recipes deep-merged over the base.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from alignome.cohort.sources import DataConfig
from alignome.diagnoses import DIAGNOSES, TASKS
from alignome.errors import ConfigError
from alignome.strict_model import StrictModel

METHODS = (
    "contrastive+fusion",
    "only-reconstruction",
    "only-contrastive",
    "no-age",
    "mri-only",
    "snp-only",
    "random-forest",
    "oracle",
)


_Strict = StrictModel


# ----------------------------------------------------------------------------- data


# ----------------------------------------------------------------------------- method


class PretrainConfig(_Strict):
    epochs: int = 200
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 15
    val_fraction: float = 0.15


class ClassifierConfig(_Strict):
    epochs: int = 300
    lr: float = 3e-3
    weight_decay: float = 1e-4
    hidden: int = 32
    dropout: float = 0.2
    mmse_weight: float = 1.0
    patience: int = 30
    val_fraction: float = 0.15


class MethodConfig(_Strict):
    """Paper 000 model: encoders, contrastive objective and fusion classifier."""

    n_snps: int = 500
    embedding_dim: int = 32
    hidden: list[int] = Field(default_factory=lambda: [128])
    dropout: float = 0.1
    temperature: float = 0.1
    contrastive_form: Literal["decoupled", "standard"] = "decoupled"
    contrastive_weight: float = 1.0
    reconstruction_weight: float = 1.0
    age_conditioning: bool = True
    pretrain: PretrainConfig = Field(default_factory=PretrainConfig)
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)


# ----------------------------------------------------------------------------- protocol


class SearchSpace(_Strict):
    """Optuna search space for the fusion classifier (log-uniform where marked)."""

    lr: tuple[float, float] = (1e-3, 2e-2)
    weight_decay: tuple[float, float] = (1e-6, 1e-2)
    dropout: tuple[float, float] = (0.0, 0.5)
    hidden: list[int] = Field(default_factory=lambda: [16, 32, 64])
    mmse_weight: tuple[float, float] = (0.1, 2.0)


class ProtocolConfig(_Strict):
    outer_folds: int = 5
    inner_folds: int = 3
    trials: int = 8
    search: SearchSpace = Field(default_factory=SearchSpace)
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


class Recipe(_Strict):
    """A whole ``ad-gated-fusion`` recipe (paper 000) after presets are applied."""

    kind: Literal["ad-gated-fusion"] = "ad-gated-fusion"
    name: str
    description: str = ""
    seed: int = 0
    data: DataConfig
    method: MethodConfig = Field(default_factory=MethodConfig)
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)


# ----------------------------------------------------------------------------- loading


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated recursively with ``override`` (neither is modified)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping with an error that names the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("file not found", file=path, fix="check the path, e.g. recipes/ad-gated-fusion.yaml")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=path, fix="fix the YAML syntax at the position shown") from None
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping at the top level", file=path, fix="start the file with 'name: ...'")
    return raw


def _resolve_paths(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Make relative file paths in a data section relative to ``base_dir``."""
    data = copy.deepcopy(data)
    if isinstance(data.get("manifest"), (str, Path)):
        data["manifest"] = {"path": data["manifest"]}
    for key in ("visits", "volumes", "genotypes", "sumstats", "manifest"):
        section = data.get(key)
        if isinstance(section, dict):
            for field in ("path", "bfile", "dosage", "freesurfer_manifest"):
                if section.get(field) is not None:
                    section[field] = str((base_dir / str(section[field])).resolve())
    for key in ("truth", "bids", "cache_dir", "panel"):
        if data.get(key) is not None:
            data[key] = str((base_dir / str(data[key])).resolve())
    return data


def load_data_section(path: Path) -> dict[str, Any]:
    """Read a ``cohort.yaml`` (a data section on its own) with paths resolved."""
    path = Path(path)
    if path.is_dir():
        path = path / "cohort.yaml"
    raw = read_yaml(path)
    return _resolve_paths(raw, path.parent)


def _recipe_schemas() -> dict[str, type[BaseModel]]:
    """Schema of each recipe kind (the ``kind:`` entry of a recipe; default ``ad-gated-fusion``)."""
    from alignome.longitudinal.config import LongitudinalMRIRecipe

    return {"ad-gated-fusion": Recipe, "longitudinal-mri": LongitudinalMRIRecipe}


def load_recipe(
    path: Path,
    preset: str | None = None,
    data_dir: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> Any:
    """Load a recipe, apply a preset, an optional data directory and overrides.

    Parameters
    ----------
    path
        Recipe YAML.
    preset
        Name of an entry under ``presets:`` to merge over the base.
    data_dir
        A directory holding ``cohort.yaml`` (as written by ``alignome simulate``
        or by the user); replaces the recipe's whole ``data`` section.
    overrides
        Further nested values merged last.

    Returns
    -------
    Recipe or alignome.longitudinal.config.LongitudinalMRIRecipe
        The validated recipe of the kind its ``kind:`` entry names.
    """
    path = Path(path)
    raw = read_yaml(path)
    presets = raw.pop("presets", {}) or {}
    if preset is not None:
        if preset not in presets:
            raise ConfigError(
                f"unknown preset '{preset}'",
                file=path,
                field="presets",
                fix=f"choose one of {sorted(presets)} or leave --preset out",
            )
        raw = deep_merge(raw, presets[preset])
    if "data" in raw and isinstance(raw["data"], dict):
        raw["data"] = _resolve_paths(raw["data"], path.parent)
    if data_dir is not None:
        data = load_data_section(Path(data_dir))
        keep = {k: raw["data"][k] for k in ("label_window_days", "cache_dir", "modality") if k in raw.get("data", {})}
        raw["data"] = {**data, **keep}
    if overrides:
        raw = deep_merge(raw, overrides)
    kind = raw.get("kind", "ad-gated-fusion")
    schema = _recipe_schemas().get(kind)
    if schema is None:
        raise ConfigError(
            f"unknown recipe kind '{kind}'", file=path, field="kind", fix=f"choose one of {sorted(_recipe_schemas())}"
        )
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{first['msg']} ({len(exc.errors())} problem(s) in all)",
            file=path,
            field=loc or None,
            fix=f"correct this entry; see recipes/{kind}.yaml for a complete example",
        ) from None


def dump_recipe(recipe: BaseModel) -> str:
    """YAML text of a resolved recipe (paths as strings)."""
    return yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False)
