"""Find external PLINK binaries for reference tests, or skip (fail under ALIGNOME_REQUIRE_PLINK=1).

Use in a test::

    from tests.helpers.plink_tools import require_plink2
    exe = require_plink2()   # path, or pytest.skip / pytest.fail
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REQUIRE_ENV = "ALIGNOME_REQUIRE_PLINK"

#: name -> (environment variable that may point at the binary, Debian package)
_TOOLS = {"plink2": ("PLINK2", "plink2"), "plink1.9": ("PLINK19", "plink1.9")}


def find_plink(name: str) -> Path | None:
    """Path of a working binary ``name`` (``$PLINK2``/``$PLINK19``, then PATH), else None."""
    env, _ = _TOOLS[name]
    for cand in (os.environ.get(env), shutil.which(name)):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return Path(cand)
    return None


def require_plink(name: str) -> Path:
    """The binary ``name``; skip the test if missing, or fail when ``ALIGNOME_REQUIRE_PLINK=1``."""
    exe = find_plink(name)
    if exe is not None:
        return exe
    env, package = _TOOLS[name]
    message = f"{name} not found: install it (Debian: `apt-get install -y {package}`, or `make sysdeps`) or set ${env}"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message} ({REQUIRE_ENV}=1 makes the reference test mandatory)", pytrace=False)
    pytest.skip(message)


def find_plink2() -> Path | None:
    """Path of plink2, else None."""
    return find_plink("plink2")


def require_plink2() -> Path:
    """plink2, or skip/fail (see :func:`require_plink`)."""
    return require_plink("plink2")


def require_plink19() -> Path:
    """PLINK 1.9, or skip/fail (see :func:`require_plink`)."""
    return require_plink("plink1.9")


def run_plink(exe: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a PLINK binary with one thread and little memory; raise with its log on failure."""
    cmd = [str(exe), *args, "--threads", "1", "--memory", "1024"]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc
