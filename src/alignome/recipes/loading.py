"""Reading recipes: YAML with clear errors, presets merged over the base, paths made absolute."""

from __future__ import annotations

import copy
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from alignome.errors import ConfigError


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated recursively with ``override`` (neither is modified)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_yaml(path: Path, fix: str = "check the path, e.g. recipes/ad-gated-fusion.yaml") -> dict[str, Any]:
    """Read a YAML mapping with an error that names the file (``fix`` says where such a file comes from)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("file not found", file=path, fix=fix)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=path, fix="fix the YAML syntax at the position shown") from None
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping at the top level", file=path, fix="start the file with 'name: ...'")
    return raw


def _alternatives(annotation: Any) -> tuple[Any, ...]:
    """The types a field accepts: ``Path | None`` gives (Path, NoneType)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(t for arg in typing.get_args(annotation) for t in _alternatives(arg))
    return (annotation,)


def resolve_paths(section: dict[str, Any], model: type[BaseModel], base_dir: Path) -> dict[str, Any]:
    """Make the relative file paths of a settings section relative to ``base_dir``.

    The section's model says which entries are paths (fields typed ``Path``) and which are
    nested sections; a nested table source may be given by its path alone
    (``manifest: scans.csv`` means ``manifest: {path: scans.csv}``).
    """
    out = copy.deepcopy(section)
    for name, field in model.model_fields.items():
        value = out.get(name)
        if value is None:
            continue
        accepted = _alternatives(field.annotation)
        nested = next((t for t in accepted if isinstance(t, type) and issubclass(t, BaseModel)), None)
        if nested is not None:
            if isinstance(value, (str, Path)) and "path" in nested.model_fields:
                value = {"path": value}
            if isinstance(value, dict):
                out[name] = resolve_paths(value, nested, base_dir)
        elif Path in accepted and isinstance(value, (str, Path)):
            out[name] = str((base_dir / str(value)).resolve())
    return out


#: Where a ``cohort.yaml`` comes from, for the fix of a missing one.
COHORT_FIX = ("give --data a folder holding a cohort.yaml: one written by `alignome simulate ad-cohort --out DIR`"
              " (or `simulate mri3d`), or your own (README: \"Your own cohort\")")


def data_section_file(path: Path) -> Path:
    """The ``cohort.yaml`` that ``--data PATH`` names: the file itself or the one in the folder."""
    path = Path(path)
    return path / "cohort.yaml" if path.is_dir() or not path.suffix else path


def load_data_section(path: Path, model: type[BaseModel]) -> dict[str, Any]:
    """Read a ``cohort.yaml`` (a data section on its own, or the folder holding it), paths resolved."""
    path = data_section_file(path)
    if not path.parent.is_dir():
        raise ConfigError("folder not found", file=path.parent, field="--data", fix=COHORT_FIX)
    return resolve_paths(read_yaml(path, fix=COHORT_FIX), model, path.parent)


def apply_preset(raw: dict[str, Any], preset: str | None, path: Path) -> dict[str, Any]:
    """The recipe with its ``presets:`` entry removed and the named preset merged over the base."""
    raw = dict(raw)
    presets = raw.pop("presets", {}) or {}
    if preset is None:
        return raw
    if preset not in presets:
        raise ConfigError(
            f"unknown preset '{preset}'", file=path, field="presets",
            fix=f"choose one of {sorted(presets)} or leave --preset out",
        )
    return deep_merge(raw, presets[preset])


def validate_recipe(schema: type[BaseModel], raw: dict[str, Any], path: Path, kind: str) -> Any:
    """Validate a recipe against its kind's schema; the first problem becomes a ConfigError."""
    return validate_section(schema, raw, path, f"see recipes/{kind}.yaml for a complete example")


def validate_section(model: type[BaseModel], raw: dict[str, Any], path: Path, example: str) -> Any:
    """Validate ``raw`` (read from ``path``) against ``model``; the first problem becomes a ConfigError naming ``path``."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{first['msg']} ({len(exc.errors())} problem(s) in all)",
            file=path,
            field=loc or None,
            fix=f"correct this entry; {example}",
        ) from None


def dump_recipe(recipe: BaseModel) -> str:
    """YAML text of a resolved recipe (paths as strings)."""
    return yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False)
