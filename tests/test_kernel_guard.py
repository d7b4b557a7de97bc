"""The kernel guard (tests/helpers/kernels.py): a kernel that was not built fails in CI, skips only without a
compiler elsewhere."""

from __future__ import annotations

import pytest

from tests.helpers import kernels


def test_missing_kernel_fails_in_ci_and_where_a_compiler_exists(monkeypatch):
    kernels.require_kernel_built("alignome.gwas._tails", True)  # built: nothing to say
    monkeypatch.setattr(kernels.shutil, "which", lambda name: None)  # no compiler
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="alignome.gwas._tails is not built but CI builds every kernel"):
        kernels.require_kernel_built("alignome.gwas._tails", False)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no C compiler"):
        kernels.require_kernel_built("alignome.gwas._tails", False)
    monkeypatch.setattr(kernels.shutil, "which", lambda name: "/usr/bin/cc")
    with pytest.raises(pytest.fail.Exception, match="a C compiler exists"):
        kernels.require_kernel_built("alignome.gwas._tsv", False)
