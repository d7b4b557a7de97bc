"""Atomic on-disk checkpoints so an interrupted run resumes where it stopped."""

from __future__ import annotations

import hashlib
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
    """Pickle ``value`` tagged with ``key`` (the hash of the settings that produced it) and the SHA-256 of its bytes."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    blob = {"key": key, "sha256": hashlib.sha256(payload).hexdigest(), "payload": payload}
    atomic_write_bytes(path, pickle.dumps(blob, protocol=pickle.HIGHEST_PROTOCOL))


def load_checkpoint(path: Path, key: str) -> Any | None:
    """The checkpointed value if it exists, was made with the same ``key`` and its bytes match their checksum, else ``None``."""
    path = Path(path)
    if not path.is_file():
        return None
    try:  # a corrupt checkpoint (or one of an older format, without checksum) is recomputed, never trusted
        blob = pickle.loads(path.read_bytes())
        if blob.get("key") != key or hashlib.sha256(blob["payload"]).hexdigest() != blob["sha256"]:
            return None
        return pickle.loads(blob["payload"])
    except Exception:
        return None
