"""The simulator's fingerprint: what must match for a simulated cohort on disk to be reused."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import alignome
from alignome.imaging.ants_runtime import library_version

#: Libraries whose version can change a simulated cohort's bytes (random streams, the bundled template).
LIBRARIES = ("numpy", "scipy", "nibabel", "nilearn")

PACKAGE_DIR = Path(__file__).resolve().parent
#: Modules outside ``alignome.simulate`` whose contents shape a simulated cohort (template choice, diagnosis labels).
SHAPING_MODULES = ("imaging/mni_files.py", "diagnoses.py")


def source_sha256(folder: Path = PACKAGE_DIR) -> str:
    """SHA-256 over every file of ``folder`` (sorted relative paths and bytes), bytecode caches excluded."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def shaping_modules_sha256(root: Path = PACKAGE_DIR.parent) -> str:
    """SHA-256 over :data:`SHAPING_MODULES` (relative paths and bytes)."""
    digest = hashlib.sha256()
    for relative in SHAPING_MODULES:
        digest.update(relative.encode() + b"\0" + hashlib.sha256((root / relative).read_bytes()).digest())
    return digest.hexdigest()



def simulator_fingerprint() -> dict[str, Any]:
    """alignome's version, the SHA-256 of the ``alignome.simulate`` package's source and the libraries' versions.

    Any edit of the simulator (code or internal parameters) changes it, so a cohort simulated
    before the edit is never mistaken for one the current code would write.
    """
    return {
        "alignome": alignome.__version__,
        "simulate_source_sha256": source_sha256(),
        "shaping_modules_sha256": shaping_modules_sha256(),
        **{name: library_version(name) for name in LIBRARIES},
    }
