"""Result rows as text (alignome.gwas.tsv): plink2's "%.6g" on the C kernel and in Python."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from alignome.gwas import tsv
from tests.helpers.kernels import require_kernel_built

EDGES = [0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1.0, -1.5,
         0.5, 1e-5, 1e-4, 9.999995e-5, 9.9999949e-5, 0.0001, 123456.5, 1234565.0, 999999.5, 9999995.0, 99999.95,
         999999.0, 1e6, 1e5, 1e15, 1e16, 1e100, 1e-100, 0.1, 0.3, 2.5, 0.00012345649999, 1.25e-300]


def _random_doubles(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    wide = rng.choice([-1, 1], n) * 10.0 ** rng.uniform(-320, 308, n)  # every decade
    bits = rng.integers(0, 2**63 - 1, n, dtype=np.int64).view(np.float64)  # every bit pattern (finite)
    halves = np.round(rng.uniform(0, 1e7, n)) / 10.0 ** rng.integers(0, 12, n)  # many exact 7th-digit halves
    values = np.concatenate([wide, bits, halves, EDGES])
    return values[np.isfinite(values) | np.isinf(values)]


def test_the_kernel_is_built():
    """Without alignome.gwas._tsv most of this module's tests skip: CI must notice a failed build."""
    require_kernel_built("alignome.gwas._tsv", tsv._kernel is not None)


@pytest.mark.skipif(tsv._kernel is None, reason="C extension alignome.gwas._tsv not built")
def test_kernel_formats_like_printf():
    values = _random_doubles(200_000)
    got = [tsv._kernel.g6(float(v)) for v in values]
    want = ["%.6g" % v for v in values]
    assert got == want
    assert tsv._kernel.g6(float("nan")) == "NA"


@pytest.mark.parametrize("use_kernel", [True, False])
def test_rows_join_every_kind_of_column(use_kernel):
    if use_kernel and tsv._kernel is None:
        pytest.skip("C extension alignome.gwas._tsv not built")
    prefix = pa.array(["1\t10\trs1", "X\t20\trs2", "MT\t5\tr\u00e9s3"])  # non-ASCII text passes through
    floats = np.array([0.123456789, np.nan, -2.5e-12])
    ints = np.array([5000, -3, 0])
    text = tsv.format_rows([prefix.slice(0, 3), ints, floats, b"lrt", np.array(["a", "bb", "a"], dtype=object)], 3,
                           use_kernel=use_kernel)
    assert text.decode() == ("1\t10\trs1\t5000\t0.123457\tlrt\ta\n"
                             "X\t20\trs2\t-3\tNA\tlrt\tbb\n"
                             "MT\t5\tr\u00e9s3\t0\t-2.5e-12\tlrt\ta\n")


def test_kernel_and_python_rows_agree():
    if tsv._kernel is None:
        pytest.skip("C extension alignome.gwas._tsv not built")
    values = _random_doubles(5_000, seed=3)
    values[::7] = np.nan
    n = values.size
    ids = pa.array([f"{i % 22 + 1}\t{i}\tv{i}" for i in range(n + 5)]).slice(5)  # an offset slice
    columns = [ids, np.arange(n) * 7 - 100, values, values[::-1].copy(), b"const"]
    assert tsv.format_rows(columns, n) == tsv.format_rows(columns, n, use_kernel=False)


def test_bad_columns_are_refused():
    if tsv._kernel is None:
        pytest.skip("C extension alignome.gwas._tsv not built")
    with pytest.raises(ValueError, match="3 values, expected 4"):
        tsv._kernel.rows((np.zeros(3),), 4)
    with pytest.raises(TypeError, match="float64/int64"):
        tsv._kernel.rows((np.zeros(3, dtype=np.float32),), 3)
    with pytest.raises(ValueError, match="outside the data"):
        tsv._kernel.rows(((np.zeros(2, np.uint8), np.array([0, 1, 9], dtype=np.int64)),), 2)

