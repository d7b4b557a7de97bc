"""Rician noise: the magnitude of a signal with independent Gaussian noise on its real and imaginary parts."""

from __future__ import annotations

import numpy as np


def rician_magnitude(signal: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    """``|signal + ε_re + i·ε_im|``, ``ε ~ N(0, sd²)``, as a magnitude MR image stores it.

    The real part's draws come first, then the imaginary part's, each of ``signal.shape``.
    """
    real = signal + sd * rng.standard_normal(signal.shape)
    imag = sd * rng.standard_normal(signal.shape)
    return np.sqrt(real**2 + imag**2)
