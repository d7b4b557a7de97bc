"""Tests of the contrastive and reconstruction objectives."""

from __future__ import annotations

import math

import pytest
import torch

from alignome.objectives import PairedContrastiveReconstructionLoss, contrastive_loss, reconstruction_loss


def _cos(u: list[float], v: list[float]) -> float:
    dot = sum(a * b for a, b in zip(u, v))
    return dot / (math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))


def _slow(za: torch.Tensor, zb: torch.Tensor, tau: float, form: str) -> tuple[float, float, float]:
    """Paper 000's formula with python floats: (total, a->b, b->a)."""
    a = za.tolist()
    b = zb.tolist()
    n = len(a)

    def ell(anchor: list[float], others: list[list[float]], i: int) -> float:
        num = math.exp(_cos(anchor, others[i]) / tau)
        ks = range(n) if form == "standard" else [k for k in range(n) if k != i]
        den = sum(math.exp(_cos(anchor, others[k]) / tau) for k in ks)
        return -math.log(num / den)

    ab = [ell(a[i], b, i) for i in range(n)]
    ba = [ell(b[i], a, i) for i in range(n)]
    total = sum(x + y for x, y in zip(ab, ba)) / (2 * n)
    return total, sum(ab) / n, sum(ba) / n


@pytest.mark.parametrize("form", ["decoupled", "standard"])
@pytest.mark.parametrize(("n", "tau"), [(2, 0.5), (5, 0.1), (17, 0.07), (32, 1.0)])
def test_matches_direct_formula(form: str, n: int, tau: float) -> None:
    g = torch.Generator().manual_seed(n)
    za = torch.randn(n, 6, generator=g, dtype=torch.float64)
    zb = torch.randn(n, 6, generator=g, dtype=torch.float64) * 3.0
    out = contrastive_loss(za, zb, tau, form)
    total, ab, ba = _slow(za, zb, tau, form)
    assert out["loss"].item() == pytest.approx(total, abs=1e-6)
    assert out["a_to_b"].item() == pytest.approx(ab, abs=1e-6)
    assert out["b_to_a"].item() == pytest.approx(ba, abs=1e-6)


def test_default_form_is_decoupled_and_differs_from_standard() -> None:
    g = torch.Generator().manual_seed(0)
    za, zb = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g)
    dec = contrastive_loss(za, zb, 0.1)["loss"]
    assert torch.equal(dec, contrastive_loss(za, zb, 0.1, "decoupled")["loss"])
    std = contrastive_loss(za, zb, 0.1, "standard")["loss"]
    # standard adds the positive to the denominator, so it is strictly larger
    assert std.item() > dec.item() + 1e-3


def test_stable_at_tiny_temperature() -> None:
    g = torch.Generator().manual_seed(1)
    za, zb = torch.randn(16, 8, generator=g), torch.randn(16, 8, generator=g)
    for form in ("decoupled", "standard"):
        assert torch.isfinite(contrastive_loss(za, zb, 1e-4, form)["loss"])


@pytest.mark.parametrize("form", ["decoupled", "standard"])
def test_gradients_flow_to_both_inputs(form: str) -> None:
    g = torch.Generator().manual_seed(2)
    za = torch.randn(10, 5, generator=g, requires_grad=True)
    zb = torch.randn(10, 5, generator=g, requires_grad=True)
    contrastive_loss(za, zb, 0.2, form)["loss"].backward()
    for z in (za, zb):
        assert z.grad is not None
        assert torch.isfinite(z.grad).all()
        assert z.grad.abs().sum() > 0


@pytest.mark.parametrize("form", ["decoupled", "standard"])
def test_aligned_pairs_beat_shuffled(form: str) -> None:
    z = torch.eye(12) * 5.0  # well separated
    g = torch.Generator().manual_seed(3)
    noisy = z + 0.01 * torch.randn(12, 12, generator=g)
    aligned = contrastive_loss(z, noisy, 0.1, form)["loss"]
    shuffled = contrastive_loss(z, noisy[torch.roll(torch.arange(12), 1)], 0.1, form)["loss"]
    assert aligned.item() < shuffled.item() - 5.0


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        contrastive_loss(torch.randn(1, 3), torch.randn(1, 3), 0.1)
    with pytest.raises(ValueError):
        contrastive_loss(torch.randn(4, 3), torch.randn(4, 2), 0.1)
    with pytest.raises(ValueError):
        contrastive_loss(torch.randn(4, 3), torch.randn(4, 3), 0.0)
    with pytest.raises(ValueError):
        contrastive_loss(torch.randn(4, 3), torch.randn(4, 3), 0.1, "clip")  # type: ignore[arg-type]


def test_reconstruction_is_mse() -> None:
    pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    target = torch.tensor([[0.0, 2.0], [3.0, 6.0]])
    assert reconstruction_loss(pred, target).item() == pytest.approx((1 + 0 + 0 + 4) / 4)
    with pytest.raises(ValueError):
        reconstruction_loss(pred, target[:, :1])


def test_paired_loss_weights_and_zero_terms() -> None:
    g = torch.Generator().manual_seed(4)
    out = {k: torch.randn(6, 3, generator=g) for k in ("z_snp", "z_mri")}
    out["recon_snp"], out["recon_mri"] = torch.randn(6, 5, generator=g), torch.randn(6, 4, generator=g)
    snps, vols = torch.randn(6, 5, generator=g), torch.randn(6, 4, generator=g)
    cont = contrastive_loss(out["z_snp"], out["z_mri"], 0.1)["loss"]
    rec = reconstruction_loss(out["recon_snp"], snps) + reconstruction_loss(out["recon_mri"], vols)
    full = PairedContrastiveReconstructionLoss(0.1, "decoupled", 2.0, 0.5)(out, snps, vols)
    assert full["loss"].item() == pytest.approx(2.0 * cont.item() + 0.5 * rec.item(), rel=1e-6)
    only_rec = PairedContrastiveReconstructionLoss(0.1, "decoupled", 0.0, 1.0)(out, snps, vols)
    assert only_rec["contrastive"].item() == 0.0
    assert only_rec["loss"].item() == pytest.approx(rec.item(), rel=1e-6)
    only_cont = PairedContrastiveReconstructionLoss(0.1, "decoupled", 1.0, 0.0)(out, snps, vols)
    assert only_cont["reconstruction"].item() == 0.0
    with pytest.raises(ValueError):
        PairedContrastiveReconstructionLoss(0.1, "decoupled", 0.0, 0.0)


@pytest.mark.parametrize("form", ["decoupled", "standard"])
def test_leaving_same_subject_visits_out_changes_exactly_their_terms(form: str) -> None:
    """Rows 0, 1, 2 are visits of one subject, 3 and 4 of another, 5..7 single visits."""
    torch.manual_seed(0)
    za, zb = torch.randn(8, 5), torch.randn(8, 5)
    groups = torch.tensor([7, 7, 7, 3, 3, 10, 11, 12])
    kept = contrastive_loss(za, zb, 0.2, form)
    left_out = contrastive_loss(za, zb, 0.2, form, groups=groups)

    logits = (torch.nn.functional.normalize(za, dim=1) @ torch.nn.functional.normalize(zb, dim=1).T) / 0.2
    for direction, mat in (("a_to_b_each", logits), ("b_to_a_each", logits.T)):
        for i in range(8):
            others = [k for k in range(8) if k != i and groups[k] != groups[i]]
            denominator = others + ([i] if form == "standard" else [])
            expected = torch.logsumexp(mat[i, denominator], dim=0) - mat[i, i]
            assert left_out[direction][i] == pytest.approx(float(expected), abs=1e-5)
        single = slice(5, 8)
        assert torch.equal(kept[direction][single], left_out[direction][single])
        assert (left_out[direction][:5] < kept[direction][:5]).all()  # fewer negatives, smaller loss
    assert float(left_out["loss"]) == pytest.approx(0.5 * float(left_out["a_to_b_each"].mean() + left_out["b_to_a_each"].mean()))


def test_groups_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="groups"):
        contrastive_loss(torch.randn(4, 3), torch.randn(4, 3), 0.1, groups=torch.arange(3))
