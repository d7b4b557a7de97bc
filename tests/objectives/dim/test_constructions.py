"""L, CL, CS and S against a slow loop over batch entries and locations written from paper 001's section 2.3."""

import math

import pytest
import torch

from alignome.models.dim.multimodal import ModalityOutput
from alignome.objectives.dim import DIMObjective, infonce_bound, parse_objective, tanh_clip
from alignome.objectives.dim.critic import separable_scores
from alignome.objectives.dim.zoo import _pairs

B, L, D = 4, 3, 5
LAM, C = 4e-2, 20.0


def _slow_bound(anchor, candidate):
    """−mean over anchors (m, l) of log[exp f⁺ / Σ_k exp f(m, k)] (+ λ·mean f²), one scalar at a time.

    ``anchor(m, l)`` and ``candidate(k, l)`` return d-vectors, ``f = u·v / √d``; the positive is
    k = m, negatives k ≠ m.
    """
    losses, squares = [], []
    for m in range(B):
        for l in range(L):
            raw = [float(anchor(m, l) @ candidate(k, l)) / math.sqrt(D) for k in range(B)]
            squares += raw
            clipped = [C * math.tanh(s / C) for s in raw]
            negatives_and_positive = sum(math.exp(s) for s in clipped)
            losses.append(-(clipped[m] - math.log(negatives_and_positive)))
    return sum(losses) / len(losses) + LAM * sum(s * s for s in squares) / len(squares)


@pytest.fixture
def outputs():
    g = torch.Generator().manual_seed(3)
    make = lambda: ModalityOutput(latent=torch.randn(B, D, generator=g, dtype=torch.float64) * 2,  # noqa: E731
                                  locations=torch.randn(B, L, D, generator=g, dtype=torch.float64) * 2)
    return make(), make()


def _expected(component, outs):
    loc = lambda i: lambda m, l: outs[i].locations[m, l]  # φ_i(c^i_{l,m})  # noqa: E731
    lat = lambda i: lambda m, l: outs[i].latent[m]  # ψ_i(z^i_m), the same at every l  # noqa: E731
    if component == "L":
        return sum(_slow_bound(loc(i), lat(i)) for i in (0, 1))
    if component == "CL":
        return sum(_slow_bound(loc(i), lat(1 - i)) for i in (0, 1))
    if component == "CS":
        return sum(_slow_bound(loc(i), loc(1 - i)) for i in (0, 1))
    # S: latents have one location; the slow loop visits it L times, which leaves the mean unchanged
    return sum(_slow_bound(lat(i), lat(1 - i)) for i in (0, 1))


@pytest.mark.parametrize("component", ["L", "CL", "CS", "S"])
def test_construction_matches_the_slow_loop(component, outputs):
    got = sum(infonce_bound(u, v, LAM, C).total for u, v in _pairs(*outputs, component))
    assert float(got) == pytest.approx(_expected(component, outputs), rel=1e-10)


def test_positives_on_the_diagonal_score_better_than_shuffled():
    torch.manual_seed(0)
    z = torch.randn(8, 1, 6)
    matched = infonce_bound(z, z * 3).loss
    shuffled = infonce_bound(z, z[torch.randperm(8)] * 3).loss
    assert matched < shuffled
    assert 0 <= float(matched) <= math.log(8) < float(shuffled) + 5


def test_tanh_clip_formula_and_bound():
    s = torch.tensor([-500.0, -3.0, 0.0, 0.5, 40.0])
    assert torch.allclose(tanh_clip(s, 20.0), 20.0 * torch.tanh(s / 20.0))
    assert tanh_clip(s, 20.0).abs().max() <= 20.0
    assert tanh_clip(torch.tensor(0.01), 20.0) == pytest.approx(0.01, rel=1e-6)


def test_penalty_is_lambda_times_mean_squared_scaled_score():
    u, v = torch.full((2, 1, 4), 15.0), torch.ones(2, 1, 4)  # every score 4·15 / √4 = 30: above the clip
    bound = infonce_bound(u, v, penalty=0.04, clip=20.0)
    assert float(bound.penalty) == pytest.approx(0.04 * 900)
    assert float(bound.loss) == pytest.approx(math.log(2))  # equal clipped scores: chance


def test_scores_of_unit_variance_embeddings_have_unit_variance_whatever_the_dimension():
    g = torch.Generator().manual_seed(1)
    for d in (4, 64, 1024):
        u, v = torch.randn(64, 1, d, generator=g), torch.randn(64, 1, d, generator=g)
        assert float(separable_scores(u, v).std()) == pytest.approx(1.0, abs=0.1)


def test_names_combine_components():
    assert parse_objective("L-CL") == ("L", "CL")
    assert parse_objective("DCCAE") == ("AE", "CCA")
    assert parse_objective("S-AE") == ("S", "AE")
    assert DIMObjective("MMVAE").needs.variational
    with pytest.raises(ValueError, match="unknown objective component 'XX'"):
        parse_objective("L-XX")
