"""A run directory belongs to one recipe kind: which one, refusing another, and clearing it on request."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from alignome.errors import ConfigError
from alignome.recipes.registry import DEFAULT_KIND
from alignome.report.rundir import run_kind

CONFIG = "config.resolved.yaml"
METRICS = "metrics.json"


def owner_kind(out: str | Path) -> str | None:
    """The recipe kind of the run in ``out``: its ``config.resolved.yaml``, else its ``metrics.json``; None when no run.

    A ``metrics.json`` that names no kind is from a run of the default kind.
    """
    out = Path(out)
    config = out / CONFIG
    if config.is_file():
        try:
            kind = (yaml.safe_load(config.read_text()) or {}).get("kind")
        except (yaml.YAMLError, AttributeError, OSError, UnicodeDecodeError):
            kind = None
        if isinstance(kind, str):
            return kind
    if (out / METRICS).is_file():
        return run_kind(out) or DEFAULT_KIND
    return None


def claim_run_dir(out: str | Path, kind: str) -> None:
    """Raise :class:`ConfigError` when ``out`` holds a run of another kind (its files would be left beside ours)."""
    owner = owner_kind(out)
    if owner is not None and owner != kind:
        raise ConfigError(
            f"the run directory holds a run of the recipe kind '{owner}', not '{kind}': a run directory belongs to"
            " one kind, and the other run's files would stay beside this one's",
            file=out,
            fix="choose another --out, or add --overwrite to delete the old run first",
        )


def clear_run_dir(out: str | Path) -> None:
    """Delete the run directory ``out`` (``alignome run --overwrite``); a folder that holds no run is refused.

    Only a folder with a ``config.resolved.yaml`` or ``metrics.json`` is deleted, so a mistyped
    ``--out`` never removes a folder of other files. A missing or empty folder is left as it is.
    """
    out = Path(out)
    if not out.is_dir() or not any(out.iterdir()):
        return
    if owner_kind(out) is None:
        raise ConfigError(
            "--overwrite deletes only run directories, and this folder holds no config.resolved.yaml or metrics.json",
            file=out,
            fix="give --out a new or empty folder, or a run directory written by `alignome run`",
        )
    shutil.rmtree(out)
