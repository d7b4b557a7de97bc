"""Named units of work run on several processes, each checkpointed as it finishes, resumed on a rerun."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from joblib import Parallel, delayed
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from alignome.checkpoint import load_checkpoint, save_checkpoint


def run_units(
    label: str,
    units: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]],
    ckpt_dir: Path,
    key: str,
    jobs: int,
    log: logging.Logger,
) -> dict[str, Any]:
    """Run named units of work on ``jobs`` processes with a progress bar.

    Each finished unit is checkpointed atomically as ``ckpt_dir/<name>.pkl``;
    units already checkpointed under the same settings ``key`` are loaded, not rerun.
    """
    done = {name: v for name in units if (v := load_checkpoint(ckpt_dir / f"{name}.pkl", key)) is not None}
    if done:
        log.info("resuming %s: %d of %d units already done", label, len(done), len(units))
    todo = [name for name in units if name not in done]
    columns = (TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as bar:
        task = bar.add_task(label, total=len(units), completed=len(done))
        runner = Parallel(n_jobs=max(1, min(jobs, len(todo))), return_as="generator_unordered")
        results = runner(delayed(_named)(name, *units[name]) for name in todo)
        for name, value in results:
            save_checkpoint(ckpt_dir / f"{name}.pkl", key, value)
            done[name] = value
            timing = ", ".join(f"{k} {v:.1f}s" for k, v in getattr(value, "timings_s", {}).items())
            log.info("%s done (%s)", name, timing)
            bar.advance(task)
    return done


def _named(name: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    return name, fn(*args)
