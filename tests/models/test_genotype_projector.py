"""GEMCONT's genotype projector: the effect-size initialisation as documented."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alignome.models.genotype_projector import GenotypeProjector


def test_effect_init_puts_the_panel_effects_in_row_zero_and_centres() -> None:
    rng = np.random.default_rng(0)
    beta = rng.normal(size=30)
    counts = rng.binomial(2, 0.3, size=(50, 30)).astype(np.float32)
    proj = GenotypeProjector(30, 8, init="effects", effects=beta, center=counts.mean(0), other_scale=0.1)
    w = proj.linear.weight.detach().double().numpy()
    np.testing.assert_allclose(w[0], beta, rtol=1e-6)
    np.testing.assert_allclose(w[1:] @ beta, 0.0, atol=1e-4)  # the other rows are orthogonal to β
    np.testing.assert_allclose(np.linalg.norm(w[1:], axis=1), 0.1 * np.linalg.norm(beta), rtol=1e-5)
    gram = w[1:] @ w[1:].T
    np.testing.assert_allclose(gram, np.diag(np.diag(gram)), atol=1e-4)
    raw = proj.linear(torch.as_tensor(counts)).detach().numpy()
    np.testing.assert_allclose(raw.mean(0), 0.0, atol=1e-4)  # centred on these (training) counts
    np.testing.assert_allclose(raw[:, 0], (counts - counts.mean(0)) @ beta, rtol=1e-4, atol=1e-4)  # output 0 = the PRS
    np.testing.assert_allclose(proj(torch.as_tensor(counts)).norm(dim=1).detach().numpy(), 1.0, rtol=1e-6)


def test_more_outputs_than_variants_keeps_row_zero_and_orthogonality_to_it() -> None:
    beta = np.array([1.0, -2.0, 0.5])
    w = GenotypeProjector(3, 6, init="effects", effects=beta).linear.weight.detach().double().numpy()
    np.testing.assert_allclose(w[0], beta, rtol=1e-6)
    np.testing.assert_allclose(w[1:] @ beta, 0.0, atol=1e-5)


def test_random_init_ignores_effects_and_bad_inits_are_refused() -> None:
    beta = np.ones(10)
    a = GenotypeProjector(10, 4, init="random", effects=beta, seed=1).linear.weight
    b = GenotypeProjector(10, 4, init="random", seed=1).linear.weight
    assert torch.equal(a, b) and not torch.allclose(a[0], torch.ones(10))
    with pytest.raises(ValueError, match="effect sizes"):
        GenotypeProjector(10, 4, init="effects")
    with pytest.raises(ValueError, match="all zero"):
        GenotypeProjector(10, 4, init="effects", effects=np.zeros(10))
