"""Multi-trait GWAS kernel: DESIGN.md reference vector and a slow, independent implementation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from alignome.gwas.multitrait import multitrait_assoc
from alignome.gwas.singletrait import linear_assoc

G_REF = np.array([0, 1, 2, 0, 1, 2, 1, 0, 2, 1], dtype=float)
Y_REF = np.array([[.1, 1.2], [.5, .7], [1.9, 2.1], [-.3, .2], [.8, 1.5], [1.1, .9], [.2, 1.1],
                  [-.5, -.1], [1.4, 2.2], [.3, .4]])


def test_reference_vector():
    r = multitrait_assoc(Y_REF, G_REF)
    assert r.method == "lrt" and r.n_traits == 2 and r.n_covariates == 1 and r.obs_ct[0] == 10
    np.testing.assert_allclose(r.beta[:, 0], [0.85, 0.65], rtol=1e-12)
    np.testing.assert_allclose(r.q[0], 8.7926764, rtol=1e-7)
    np.testing.assert_allclose(r.lrt[0], 11.5832964, rtol=1e-8)
    np.testing.assert_allclose(r.p_lrt[0], 0.003053, rtol=2e-4)
    np.testing.assert_allclose(r.lrt_ml[0], 21.1417911, rtol=1e-8)
    np.testing.assert_allclose(r.wilks_f[0], 25.48974, rtol=1e-6)
    np.testing.assert_allclose(r.p_wilks[0], 6.115e-4, rtol=2e-4)
    assert r.stat[0] == r.lrt[0] and r.p[0] == r.p_lrt[0]
    w = multitrait_assoc(Y_REF, G_REF, method="wilks")
    assert w.method == "wilks" and w.stat[0] == w.wilks_f[0] and w.p[0] == w.p_wilks[0]
    assert multitrait_assoc(Y_REF, G_REF, method="ml").stat[0] == r.lrt_ml[0]


def _slow(y, g, x):
    """Per-variant explicit fits: lstsq null/alternative models, Gaussian log-likelihoods."""
    n, d = y.shape
    design0 = np.column_stack([np.ones(n)] + ([] if x is None else [x]))
    design1 = np.column_stack([design0, g])
    e0 = y - design0 @ np.linalg.lstsq(design0, y, rcond=None)[0]
    coef1 = np.linalg.lstsq(design1, y, rcond=None)[0]
    e1 = y - design1 @ coef1
    c0 = e0.T @ e0 / n  # null ML covariance, held fixed
    c0inv = np.linalg.inv(c0)

    def loglik(resid, cov):
        _, logdet = np.linalg.slogdet(cov)
        quad = np.einsum("ij,jk,ik->", resid, np.linalg.inv(cov), resid)
        return -0.5 * (n * d * np.log(2 * np.pi) + n * logdet + quad)

    # fixed-C model: covariance s·C0; GLS = OLS per trait when all traits share a design.
    s0 = np.einsum("ij,jk,ik->", e0, c0inv, e0) / (n * d)
    s1 = np.einsum("ij,jk,ik->", e1, c0inv, e1) / (n * d)
    lrt = 2 * (loglik(e1, s1 * c0) - loglik(e0, s0 * c0))
    ml = 2 * (loglik(e1, e1.T @ e1 / n) - loglik(e0, c0))
    lam = np.linalg.det(e1.T @ e1) / np.linalg.det(e0.T @ e0)
    p = design0.shape[1]
    f = (1 - lam) / lam * (n - p - d) / d
    return coef1[-1], lrt, ml, f


@pytest.mark.parametrize("with_covariates", [False, True])
def test_matches_slow_implementation(with_covariates):
    rng = np.random.default_rng(1)
    n, d, m = 60, 3, 25
    x = rng.normal(size=(n, 2)) if with_covariates else None
    g = rng.binomial(2, 0.3, size=(n, m)).astype(float)
    mix = rng.normal(size=(d, d))
    y = rng.normal(size=(n, d)) @ mix + 0.3 * g[:, [0]] + (0 if x is None else x @ rng.normal(size=(2, d)))
    g[3, 4] = np.nan  # one missing genotype: that variant is refit without sample 3
    r = multitrait_assoc(y, g, x)
    for j in range(m):
        keep = np.isfinite(g[:, j])
        beta, lrt, ml, f = _slow(y[keep], g[keep, j], None if x is None else x[keep])
        np.testing.assert_allclose(r.beta[:, j], beta, rtol=1e-9)
        np.testing.assert_allclose([r.lrt[j], r.lrt_ml[j], r.wilks_f[j]], [lrt, ml, f], rtol=1e-8)
        assert r.obs_ct[j] == keep.sum()
    np.testing.assert_allclose(r.p_lrt, stats.chi2.sf(r.lrt, d))
    df2 = r.obs_ct - (3 if with_covariates else 1) - d
    np.testing.assert_allclose(r.p_wilks, stats.f.sf(r.wilks_f, d, df2))


def test_single_trait_special_case():
    """D = 1: Wilks F equals the OLS t², so the exact p-values agree."""
    rng = np.random.default_rng(2)
    n = 80
    x = rng.normal(size=(n, 2))
    g = rng.binomial(2, 0.4, size=(n, 10)).astype(float)
    y = rng.normal(size=n) + 0.2 * g[:, 0]
    multi = multitrait_assoc(y, g, x, method="wilks")
    single = linear_assoc(y, g, x)
    np.testing.assert_allclose(multi.wilks_f, single.t[0] ** 2, rtol=1e-9)
    np.testing.assert_allclose(multi.p, single.p[0], rtol=1e-8)


def test_block_equals_one_by_one_and_monomorphic():
    rng = np.random.default_rng(4)
    y = rng.normal(size=(40, 2))
    g = rng.binomial(2, 0.5, size=(40, 6)).astype(float)
    g[:, 2] = 1.0
    block = multitrait_assoc(y, g)
    assert np.isnan(block.p[2]) and np.isnan(block.beta[:, 2]).all()
    for j in (0, 1, 3, 5):
        np.testing.assert_allclose(block.lrt[j], multitrait_assoc(y, g[:, j]).lrt[0], rtol=1e-12)


def test_shape_errors():
    with pytest.raises(ValueError, match="rows"):
        multitrait_assoc(np.zeros((5, 2)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="method"):
        multitrait_assoc(Y_REF, G_REF, method="score")
    with pytest.raises(ValueError, match="NaN"):
        y = Y_REF.copy()
        y[0, 0] = np.nan
        multitrait_assoc(y, G_REF)


def test_drop_downdate_equals_refit():
    """missing="drop" by rank-k downdate equals the per-variant refit (multi and single trait)."""
    from alignome.gwas.singletrait import linear_assoc

    rng = np.random.default_rng(11)
    n, m = 120, 40
    g = rng.binomial(2, rng.uniform(0.1, 0.5, m), size=(n, m)).astype(float)
    g[rng.random((n, m)) < 0.05] = np.nan
    g[:, 3] = np.nan  # all missing
    g[: n - 3, 4] = np.nan  # too few kept
    g[:, 5] = np.where(np.isnan(g[:, 5]), np.nan, 1.0)  # monomorphic among kept
    rare = np.zeros(n)
    rare[[7, 9]] = 1.0  # a covariate that loses its rank when samples 7 and 9 are dropped → refit fallback
    g[[7, 9], 6] = np.nan
    cov = np.column_stack([rng.normal(size=n), rare])
    y = rng.normal(size=(n, 3)) + 0.4 * np.nan_to_num(g[:, [0]], nan=1.0)
    for method in ("lrt", "wilks"):
        a = multitrait_assoc(y, g, cov, method=method)
        b = multitrait_assoc(y, g, cov, method=method, drop_update="refit")
        np.testing.assert_array_equal(a.obs_ct, b.obs_ct)
        np.testing.assert_allclose(a.q, b.q, rtol=1e-9, atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(a.p, b.p, rtol=1e-8, equal_nan=True)
        np.testing.assert_allclose(a.beta, b.beta, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert np.isnan(a.q[[3, 4, 5]]).all() and np.isfinite(a.q[6])
    s1, s2 = linear_assoc(y, g, cov), linear_assoc(y, g, cov, drop_update="refit")
    for field in ("beta", "se", "p"):
        np.testing.assert_allclose(getattr(s1, field), getattr(s2, field), rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(s1.df, s2.df)
    np.testing.assert_array_equal(s1.obs_ct, s2.obs_ct)


def test_covariate_units_do_not_change_the_tests():
    """A covariate in large units (ICV in mm³) must not push the intercept out of the design: same tests as in
    litres.  A rank tolerance relative to the largest column once dropped the intercept at n = 100k."""
    rng = np.random.default_rng(5)
    n = 100_000
    icv_litres = 1.5 + 0.15 * rng.normal(size=n)
    g = rng.integers(0, 3, size=(n, 3)).astype(float)
    y = 10.0 + 0.5 * icv_litres + rng.normal(size=n)
    litres = linear_assoc(y, g, icv_litres[:, None])
    mm3 = linear_assoc(y, g, 1e6 * icv_litres[:, None])
    assert litres.n_covariates == mm3.n_covariates == 2
    np.testing.assert_allclose(mm3.p, litres.p, rtol=1e-8)
    assert (litres.p > 1e-4).all()  # null variants: no spurious signal from a dropped intercept
    multi = multitrait_assoc(np.c_[y, y + rng.normal(size=n)], g, 1e6 * icv_litres[:, None])
    assert multi.n_covariates == 2 and (multi.p > 1e-4).all()
    # genuinely dependent columns still go: a constant (the intercept again) and a multiple of a covariate
    dependent = linear_assoc(y, g, np.c_[1e6 * icv_litres, np.full(n, 7e9), 3 * icv_litres])
    assert dependent.n_covariates == 2
