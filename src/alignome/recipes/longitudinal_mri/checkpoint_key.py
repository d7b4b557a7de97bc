"""The key of a ``longitudinal-mri`` run's checkpoint folder: settings, image content and scan table."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pandas as pd

from alignome.cohort.image_cohort import SCAN_COLUMNS
from alignome.imaging.cache import VolumeCache


def checkpoint_key(settings_key: str, cache: VolumeCache, scans: pd.DataFrame) -> str:
    """SHA-256 of the resolved recipe's key, every scan's cache key and the scan table (paths aside).

    A cache key hashes the file's bytes and the preprocessing settings, so changed images,
    labels or settings train afresh in a folder of their own, while moving the files does not.
    """
    digest = hashlib.sha256(settings_key.encode())
    for path in scans["path"]:
        digest.update(cache.key(path).encode())
    table = [c for c in SCAN_COLUMNS if c != "path" and c in scans.columns]
    digest.update(scans[table].to_csv(index=False).encode())
    return digest.hexdigest()


def checkpoint_dir(out: Path, settings_key: str, cache: VolumeCache, scans: pd.DataFrame,
                   log: logging.Logger) -> Path:
    """``out/checkpoints/<key>``, :func:`checkpoint_key` cut to 12 digits; says so when other keys' folders stay unused."""
    folder = out / "checkpoints" / checkpoint_key(settings_key, cache, scans)[:12]
    others = sorted(p.name for p in folder.parent.glob("*") if p.is_dir() and p != folder)
    if others and not folder.is_dir():
        log.info("checkpoints %s were made with other settings, images or scan table: training afresh in %s",
                 others, folder.name)
    return folder
