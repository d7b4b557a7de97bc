"""Streamed polygenic scores (C kernel and NumPy fallback) equal plink1.9 ``--score``, the in-memory definition and each other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.genetics import score
from alignome.genetics.score import polygenic_score, read_score_file
from tests.helpers.plink_tools import require_plink19, run_plink


def test_the_kernel_is_built_where_a_compiler_exists():
    """`pip install -e .` builds alignome.genetics._bedscore (setup.py); a silent fallback would cost speed."""
    assert score.bed_kernel() is not None, \
        "alignome.genetics._bedscore is missing: rerun `make install` and read its build log"


@pytest.mark.parametrize("n", [1001, 1000, 3])  # n not divisible by 4, divisible, less than one byte
@pytest.mark.parametrize("mean_imputation", [True, False])
def test_kernel_sums_equal_the_numpy_sums(n, mean_imputation):
    """The kernel's accumulate() and its NumPy twin add the same per-sample sums (missing calls, flips, founders)."""
    kernel = score.bed_kernel()
    if kernel is None:
        pytest.skip("the C kernel alignome.genetics._bedscore is not built")
    rng = np.random.default_rng(n)
    m, width = 37, (n + 3) // 4  # two groups of 16 variants and a remainder
    raw = rng.integers(0, 256, size=(m, width), dtype=np.uint8)  # about a quarter of calls missing
    raw[3] = 0b01010101  # every call missing: no founder frequency
    raw[4] = np.where(np.arange(width) % 2, 0b11100100, 0b00101110)  # no missing call
    raw[20:36] &= 0b10101010  # a whole group without missing calls (codes 00 and 10 only)
    weights = rng.normal(size=m)
    flip = rng.random(m) < 0.4
    founders = np.zeros(4 * width)
    founders[:n] = rng.random(n) < 0.8
    sums = {}
    for name in ("kernel", "numpy"):
        total, dosage, missing = np.full(4 * width, 0.5), np.zeros(4 * width), np.zeros(4 * width)
        if name == "kernel":
            kernel.accumulate(raw, m, width, weights, flip.view(np.uint8), founders.astype(np.uint8), mean_imputation,
                              total, dosage, missing)
        else:
            score._accumulate_numpy(raw, weights, flip, founders, mean_imputation, total, dosage, missing)
        sums[name] = total, dosage, missing
    np.testing.assert_allclose(sums["kernel"][0], sums["numpy"][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(sums["kernel"][1], sums["numpy"][1])
    np.testing.assert_array_equal(sums["kernel"][2], sums["numpy"][2])
    codes = raw[:, :, None] >> (2 * np.arange(4)) & 3  # (m, width, 4): the definition, call by call
    assert sums["numpy"][2].tolist() == (codes == 1).sum(axis=0).ravel().tolist()
    a1 = np.array([2, 0, 1, 0])[codes]
    dose = np.where(flip[:, None, None] & (codes != 1), 2 - a1, a1).sum(axis=0).ravel()
    assert sums["numpy"][1].tolist() == dose.tolist()
    dose = np.where(flip[:, None, None] & (codes != 1), 2 - a1, a1).reshape(m, -1)  # (m, 4·width), missing 0
    called = (codes != 1).reshape(m, -1) @ founders
    freq = np.divide(dose @ founders, 2 * called, out=np.zeros(m), where=called > 0)
    fill = 2 * freq * weights if mean_imputation else np.zeros(m)
    expected = 0.5 + weights @ dose + fill @ (codes == 1).reshape(m, -1)
    np.testing.assert_allclose(sums["kernel"][0], expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="buffer sizes"):
        kernel.accumulate(raw, m, width + 1, weights, flip.view(np.uint8), founders.astype(np.uint8), True, total,
                          dosage, missing)


@pytest.mark.parametrize("modifiers", [[], ["sum"], ["no-mean-imputation"]])
def test_streamed_score_with_non_founders_equals_plink19(family_data, tmp_path, modifiers, bed_backend):
    exe = require_plink19()
    run_plink(exe, ["--bfile", str(family_data["prefix"]), "--score", str(family_data["weights"]), *modifiers,
                    "--out", "plink"], tmp_path)
    expected = pd.read_csv(tmp_path / "plink.profile", sep=r"\s+", dtype={"FID": str, "IID": str})
    ours, _ = polygenic_score(family_data["prefix"], read_score_file(family_data["weights"]), sum_="sum" in modifiers,
                              mean_imputation="no-mean-imputation" not in modifiers)
    np.testing.assert_array_equal(ours["CNT"].to_numpy(), expected["CNT"].to_numpy())
    np.testing.assert_array_equal(ours["CNT2"].to_numpy(), expected["CNT2"].to_numpy())
    name = expected.columns[-1]
    np.testing.assert_allclose(ours[name].to_numpy(), expected[name].to_numpy(), rtol=1e-5,
                               atol=1e-6 * np.abs(expected[name]).max())


@pytest.mark.parametrize("block", [50, None])
def test_streamed_score_equals_in_memory_definition(family_data, bed_backend, block):
    """score_bed (blocks, byte lookup) equals score_dosages on the decoded matrix."""
    from alignome.cohort.genotypes import open_plink
    from alignome.io.plink_fileset import founder_mask, read_fileset
    from alignome.genetics.score import resolve_weights, score_bed, score_dosages

    fs = read_fileset(family_data["prefix"])
    bed, fam, variants = fs.bed, fs.fam, fs.variants_frame()
    weights = resolve_weights(read_score_file(family_data["weights"]), variants)
    positions = variants.index.get_indexer(pd.Index(weights.variants))
    counts = open_plink(family_data["prefix"]).reader(positions.astype(np.intp)).astype(np.float64)
    founders = founder_mask(fam)
    assert not founders.all()
    for sum_, mean in ((False, True), (True, True), (False, False)):
        a = score_bed(bed, fs.n, positions, weights.flip, weights.weights, founders, sum_=sum_,
                      mean_imputation=mean, block=block)
        b = score_dosages(counts, weights.flip, weights.weights, founders, sum_=sum_, mean_imputation=mean)
        pd.testing.assert_frame_equal(a[["CNT", "CNT2"]], b[["CNT", "CNT2"]])
        np.testing.assert_allclose(a.iloc[:, 2].to_numpy(), b.iloc[:, 2].to_numpy(), rtol=1e-12, atol=1e-12)
