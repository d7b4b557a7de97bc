"""Rician noise: the magnitude of complex Gaussian noise around a signal, with Rice's distribution."""

from __future__ import annotations

import numpy as np
from scipy import stats

from alignome.simulate.rician import rician_magnitude


def test_magnitude_follows_rice_distribution() -> None:
    signal, sd = np.full(200_000, 3.0), 1.5
    draws = rician_magnitude(signal, sd, np.random.default_rng(0))
    rice = stats.rice(b=3.0 / sd, scale=sd)
    assert abs(draws.mean() - rice.mean()) < 0.01
    assert abs(draws.std() - rice.std()) < 0.01
    assert stats.kstest(draws, rice.cdf).pvalue > 0.001


def test_real_part_drawn_before_imaginary_part() -> None:
    signal = np.array([[0.0, 1.0], [2.0, 5.0]])
    rng = np.random.default_rng(4)
    noise = rng.standard_normal((2, *signal.shape))
    expected = np.hypot(signal + 0.3 * noise[0], 0.3 * noise[1])
    np.testing.assert_allclose(rician_magnitude(signal, 0.3, np.random.default_rng(4)), expected, rtol=1e-12)
