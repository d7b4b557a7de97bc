"""Recipe kinds by name, and loading a recipe of any kind.

A kind is found here by the ``kind:`` entry of a recipe (``ad-gated-fusion`` when absent)
or of a run's ``metrics.json``. Adding a kind is a new subpackage whose ``kind`` module defines ``KIND``, and
one line in :data:`KINDS`; a test (or a plug-in) may also :func:`register` one at run time.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from alignome.errors import ConfigError
from alignome.recipes.kind import RecipeKind
from alignome.recipes.loading import (
    apply_preset,
    data_section_file,
    deep_merge,
    load_data_section,
    read_yaml,
    resolve_paths,
    validate_recipe,
    validate_section,
)

#: Built-in kinds: name → the module defining its ``KIND`` (imported on first use).
KINDS: dict[str, str] = {
    "ad-gated-fusion": "alignome.recipes.ad_gated_fusion.kind",
    "longitudinal-mri": "alignome.recipes.longitudinal_mri.kind",
    "gemcont": "alignome.recipes.gemcont.kind",
    "mm-dim": "alignome.recipes.mm_dim.kind",
}
#: The kind of a recipe without a ``kind:`` entry.
DEFAULT_KIND = "ad-gated-fusion"

_registered: dict[str, RecipeKind] = {}


def register(kind: RecipeKind) -> None:
    """Make ``kind`` known by its name (replacing a kind of the same name)."""
    _registered[kind.name] = kind


def unregister(name: str) -> None:
    """Forget a kind added by :func:`register` (built-in kinds stay)."""
    _registered.pop(name, None)


def known_kinds() -> list[str]:
    """Names of every kind that can run."""
    return sorted({*KINDS, *_registered})


def get_kind(name: str, file: Path | None = None) -> RecipeKind:
    """The kind called ``name``; a ConfigError naming ``file`` when there is none."""
    if name in _registered:
        return _registered[name]
    if name not in KINDS:
        raise ConfigError(f"unknown recipe kind '{name}'", file=file, field="kind", fix=f"choose one of {known_kinds()}")
    return importlib.import_module(KINDS[name]).KIND


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
        or by the user); replaces the recipe's ``data`` section except the entries
        its kind keeps (:attr:`RecipeKind.kept_data_keys`).
    overrides
        Further nested values merged last.

    Returns
    -------
    pydantic.BaseModel
        The validated recipe, of the schema of the kind its ``kind:`` entry names.
    """
    path = Path(path)
    raw = apply_preset(read_yaml(path), preset, path)
    kind = get_kind(raw.get("kind", DEFAULT_KIND), path)
    if isinstance(raw.get("data"), dict):
        raw["data"] = resolve_paths(raw["data"], kind.data_schema, path.parent)
    if data_dir is not None:
        data = load_data_section(Path(data_dir), kind.data_schema)
        keep = {k: raw["data"][k] for k in kind.kept_data_keys if k in raw.get("data", {})}
        try:  # the cohort.yaml's own entries are checked against the file that holds them
            validate_section(kind.data_schema, {**data, **keep}, data_section_file(Path(data_dir)),
                             "a cohort.yaml holds the keys of a recipe's data section (README: \"Your own cohort\")")
        except ConfigError as exc:
            if (exc.field or "").split(".")[0] not in keep:
                raise  # a problem in a kept entry is the recipe's, reported against it below
        raw["data"] = {**data, **keep}
    if overrides:
        raw = deep_merge(raw, overrides)
    return validate_recipe(kind.schema, raw, path, kind.name)
