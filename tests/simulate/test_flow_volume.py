"""Forced-expiration curves against the closed form of the two-compartment model; the rasteriser
against a curve whose picture is known."""

from __future__ import annotations

import numpy as np
import pytest

from alignome.simulate.curve_raster import rasterise_curves
from alignome.simulate.flow_volume import ExpirationParameters, expiration_curves


def params(w, fast, slow=2.5, rise=1e-4, fvc=4.0):
    n = len(w)
    return ExpirationParameters(fvc_l=np.full(n, fvc), fast_share=np.asarray(w, float),
                                tau_fast_s=np.asarray(fast, float), tau_slow_s=np.full(n, slow),
                                tau_rise_s=np.full(n, rise))


def test_fev1_fvc_matches_the_closed_form_and_falls_with_obstruction():
    w, fast, slow = np.array([0.9, 0.7, 0.5]), np.array([0.35, 0.45, 0.55]), 2.5
    curves = expiration_curves(params(w, fast, slow))
    emptied = lambda t: w * (1 - np.exp(-t / fast)) + (1 - w) * (1 - np.exp(-t / slow))  # noqa: E731
    np.testing.assert_allclose(curves.fev1_fvc, emptied(1.0) / emptied(6.0), rtol=2e-3)
    np.testing.assert_allclose(curves.fvc, 4.0, rtol=1e-6)
    assert np.all(np.diff(curves.fev1_fvc) < 0) and np.all(np.diff(curves.pef) < 0)
    # PEF of an instant rise is the flow at t = 0: FVC · (w/τ_fast + (1 − w)/τ_slow) / emptied(6)
    np.testing.assert_allclose(curves.pef, 4.0 * (w / fast + (1 - w) / slow) / emptied(6.0), rtol=5e-3)


def test_a_constant_flow_draws_a_horizontal_line_of_the_right_length():
    volume = np.linspace(0.0, 7.0 * 30 / 63, 400)[None, :]  # ends on column 30
    flow = np.full_like(volume, 14.0 * 42 / 63)  # row 21 (flow up, row 0 on top)
    image = rasterise_curves(volume, flow, size=64, volume_max=7.0, flow_max=14.0)[0].astype(float)
    lit = np.flatnonzero(image.max(axis=0) > 128)
    assert lit.min() == 0 and lit.max() == pytest.approx(30, abs=1)
    assert np.all(np.argmax(image[:, lit], axis=0) == 21)
    assert image[:, 40:].max() == 0
