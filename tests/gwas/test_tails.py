"""p-values of the association tests (alignome.gwas.tails) against scipy.special and mpmath."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import special

from alignome.gwas import tails
from tests.helpers.kernels import require_kernel_built

def test_the_kernel_is_built():
    """Without alignome.gwas._tails 76 of this module's tests skip: CI must notice a failed build."""
    require_kernel_built("alignome.gwas._tails", tails._kernel is not None)


needs_kernel = pytest.mark.skipif(tails._kernel is None, reason="C extension alignome.gwas._tails not built")
RTOL = 2e-12  # the kernel's accuracy: about 1e-12 relative down to p = 1e-300 (checked against mpmath)
SCIPY_RTOL = 5e-12  # scipy.special is itself off by up to ~1e-12 in places (e.g. F with d2 = 1e5)


def _close(p: np.ndarray, ref: np.ndarray) -> None:
    """Equal within SCIPY_RTOL where SciPy's p is a normal double; both (near) zero below that."""
    normal = ref > 1e-300
    np.testing.assert_allclose(p[normal], ref[normal], rtol=SCIPY_RTOL, atol=0)
    assert np.all(p[~normal] < 1e-290)


def _statistics(rng, size: int, scale: float, top: float) -> np.ndarray:
    return np.concatenate([rng.normal(size=size) * scale, 10 ** rng.uniform(-4, top, size)])


@needs_kernel
@pytest.mark.parametrize("nu", [1, 2, 3, 5, 9, 19, 20, 21, 30, 100, 1_000, 4_996, 100_000, 1_000_000])
def test_t_two_sided_matches_scipy(nu):
    rng = np.random.default_rng(nu)
    t = _statistics(rng, 5_000, 3.0, 2.5)
    _close(tails.t_two_sided(t, nu), 2.0 * special.stdtr(nu, -np.abs(t)))


@needs_kernel
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 10, 11, 30])
def test_chi2_sf_matches_scipy(d):
    rng = np.random.default_rng(d)
    x = np.concatenate([rng.chisquare(d, 5_000), 10 ** rng.uniform(-6, 3.2, 5_000)])
    _close(tails.chi2_sf(x, d), special.chdtrc(d, x))


@needs_kernel
@pytest.mark.parametrize("d1", [1, 2, 3, 4, 5, 10, 11])
@pytest.mark.parametrize("d2", [1, 3, 10, 100, 4_990, 100_000])
def test_f_sf_matches_scipy(d1, d2):
    rng = np.random.default_rng(d1 * 1000 + d2)
    f = np.concatenate([rng.f(d1, d2, 2_000), 10 ** rng.uniform(-4, 4, 1_000)])
    _close(tails.f_sf(f, d1, d2), special.fdtrc(d1, d2, f))


@needs_kernel
@pytest.mark.parametrize("t, nu", [(40.0, 5_000), (12.0, 1_000_000), (2.6, 4_996), (1e-6, 300), (150.0, 2)])
def test_t_tail_against_mpmath(t, nu):
    """The tail far beyond SciPy's own cross-check: I_x(ν/2, ½) at 40 digits."""
    mpmath.mp.dps = 40
    x = mpmath.mpf(nu) / (nu + mpmath.mpf(t) ** 2)
    exact = float(mpmath.betainc(mpmath.mpf(nu) / 2, mpmath.mpf(1) / 2, 0, x, regularized=True))
    assert tails.t_two_sided(np.array([t]), nu)[0] == pytest.approx(exact, rel=RTOL)


@needs_kernel
@pytest.mark.parametrize("d1, d2, f", [(4, 100_000, 1.3), (10, 100_000, 1.8), (3, 4_990, 40.0), (1, 20, 0.01)])
def test_f_tail_against_mpmath(d1, d2, f):
    mpmath.mp.dps = 40
    x = mpmath.mpf(d2) / (d2 + d1 * mpmath.mpf(f))
    exact = float(mpmath.betainc(mpmath.mpf(d2) / 2, mpmath.mpf(d1) / 2, 0, x, regularized=True))
    assert tails.f_sf(np.array([f]), d1, d2)[0] == pytest.approx(exact, rel=RTOL)


@pytest.mark.parametrize("use_kernel", [True, False])
def test_edges_agree_with_scipy_conventions(use_kernel):
    if use_kernel and tails._kernel is None:
        pytest.skip("C extension alignome.gwas._tails not built")
    t = np.array([np.nan, 0.0, np.inf, -np.inf, 2.0, 2.0])
    df = np.array([10.0, 10.0, 10.0, 10.0, 0.0, -1.0])
    np.testing.assert_array_equal(tails.t_two_sided(t, df, use_kernel=use_kernel), [np.nan, 1, 0, 0, np.nan, np.nan])
    x = np.array([np.nan, -1.0, 0.0, np.inf])
    np.testing.assert_array_equal(tails.chi2_sf(x, 3, use_kernel=use_kernel), [np.nan, 1, 1, 0])
    f = np.array([np.nan, -0.5, 0.0, np.inf, 1.0])
    d2 = np.array([10.0, 10.0, 10.0, 10.0, 0.0])
    np.testing.assert_array_equal(tails.f_sf(f, 2, d2, use_kernel=use_kernel), [np.nan, 1, 1, 0, np.nan])
    with pytest.raises(ValueError, match="whole number"):
        tails.chi2_sf(x, 2.5, use_kernel=use_kernel)


@needs_kernel
def test_limits_far_out():
    """Infinite df is the normal tail; a χ² far beyond any LRT has p = 0, not an overflow."""
    np.testing.assert_allclose(tails.t_two_sided(np.array([1.959963984540054, 5.0]), np.inf),
                               2.0 * special.ndtr(-np.array([1.959963984540054, 5.0])), rtol=1e-14)
    assert tails.chi2_sf(np.array([1e250]), 50)[0] == 0.0 and tails.chi2_sf(np.array([1e60]), 200)[0] == 0.0


@needs_kernel
def test_broadcasting_keeps_shapes():
    t = np.random.default_rng(0).normal(size=(3, 7))
    df = np.arange(1, 8, dtype=float) * 100
    p = tails.t_two_sided(t, df[None, :])
    assert p.shape == (3, 7)
    np.testing.assert_allclose(p, tails.t_two_sided(t, df[None, :], use_kernel=False), rtol=RTOL)
