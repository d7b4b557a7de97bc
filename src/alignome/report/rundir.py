"""Read the files of a run directory, tolerating absent optional files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from alignome.errors import DataError
from alignome.report.summary import RESULT_COLUMNS

#: Optional tables a report reads: name → (file in the run directory, required columns).
#: A table that is absent, empty or lacks a column is None, with a note in the report.
TableFiles = Mapping[str, tuple[str, tuple[str, ...]]]


@dataclass
class RunFiles:
    """Contents of a run directory.

    Attributes
    ----------
    run_dir
        The directory.
    results
        ``results.csv`` (required).
    tables
        The optional tables asked for (:data:`TableFiles`), by name; None when absent, empty or unusable.
    embeddings
        ``embeddings.parquet``; None when absent, empty or unusable.
    metrics
        Parsed ``metrics.json``; empty when absent or unreadable.
    config_text, log_text
        ``config.resolved.yaml`` and ``run.log`` as text; None when absent.
    notes
        Human-readable remarks on files that were absent or skipped.
    """

    run_dir: Path
    results: pd.DataFrame
    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    embeddings: pd.DataFrame | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    config_text: str | None = None
    log_text: str | None = None
    notes: list[str] = field(default_factory=list)


def _read_results(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(
            "results.csv not found; the report is built from the results of a run",
            file=path,
            fix="run `alignome run` first, or point at a run directory (it contains results.csv)",
        )
    try:
        results = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        results = pd.DataFrame(columns=list(RESULT_COLUMNS))
    missing = [c for c in RESULT_COLUMNS if c not in results.columns]
    if missing:
        raise DataError(
            f"results.csv lacks column(s) {', '.join(missing)}",
            file=path,
            field=missing[0],
            fix="results.csv must have columns method,task,metric,fold,value; rerun `alignome run`",
        )
    return results


def _read_optional_csv(path: Path, required: tuple[str, ...], notes: list[str]) -> pd.DataFrame | None:
    if not path.is_file():
        notes.append(f"{path.name} is absent; its figure is skipped.")
        return None
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        table = pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        notes.append(f"{path.name} could not be parsed ({exc.__class__.__name__}); its figure is skipped.")
        return None
    if table.empty:
        notes.append(f"{path.name} is empty; its figure is skipped.")
        return None
    missing = [c for c in required if c not in table.columns]
    if missing:
        notes.append(f"{path.name} lacks column(s) {', '.join(missing)}; its figure is skipped.")
        return None
    return table


def _read_text(path: Path) -> str | None:
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace")


def _read_metrics(path: Path, notes: list[str]) -> dict[str, Any]:
    if not path.is_file():
        notes.append("metrics.json is absent; cohort counts and timings are not shown.")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        notes.append(f"metrics.json could not be parsed ({exc}); cohort counts and timings are not shown.")
        return {}
    if not isinstance(data, dict):
        notes.append("metrics.json is not a JSON object; it is ignored.")
        return {}
    return data


def _read_embeddings(path: Path, notes: list[str]) -> pd.DataFrame | None:
    if not path.is_file():
        notes.append("embeddings.parquet is absent; the embedding projection is skipped.")
        return None
    try:
        table = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types on bad files
        notes.append(f"embeddings.parquet could not be read ({exc.__class__.__name__}); its figure is skipped.")
        return None
    return None if table.empty else table


def run_kind(run_dir: str | Path) -> str | None:
    """The recipe kind a run directory's ``metrics.json`` names; None when it names none or cannot be read."""
    metrics = _read_metrics(Path(run_dir) / "metrics.json", [])
    kind = metrics.get("kind")
    return kind if isinstance(kind, str) else None


def load_run(run_dir: str | Path, tables: TableFiles | None = None) -> RunFiles:
    """Read every file a report uses from a run directory.

    Parameters
    ----------
    run_dir
        Directory written by ``alignome run``.
    tables
        The optional tables the report draws from (:data:`TableFiles`).

    Returns
    -------
    RunFiles
        Tables and texts; optional files that are absent, empty or malformed are
        None and explained in ``notes``.

    Raises
    ------
    DataError
        If ``run_dir`` is not a directory, or ``results.csv`` is absent or lacks
        a required column.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(
            "run directory not found",
            file=run_dir,
            fix="run `alignome run` first, or point at a run directory (it contains results.csv)",
        )
    notes: list[str] = []
    run = RunFiles(run_dir=run_dir, results=_read_results(run_dir / "results.csv"), notes=notes)
    for name, (file_name, required) in (tables or {}).items():
        run.tables[name] = _read_optional_csv(run_dir / file_name, required, notes)
    run.embeddings = _read_embeddings(run_dir / "embeddings.parquet", notes)
    run.metrics = _read_metrics(run_dir / "metrics.json", notes)
    run.config_text = _read_text(run_dir / "config.resolved.yaml")
    run.log_text = _read_text(run_dir / "run.log")
    return run
