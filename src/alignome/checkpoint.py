"""Atomic on-disk checkpoints so an interrupted run resumes where it stopped."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` via a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(path: Path, key: str, value: Any) -> None:
    """Pickle ``value`` tagged with ``key`` (the hash of the settings that produced it)."""
    atomic_write_bytes(path, pickle.dumps({"key": key, "value": value}, protocol=pickle.HIGHEST_PROTOCOL))


def load_checkpoint(path: Path, key: str) -> Any | None:
    """The checkpointed value if it exists and was made with the same ``key``, else ``None``."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        blob = pickle.loads(path.read_bytes())
    except Exception:  # a corrupt checkpoint is recomputed, never trusted
        return None
    return blob["value"] if blob.get("key") == key else None
