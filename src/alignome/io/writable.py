"""Can a command write where it was told to? Checked before any work, with an error naming the path.

Permission bits alone do not answer it (root ignores them, a read-only mount refuses root too),
so the check creates and removes a probe file in the folder, or in the nearest existing folder
above it when the folder is still to be made.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from alignome.errors import DataError


def _probe(folder: Path) -> None:
    """Create and remove a temporary file in ``folder``; raises OSError when that is refused."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".alignome-write-probe.")
    os.close(fd)
    os.unlink(name)


def check_writable(folder: str | Path, what: str = "output folder", fix: str | None = None) -> Path:
    """Raise :class:`DataError` unless files can be written in ``folder`` (made later if missing).

    Parameters
    ----------
    folder
        The folder a command will write into; it need not exist yet.
    what
        What the folder is, for the message (``output folder``, ``volume cache`` …).
    fix
        The fix to suggest; by default, to choose another folder.

    Returns
    -------
    pathlib.Path
        ``folder``, unchanged.
    """
    folder = Path(folder)
    fix = fix or f"choose a {what} you can write to"
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise DataError(f"cannot write the {what} {folder}: {existing} is a file, not a folder", file=folder, fix=fix)
    try:
        _probe(existing)
    except OSError as exc:
        raise DataError(f"cannot write the {what} {folder}: {exc.strerror or exc}", file=existing, fix=fix) from None
    return folder


def check_prefix_writable(prefix: str | Path, fix: str = "give --out a prefix in a folder you can write to") -> Path:
    """:func:`check_writable` for the folder of an output prefix (``--out runs/gwas/emb`` writes in ``runs/gwas``)."""
    prefix = Path(prefix)
    check_writable(prefix.parent if str(prefix.parent) else Path("."), "output folder", fix)
    return prefix


def file_error(exc: OSError) -> DataError:
    """A :class:`DataError` for an ``OSError`` met while reading or writing (disk full, read-only folder, …)."""
    return DataError(
        f"{exc.strerror or exc} (while reading or writing)",
        file=exc.filename,
        fix="check that the file can be read and its folder written (free disk space; a writable --out or"
        " ALIGNOME_CACHE_DIR), then rerun the same command",
    )
