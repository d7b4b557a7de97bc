"""A latent trait with a stated share of genetic variance (paper 003, eq. 4)."""

from __future__ import annotations

import numpy as np


def standardise(x: np.ndarray) -> np.ndarray:
    """Zero mean, unit (population) standard deviation; a constant vector becomes zeros."""
    x = np.asarray(x, dtype=np.float64)
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def heritable_trait(genetic_score: np.ndarray, h_g: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``z = √h_g · std(genetic_score) + √(1 − h_g) · std(z_n)``, ``z_n ~ N(0, I)``.

    Both parts are standardised over the subjects, so the squared correlation of ``z`` with the
    genetic score is ``h_g`` up to the sampling correlation of the two parts (order 1/√n).

    Returns
    -------
    z, z_genetic
        The trait and its standardised genetic part.
    """
    z_genetic = standardise(genetic_score)
    z_noise = standardise(rng.normal(size=z_genetic.shape[0]))
    return np.sqrt(h_g) * z_genetic + np.sqrt(1.0 - h_g) * z_noise, z_genetic
