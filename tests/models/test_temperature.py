"""Paper 003 eq. 2 with a learnable temperature: value and dτ against a slow double loop."""

from __future__ import annotations


import pytest
import torch

from alignome.models.temperature import Temperature
from alignome.objectives import contrastive_loss


def _eq2_slow(zg: torch.Tensor, zp: torch.Tensor, scale: torch.Tensor, form: str) -> torch.Tensor:
    """½(L_g→p + L_g←p) / |B| with eq. 2's sums written out (k ≠ j for "decoupled")."""
    zg = zg / zg.norm(dim=1, keepdim=True)
    zp = zp / zp.norm(dim=1, keepdim=True)
    n = zg.shape[0]
    total = zg.new_zeros(())
    for a, b in ((zg, zp), (zp, zg)):
        for j in range(n):
            denom = sum(torch.exp(a[j] @ b[k] * scale) for k in range(n) if form == "standard" or k != j)
            total = total - torch.log(torch.exp(a[j] @ b[j] * scale) / denom)
    return 0.5 * total / n


@pytest.mark.parametrize("form", ["decoupled", "standard"])
def test_loss_and_temperature_gradient_match_eq2_loop(form: str) -> None:
    gen = torch.Generator().manual_seed(3)
    zg, zp = torch.randn(6, 4, generator=gen, dtype=torch.float64), torch.randn(6, 4, generator=gen, dtype=torch.float64)
    temp = Temperature(0.3).double()
    fast = contrastive_loss(zg, zp, logit_scale=temp(), form=form)["loss"]
    (g_fast,) = torch.autograd.grad(fast, temp.log_scale)

    log_scale = temp.log_scale.detach().clone().requires_grad_(True)
    slow = _eq2_slow(zg, zp, log_scale.exp(), form)
    (g_slow,) = torch.autograd.grad(slow, log_scale)
    assert float(fast.detach()) == pytest.approx(float(slow.detach()), rel=1e-10)
    assert float(g_fast) == pytest.approx(float(g_slow), rel=1e-8)

    h = 1e-6  # and against finite differences of the loop itself
    with torch.no_grad():
        fd = (_eq2_slow(zg, zp, (log_scale + h).exp(), form) - _eq2_slow(zg, zp, (log_scale - h).exp(), form)) / (2 * h)
    assert float(g_fast) == pytest.approx(float(fd), rel=1e-5)


def test_forms_differ_by_the_positive_in_the_denominator() -> None:
    gen = torch.Generator().manual_seed(0)
    zg, zp = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    scale = Temperature(0.5, learnable=False)()
    dec = contrastive_loss(zg, zp, logit_scale=scale, form="decoupled")["loss"]
    std = contrastive_loss(zg, zp, logit_scale=scale, form="standard")["loss"]
    assert float(std) > float(dec)  # one more positive term in each denominator


def test_learnable_scale_is_clamped_and_fixed_one_has_no_gradient() -> None:
    temp = Temperature(0.07)
    with torch.no_grad():
        temp.log_scale.fill_(10.0)
    assert float(temp().detach()) == pytest.approx(100.0)
    assert temp.value == pytest.approx(0.01)
    fixed = Temperature(0.1, learnable=False)
    assert list(fixed.parameters()) == [] and float(fixed()) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        Temperature(0.0)
