"""The optional compiled extensions (built by setup.py where a C compiler is present)."""

from __future__ import annotations

import importlib
from types import ModuleType


def optional_extension(name: str) -> ModuleType | None:
    """The extension module ``name`` (e.g. ``"alignome.gwas._packed"``), or None where it was not built.

    Every caller keeps a NumPy path with the same results for the None case.
    """
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - depends on the install having a C compiler
        return None
