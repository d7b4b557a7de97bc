"""A run directory: opened with its log and resolved recipe, a simulated cohort written once, finished with metrics and report."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from alignome.checkpoint import atomic_write_bytes
from alignome.io.writable import check_writable
from alignome.logs import run_logger
from alignome.recipes.loading import dump_recipe
from alignome.recipes.run_owner import claim_run_dir
from alignome.recipes.runner import build_report
from alignome.simulate.fingerprint import simulator_fingerprint


def open_run_dir(recipe: BaseModel, preset: str | None, out: Path) -> tuple[logging.Logger, str]:
    """Create the run directory, its log and ``config.resolved.yaml``.

    The directory must be writable and hold no run of another recipe kind
    (:func:`alignome.recipes.run_owner.claim_run_dir`); both are checked before anything is written.
    Returns the run's logger and the settings key (hash of the resolved recipe)
    under which its checkpoints are stored, so a changed recipe never resumes
    from another recipe's checkpoints.
    """
    check_writable(out, "run directory", fix="give --out a folder you can write to")
    claim_run_dir(out, recipe.kind)
    out.mkdir(parents=True, exist_ok=True)
    log = run_logger(out / "run.log")
    resolved = dump_recipe(recipe)
    atomic_write_bytes(out / "config.resolved.yaml", resolved.encode())
    log.info("recipe %s (preset %s, seed %d) → %s", recipe.name, preset, recipe.seed, out)
    return log, hashlib.sha256(resolved.encode()).hexdigest()


def simulate_once(out: Path, params: dict[str, Any], simulate: Callable[..., Any], log: logging.Logger, what: str) -> Path:
    """Write a simulated cohort into ``out/data`` unless the one there was made with the same ``params`` and simulator.

    ``simulate(data_dir, **params)`` writes the cohort; ``data/simulate.json`` stamps the
    parameters it ran with and the simulator's fingerprint
    (:func:`alignome.simulate.fingerprint.simulator_fingerprint`: alignome's version and a
    hash of the simulator's source), so a rerun into the same directory reuses the cohort
    only while both match; otherwise it simulates again and logs why.
    """
    data_dir = out / "data"
    stamp = data_dir / "simulate.json"
    wanted = json.loads(json.dumps({"params": params, "simulator": simulator_fingerprint()}))  # as stored
    stale = _stale_reason(stamp, wanted)
    if stale is None:
        log.info("reusing simulated %s in %s", what, data_dir)
        return data_dir
    if stamp.is_file():
        log.info("simulated %s in %s is stale (%s): simulating again", what, data_dir, stale)
    stamp.unlink(missing_ok=True)  # a simulation cut short must not leave a stamp that vouches for it
    log.info("simulating %s %s into %s", what, params, data_dir)
    simulate(data_dir, **params)
    atomic_write_bytes(stamp, json.dumps(wanted).encode())
    return data_dir


def _stale_reason(stamp: Path, wanted: dict[str, Any]) -> str | None:
    """Why the stamp file ``stamp`` does not vouch for ``wanted`` (params and simulator); None when it does."""
    if not stamp.is_file():
        return "no stamp"
    try:
        found = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return "unreadable stamp"
    if not isinstance(found, dict) or "simulator" not in found:
        return "the stamp has no simulator fingerprint (written by an older alignome)"
    if found.get("params") != wanted["params"]:
        return f"parameters were {found.get('params')}"
    changed = sorted(k for k in wanted["simulator"] if found["simulator"].get(k) != wanted["simulator"][k])
    if changed:
        return f"the simulator changed since: {', '.join(changed)}"
    return None


def finish_run(out: Path, metrics: dict[str, Any], log: logging.Logger) -> Path:
    """Write ``metrics.json``, build the report of its ``kind``, then write the metrics again with the report's time.

    ``metrics["timings_s"]`` gains ``report``. Returns ``out``.
    """
    def write() -> None:
        atomic_write_bytes(out / "metrics.json", json.dumps(metrics, indent=2, default=str).encode())

    t0 = time.perf_counter()
    write()
    build_report(out)
    metrics.setdefault("timings_s", {})["report"] = time.perf_counter() - t0
    write()
    log.info("run finished: %s", out / "report.html")
    return out
