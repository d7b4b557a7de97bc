"""The packed .bed decoder of the GWAS blocks against bed-reader, the reference reader."""

from __future__ import annotations

import numpy as np
import pytest
from bed_reader import open_bed, to_bed

from alignome.gwas.blocks import PackedBlock, read_block, read_packed


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
