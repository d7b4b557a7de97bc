"""The guard of an optional C kernel: a failed build must not pass CI silently (its tests would all skip).

Use in a test module::

    def test_the_kernel_is_built():
        require_kernel_built("alignome.gwas._tails", tails._kernel is not None)
"""

from __future__ import annotations

import os
import shutil

import pytest


def must_be_built() -> str | None:
    """Why a missing kernel is a failure here (None where it may be missing: no C compiler, not CI)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return "CI builds every kernel"
    if shutil.which("cc") or shutil.which("gcc"):
        return "a C compiler exists, so `pip install -e .` (setup.py) builds it"
    return None


def require_kernel_built(name: str, built: bool) -> None:
    """Pass when the extension ``name`` is built; else fail (:func:`must_be_built`) or skip."""
    if built:
        return
    why = must_be_built()
    message = f"{name} is not built"
    if why is None:
        pytest.skip(f"{message}: no C compiler, the NumPy fallback runs")
    pytest.fail(f"{message} but {why}: rerun `make install` and read its build log; without it the kernel's "
                "tests skip and a broken build passes unnoticed")
