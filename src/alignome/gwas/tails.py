"""Upper tails of the t, χ² and F distributions: the p-values of the association tests.

The C extension ``alignome.gwas._tails`` computes them without SciPy, whose import alone costs
``alignome gwas`` about 0.15 s; without the extension they come from ``scipy.special`` (the
functions ``scipy.stats`` calls), to the same values within about 1e-12 relative.
"""

from __future__ import annotations

import numpy as np

from alignome._native import optional_extension

_kernel = optional_extension("alignome.gwas._tails")


def _out(*arrays) -> tuple[list[np.ndarray], np.ndarray, tuple]:
    """The arrays broadcast together as contiguous float64 vectors, an output vector and the shape."""
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in arrays])
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    return flat, np.empty(flat[0].size), shape


def t_two_sided(t, df, use_kernel: bool = True) -> np.ndarray:
    """``2·P(T_df > |t|)`` (= ``2·scipy.stats.t.sf(|t|, df)``); NaN where ``t`` is NaN or ``df ≤ 0``."""
    if _kernel is None or not use_kernel:
        from scipy import special

        t, df = np.asarray(t, dtype=np.float64), np.asarray(df, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return np.where(df > 0, 2.0 * special.stdtr(np.where(df > 0, df, 1.0), -np.abs(t)), np.nan)
    (t, df), out, shape = _out(t, df)
    _kernel.t_two_sided(t, df, out)
    return out.reshape(shape)


def chi2_sf(x, d: int, use_kernel: bool = True) -> np.ndarray:
    """``P(χ²_d > x)`` for an integer ``d ≥ 1`` (1 where ``x ≤ 0``, as ``scipy.stats.chi2.sf``)."""
    d = _whole(d, "d")
    if _kernel is None or not use_kernel:
        from scipy import special

        x = np.asarray(x, dtype=np.float64)
        return np.where(x < 0, 1.0, special.chdtrc(d, x))
    (x,), out, shape = _out(x)
    _kernel.chi2_sf(x, d, out)
    return out.reshape(shape)


def f_sf(f, d1: int, d2, use_kernel: bool = True) -> np.ndarray:
    """``P(F_{d1,d2} > f)`` for an integer ``d1 ≥ 1`` (1 where ``f ≤ 0``; NaN where ``d2 ≤ 0``)."""
    d1 = _whole(d1, "d1")
    if _kernel is None or not use_kernel:
        from scipy import special

        f, d2 = np.asarray(f, dtype=np.float64), np.asarray(d2, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            p = np.where(f < 0, 1.0, special.fdtrc(d1, np.where(d2 > 0, d2, 1.0), f))
        return np.where(d2 > 0, p, np.nan)
    (f, d2), out, shape = _out(f, d2)
    _kernel.f_sf(f, d1, d2, out)
    return out.reshape(shape)


def _whole(value, name: str) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a whole number ≥ 1, got {value}")
    return int(value)
