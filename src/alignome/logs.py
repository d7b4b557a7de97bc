"""Run logging: to the run directory's log file and, briefly, to the terminal."""

from __future__ import annotations

import logging
from pathlib import Path

from rich.logging import RichHandler


def run_logger(log_file: Path) -> logging.Logger:
    """The ``alignome`` logger writing INFO+ to ``log_file`` and the terminal (idempotent)."""
    log = logging.getLogger("alignome")
    log.setLevel(logging.INFO)
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    file_handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(file_handler)
    log.addHandler(RichHandler(show_path=False, show_time=False, markup=False))
    log.propagate = False
    return log
