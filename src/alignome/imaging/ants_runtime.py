"""ANTsPy, imported on demand: one ITK thread per call and a fixed random seed, so results repeat."""

from __future__ import annotations

import os
from importlib import metadata
from types import ModuleType

from alignome.errors import ConfigError

#: Seed of ANTs' random sampling of the registration metric (same seed, same transform).
ANTS_SEED = 20260
#: The antspyx release the raw-T1 steps were written and tested against.
ANTS_PACKAGE = "antspyx"


def import_ants() -> ModuleType:
    """The ``ants`` module, set to one ITK thread and :data:`ANTS_SEED`.

    Raises
    ------
    alignome.errors.ConfigError
        antspyx is not installed.
    """
    # ITK reads its thread count once, at the first filter: set it before ants loads. One thread per
    # call keeps registrations bit-reproducible; the cache runs several scans side by side instead.
    os.environ.setdefault("ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS", "1")
    try:
        import ants
    except ImportError:
        raise ConfigError(
            "the raw-T1 preprocessing steps (n4, register, skull_strip) need ANTsPy, which is not installed",
            field="method.preprocess.steps",
            fix=f"pip install 'alignome[raw]' && pip install --no-deps {ANTS_PACKAGE}==0.6.3 (make install does "
            "this: its numpy/scipy pins are older than alignome's), or remove 'steps' for scans already in MNI space",
        ) from None
    ants.config._random_seed = ANTS_SEED  # ants.set_ants_deterministic would also reseed numpy's global generator
    return ants


def library_version(name: str) -> str | None:
    """Installed version of the distribution ``name`` (None when absent)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
