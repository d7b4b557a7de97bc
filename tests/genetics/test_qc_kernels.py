"""The C kernels behind `variants qc` (alignome.genetics._bedscore) equal their NumPy/Python twins:
call counts on packed .bed rows, the Hardy–Weinberg exact test, the report text and the .bim/.fam reader."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from tests.helpers.qc_reference import hwe_triples

from alignome.errors import DataError
from alignome.genetics import hwe, qc_counts, qc_reports
from alignome.io import fields


@pytest.fixture
def kernel():
    k = fields.bed_kernel()
    if k is None:
        pytest.skip("the C kernel alignome.genetics._bedscore is not built")
    return k


def _calls(raw: np.ndarray, n: int) -> np.ndarray:
    """2-bit codes (0 hom A1, 1 missing, 2 het, 3 hom A2) of packed rows, (rows, n)."""
    return ((raw[:, :, None] >> np.array([0, 2, 4, 6], dtype=np.uint8)) & 3).reshape(raw.shape[0], -1)[:, :n]


@pytest.mark.parametrize("n", [1, 3, 4, 31, 32, 33, 63, 65, 255, 1000])
def test_counts_equal_numpy_and_decoded_calls(kernel, n):
    rng = np.random.default_rng(n)
    m, width = 300, (n + 3) // 4
    raw = rng.integers(0, 256, (m, width), dtype=np.uint8)  # padding bits random too: they must not count
    calls = _calls(raw, n)
    groups = [rng.random(n) < p for p in (1.0, 0.5, 0.2, 0.0, 0.9, 0.5, 0.7)]  # 7: two passes of six
    masks = qc_counts.group_masks(groups, n)
    out, ref = np.full((7, 3, m + 20), -1, np.int64), np.full((7, 3, m + 20), -1, np.int64)
    kernel.group_counts(raw[:100], 100, width, masks, out, m + 20, 10)  # in two blocks, at an offset
    kernel.group_counts(raw[100:], m - 100, width, masks, out, m + 20, 110)
    qc_counts.group_counts_numpy(raw, masks, ref[:, :, 10:m + 10])
    want = np.stack([np.stack([(calls[:, g] == code).sum(axis=1) for code in (1, 2, 3)]) for g in groups])
    np.testing.assert_array_equal(out[:, :, 10:m + 10], want)
    np.testing.assert_array_equal(ref[:, :, 10:m + 10], want)
    assert (out[:, :, :10] == -1).all() and (out[:, :, m + 10:] == -1).all()
    # Per-sample missing calls, each row counting the samples of its mask (600 rows: several 255-row batches).
    raw2 = np.concatenate([raw, raw[::-1]])
    which = rng.integers(0, 2, raw2.shape[0]).astype(np.uint8)
    sample_masks = qc_counts.group_masks(groups[:2], n)
    got = np.zeros(sample_masks.shape[1] * 32, np.int64)
    ref = got.copy()
    kernel.missing_counts(raw2, raw2.shape[0], width, sample_masks, which, got)
    qc_counts.missing_counts_numpy(raw2, sample_masks, which, ref)
    member = np.stack(groups[:2])[which]  # (rows, n)
    want = ((_calls(raw2, n) == 1) & member).sum(axis=0)
    np.testing.assert_array_equal(got[:n], want)
    np.testing.assert_array_equal(ref[:n], want)
    assert not got[n:].any()


def _exact(het: int, hom1: int, hom2: int, midp: bool = False) -> float:
    """The exact test with rational arithmetic."""
    n = het + hom1 + hom2
    rare = 2 * min(hom1, hom2) + het
    probs = {}
    for h in range(rare % 2, rare + 1, 2):
        r = (rare - h) // 2
        probs[h] = Fraction(2**h * comb(n, h) * comb(n - h, r))
    obs = probs[het]
    tail = sum((p for p in probs.values() if p <= obs), Fraction(0))
    ties = sum((p for p in probs.values() if p == obs), Fraction(0))
    total = sum(probs.values(), Fraction(0))
    return float((tail - ties / 2) / total if midp else tail / total)


def _kernel_hwe(kernel, het, hom1, hom2, midp=False):
    het, hom1, hom2 = (np.ascontiguousarray(a, dtype=np.int64) for a in (het, hom1, hom2))
    out = np.empty(het.size)
    kernel.hwe(het, hom1, hom2, midp, out)
    return out


def test_hwe_kernel_equals_exact_rational_sums(kernel):
    rng = np.random.default_rng(2)
    cases = [(57, 14, 29), (0, 50, 50), (100, 0, 0), (10, 5, 5), (3, 0, 97), (1, 0, 0), (21, 40, 39), (0, 0, 0),
             (2, 0, 0), (0, 0, 7), (0, 1, 0), (1, 1, 1), (4, 0, 0), (0, 2, 2), (2, 1, 1)]
    cases += [tuple(int(x) for x in t) for t in rng.integers(0, 60, (150, 3))]
    for n in (40, 300):
        p = rng.uniform(0.01, 0.5, 40)
        hom = rng.binomial(n, p**2)
        het = rng.binomial(n - hom, 2 * p * (1 - p) / (1 - p**2))
        cases += [(int(a), int(b), int(n - a - b)) for a, b in zip(het, hom)]
    het, hom1, hom2 = (np.array(c) for c in zip(*cases))
    for midp in (False, True):
        got = _kernel_hwe(kernel, het, hom1, hom2, midp)
        want = [_exact(*c, midp=midp) if sum(c) else (0.5 if midp else 1.0) for c in cases]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_hwe_kernel_equals_numpy_test(kernel):
    """Against alignome.genetics.hwe (log-gamma tables: about 1e-13 relative at 5,000 samples, 1e-10 at
    100,000), including p-values far below 1e-280 (the kernel's log-space path) and ones that underflow."""
    triples = hwe_triples(np.random.default_rng(5), [
        (0, 2500, 2500), (5000, 0, 0), (1, 0, 4999), (0, 1, 4999), (100, 0, 4900), (4000, 500, 500),
        (3, 1000, 3997), (10, 0, 0), (1200, 1800, 2000), (2900, 1100, 1000)], n_random=300)
    het, hom1, hom2 = (np.array(c) for c in zip(*triples))
    for midp in (False, True):
        got = _kernel_hwe(kernel, het, hom1, hom2, midp)
        want = hwe.hwe_exact(het, hom1, hom2, midp=midp)
        normal = want > 1e-300  # below, the NumPy test's exp() loses digits (subnormals) or underflows
        np.testing.assert_allclose(got[normal], want[normal], rtol=1e-9, atol=0)
        assert (got[~normal] < 1e-290).all() and normal.sum() > 500


def test_hwe_kernel_far_tail(kernel):
    """Observed configurations more than 1e280 times less probable than the mode: the log-space path."""
    far = [(4, 248, 1248), (50, 375, 1075), (2, 249, 1249), (40, 380, 1080), (0, 250, 1250), (38, 381, 1081),
           (42, 379, 1079), (46, 377, 1077), (0, 1250, 250), (1, 0, 0)]
    het, hom1, hom2 = (np.array(c) for c in zip(*far))
    for midp in (False, True):
        got = _kernel_hwe(kernel, het, hom1, hom2, midp)
        np.testing.assert_allclose(got, [_exact(*c, midp=midp) for c in far], rtol=1e-10, atol=0)
    assert (got[:-1] < 1e-280).all()


def test_report_text_equals_python_formatting(kernel, monkeypatch):
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.random(3000), 10 ** rng.uniform(-320, 308, 3000), -(10 ** rng.uniform(-30, 30, 500)),
                             rng.integers(0, 10**7, 2000) / 10 ** rng.integers(0, 12, 2000),
                             np.arange(3000) + 0.5, np.arange(5000) / 4909, np.arange(9819) / 9818,
                             [0.0, -0.0, 1e-4, 9.9995e-5, 9999.5, 99995.0, 12345.0, 1e22, 1e23, 5e-324, np.nan,
                              np.inf, -np.inf, 1.7976931348623157e308]])
    for precision in range(1, 10):
        got = kernel.text_rows([("", "g", values, precision, "NA")]).decode().split("\n")[:-1]
        assert got == [format(x, f".{precision}g") if np.isfinite(x) else "NA" for x in values.tolist()]
    ints = rng.integers(-10**12, 10**12, values.size)
    text = [f"v{i}é" for i in range(values.size)]
    columns = [("", "s", text), (" ", "c", "ALL"), ("\t", "i", ints), ("/", "g", values), (" %", "g6", values)]
    with_kernel = qc_reports._rows(columns)
    monkeypatch.setattr(qc_reports, "bed_kernel", lambda: None)
    assert with_kernel == qc_reports._rows(columns)
    assert with_kernel.decode().split("\n")[1] == f"{text[1]} ALL\t{ints[1]}/{values[1]:.4g} %{values[1]:.6g}"


@pytest.mark.parametrize("text", ["a b c\nd e f\n", "a b c\nd e f", "\n\n a  b\tc \r\n\n  \nd e f\n\n", "a b c\nd e\n",
                                  "a b c d\ne f\n", "a b\nc d e f\n", " \n\n", "", "a\u00a0b c\nd e f\n",
                                  "a\x1cb c d\ne f\n", "aa bb c\naa bb c\nx bb cc\n", "é b c\n"])
def test_plink_text_reader_equals_python(kernel, tmp_path, monkeypatch, text):
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")

    def read():
        try:
            return fields.read_columns(path, 3, ".x")
        except DataError as exc:
            return exc.problem, exc.row

    with_kernel = read()
    monkeypatch.setattr(fields, "bed_kernel", lambda: None)
    assert with_kernel == read()


def test_hwe_kernel_threshold_decides_as_the_p_values(kernel):
    """hwe(..., threshold) (most decided from a bound, without the p-value) equals p < threshold, also for
    thresholds a rounding step from a p-value."""
    rng = np.random.default_rng(7)
    n = 2000
    p = rng.uniform(0.01, 0.5, 3000)
    hom = rng.binomial(n, p**2)
    het = rng.binomial(n - hom, 2 * p * (1 - p) / (1 - p**2))
    het[:300] = rng.integers(0, 200, 300)  # departures: small p
    hom1, hom2 = hom, n - hom - het
    for midp in (False, True):
        values = _kernel_hwe(kernel, het, hom1, hom2, midp)
        picks = rng.choice(values[values > 0], 20)
        for threshold in [1e-300, 1e-20, 1e-6, 1e-4, 0.01, 0.05, 0.5, 1.0, 1.5,
                          *picks, *np.nextafter(picks, 2.0), *np.nextafter(picks, 0.0)]:
            out = np.empty(het.size, dtype=np.uint8)
            kernel.hwe(*(np.ascontiguousarray(a, dtype=np.int64) for a in (het, hom1, hom2)), midp, out,
                       float(threshold))
            np.testing.assert_array_equal(out.view(bool), values < threshold)
