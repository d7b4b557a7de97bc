"""Packed .bed genotypes: the decoder against bed-reader, products (C kernel and NumPy) against dense algebra."""

from __future__ import annotations

import numpy as np
import pytest
from bed_reader import open_bed, to_bed

from alignome.gwas import packed
from alignome.gwas.blocks import PackedBlock, read_block, read_packed
from alignome.gwas.multitrait import multitrait_assoc
from alignome.gwas.singletrait import linear_assoc
from tests.helpers.kernels import require_kernel_built


@pytest.fixture(scope="module", params=[1001, 1000])  # n not divisible by 4, and divisible
def fileset(request, tmp_path_factory):
    n, m = request.param, 37
    rng = np.random.default_rng(n)
    g = rng.integers(0, 3, size=(n, m)).astype(np.float32)
    g[rng.random((n, m)) < 0.03] = np.nan
    g[:, 5] = np.nan if n % 4 == 0 else g[:, 5]  # a fully missing variant
    g[:, 7] = np.where(np.isnan(g[:, 7]), 1.0, g[:, 7])  # a complete variant
    path = tmp_path_factory.mktemp(f"bed{n}") / "g.bed"
    to_bed(path, g)
    with open_bed(path) as bed:
        reference = bed.read(dtype="float64", order="F")
    return path, reference


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(np.isnan(a), np.isnan(b))) and bool(
        np.array_equal(np.nan_to_num(a, nan=-1), np.nan_to_num(b, nan=-1))
    )


def test_decoding_equals_bed_reader_for_all_samples_and_subsets(fileset):
    path, reference = fileset
    n = reference.shape[0]
    assert _same(read_block(path, None, 3, 30), reference[:, 3:30])
    rows = np.random.default_rng(1).permutation(n)[: n // 3]
    assert _same(read_block(path, rows, 0, 37), reference[rows, :])


def test_complete_block_products_equal_the_dense_ones(fileset):
    path, reference = fileset
    n = reference.shape[0]
    block = PackedBlock(read_packed(path, 7, 8), n)
    assert block.complete()
    assert not PackedBlock(read_packed(path, 0, 37), n).complete()
    w = np.random.default_rng(2).normal(size=(4, n))
    product, sumsq = block.cross(w)
    dense = reference[:, 7:8]
    np.testing.assert_allclose(product, w @ dense, rtol=1e-12)
    np.testing.assert_array_equal(sumsq, (dense**2).sum(axis=0))


@pytest.fixture(params=["kernel", "numpy"])
def backend(request, monkeypatch):
    """Run a test with the compiled kernel and again with the NumPy fallback."""
    if request.param == "kernel":
        if not packed.kernel_available():
            pytest.skip("the C kernel alignome.gwas._packed is not built")
    else:
        monkeypatch.setattr(packed, "_kernel", lambda: None)
    return request.param


@pytest.mark.parametrize("p", [1, 14, 17, 40])  # one tile, a padded tile, tiles + remainder
def test_products_with_missing_calls_and_sample_subsets(fileset, backend, p):
    path, reference = fileset
    n = reference.shape[0]
    rng = np.random.default_rng(p)
    raw = read_packed(path, 0, 37)
    for rows in (None, rng.permutation(n)[: n // 2], np.sort(rng.choice(n, n - 3, replace=False))):
        dense = reference if rows is None else reference[rows]
        g0 = np.nan_to_num(dense, nan=0.0)
        w = rng.normal(size=(p, dense.shape[0]))
        product, sumsq = PackedBlock(raw, n, rows).cross(w)
        np.testing.assert_allclose(product, w @ g0, rtol=1e-11, atol=1e-10)
        np.testing.assert_array_equal(sumsq, (g0**2).sum(axis=0))


def test_missing_entries_match_the_decoded_block(fileset):
    path, reference = fileset
    n = reference.shape[0]
    raw = read_packed(path, 0, 37)
    for rows in (None, np.random.default_rng(3).permutation(n)[: n // 3]):
        block = PackedBlock(raw, n, rows)
        dense = reference if rows is None else reference[rows]
        cols, where = block.missing_entries()
        expect_cols, expect_rows = np.nonzero(np.isnan(dense).T)
        np.testing.assert_array_equal(cols, expect_cols)
        np.testing.assert_array_equal(where, expect_rows)
        assert block.complete() == (cols.size == 0)
        subset = block.take_rows(np.arange(block.shape[0]) % 2 == 0)
        np.testing.assert_array_equal(np.isnan(subset.dense()), np.isnan(dense[::2]))


def test_association_tests_on_packed_blocks_equal_the_dense_ones(fileset, backend):
    path, reference = fileset
    n = reference.shape[0]
    rng = np.random.default_rng(4)
    rows = rng.permutation(n)[: n - 50]
    dense = reference[rows]
    y = rng.normal(size=(rows.size, 3)) + 0.3 * np.nan_to_num(dense[:, [2]], nan=1.0)
    x = rng.normal(size=(rows.size, 2))
    block = PackedBlock(read_packed(path, 0, 37), n, rows)
    multi_packed, multi_dense = multitrait_assoc(y, block, x), multitrait_assoc(y, dense, x)
    for field in ("q", "p", "obs_ct", "beta"):
        np.testing.assert_allclose(getattr(multi_packed, field), getattr(multi_dense, field), rtol=1e-9)
    single_packed, single_dense = linear_assoc(y, PackedBlock(read_packed(path, 0, 37), n, rows), x), linear_assoc(y, dense, x)
    for field in ("beta", "se", "p", "obs_ct"):
        np.testing.assert_allclose(getattr(single_packed, field), getattr(single_dense, field), rtol=1e-9)


def test_the_kernel_is_built_where_a_compiler_exists():
    """`pip install -e .` builds alignome.gwas._packed (setup.py); a silent fallback would cost 3× in speed."""
    require_kernel_built("alignome.gwas._packed", packed.kernel_available())
