"""Tests of the 3D CNN encoder, the contrastive 3D model and tensor temperatures in the loss."""

from __future__ import annotations

import math

import pytest
import torch

from alignome.models.cnn3d import CNN3DEncoder, ContrastiveEncoder3D
from alignome.models.temperature import MAX_LOGIT_SCALE
from alignome.objectives import contrastive_loss


def _volumes(n: int, size: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, size, size, size, generator=g)


def _smooth(n: int, size: int = 24, seed: int = 0) -> torch.Tensor:
    """Distinct smooth float64 volumes (i.i.d. noise pools to nearly the same features)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(n, 1, 4, 4, 4, generator=g, dtype=torch.float64)
    return torch.nn.functional.interpolate(coarse, size=(size,) * 3, mode="trilinear")


def test_encoder_shapes_and_four_strided_blocks() -> None:
    enc = CNN3DEncoder(widths=(4, 6, 8, 10))
    assert enc.out_dim == 10
    assert enc(_volumes(3)).shape == (3, 10)
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv3d)]
    assert len(convs) == 4
    assert all(c.kernel_size == (3, 3, 3) and c.stride == (2, 2, 2) for c in convs)
    # four stride-2 blocks: 32 -> 16 -> 8 -> 4 -> 2 before pooling
    assert enc.blocks(_volumes(1, 32)).shape == (1, 10, 2, 2, 2)
    # non-cubic input and a stride-4 stem
    x = torch.rand(2, 1, 16, 20, 24)
    assert enc(x).shape == (2, 10)
    assert CNN3DEncoder((4, 4, 4, 4), stem_stride=4).blocks(_volumes(1, 64)).shape == (1, 4, 2, 2, 2)


def test_channels_last_equals_contiguous() -> None:
    x = _volumes(3, 24)
    torch.manual_seed(0)
    fast = ContrastiveEncoder3D(widths=(4, 8, 8, 16), channels_last=True)
    plain = ContrastiveEncoder3D(widths=(4, 8, 8, 16), channels_last=False)
    plain.load_state_dict(fast.state_dict())
    assert all(b[0].weight.is_contiguous(memory_format=torch.channels_last_3d) for b in fast.encoder.blocks)
    assert not plain.encoder.blocks[1][0].weight.is_contiguous(memory_format=torch.channels_last_3d)
    a, b = fast(x), plain(x)
    assert torch.allclose(a["features"], b["features"], atol=1e-5)
    assert torch.allclose(a["embedding"], b["embedding"], atol=1e-5)


def test_encoder_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        CNN3DEncoder(widths=(8, 16, 32))
    with pytest.raises(ValueError):
        CNN3DEncoder(norm="layer")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CNN3DEncoder()(torch.rand(2, 16, 16, 16))


def _hand_group_norm(h: torch.Tensor, gn: torch.nn.GroupNorm) -> torch.Tensor:
    b, c = h.shape[:2]
    grouped = h.reshape(b, gn.num_groups, -1)
    mu = grouped.mean(-1, keepdim=True)
    var = ((grouped - mu) ** 2).mean(-1, keepdim=True)
    normed = ((grouped - mu) / torch.sqrt(var + gn.eps)).reshape(h.shape)
    shape = (1, c, 1, 1, 1)
    return normed * gn.weight.double().reshape(shape) + gn.bias.double().reshape(shape)


def _hand_contrastive(model: ContrastiveEncoder3D, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Conv (stride 2, pad 1, no bias) → GroupNorm → ReLU ×4, global mean, Linear → ReLU → Linear, unit norm."""
    h = x.double()
    for block in model.encoder.blocks:
        conv, gn = block[0], block[1]
        h = torch.nn.functional.conv3d(h, conv.weight.double(), stride=conv.stride, padding=conv.padding)
        h = _hand_group_norm(h, gn).clamp(min=0)
    features = h.mean(dim=(2, 3, 4))
    first, last = model.projection[0], model.projection[2]
    hidden = (features @ first.weight.double().T + first.bias.double()).clamp(min=0)
    projected = hidden @ last.weight.double().T + last.bias.double()
    return features, projected / projected.pow(2).sum(1, keepdim=True).sqrt()


@pytest.mark.parametrize("norm", ["group", "instance"])
def test_contrastive_forward_equals_a_hand_built_forward(norm: str) -> None:
    torch.manual_seed(0)
    model = ContrastiveEncoder3D(widths=(4, 8, 8, 16), embedding_dim=6, norm=norm).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # norm scales and shifts away from their 1/0 initialisation
        for block in model.encoder.blocks:
            block[1].weight.copy_(torch.rand(block[1].weight.shape, generator=g) + 0.5)
            block[1].bias.copy_(torch.randn(block[1].bias.shape, generator=g) * 0.1)
    assert all(b[1].num_groups == (w if norm == "instance" else min(8, w)) for b, w in zip(model.encoder.blocks, (4, 8, 8, 16)))
    x = _smooth(3, 20).float()
    out = model(x)
    features, embedding = _hand_contrastive(model, x)
    torch.testing.assert_close(out["features"].double(), features, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out["embedding"].double(), embedding, rtol=1e-4, atol=1e-5)
    # a batch is encoded row by row: permuting the volumes permutes the embeddings
    perm = torch.tensor([2, 0, 1])
    torch.testing.assert_close(model(x[perm])["embedding"], out["embedding"][perm], rtol=1e-4, atol=1e-5)


def test_contrastive_model_outputs() -> None:
    model = ContrastiveEncoder3D(widths=(4, 8, 8, 16), embedding_dim=128)
    out = model(_volumes(5))
    assert set(out) == {"features", "embedding", "logit_scale"}
    assert out["features"].shape == (5, 16)
    assert out["embedding"].shape == (5, 128)
    assert torch.allclose(out["embedding"].norm(dim=1), torch.ones(5), atol=1e-5)
    assert out["logit_scale"].ndim == 0
    assert out["logit_scale"].item() == pytest.approx(1 / 0.07, rel=1e-5)
    assert model.temperature == pytest.approx(0.07, rel=1e-5)


def test_group_norm_embeddings_do_not_depend_on_the_batch() -> None:
    torch.manual_seed(0)
    model = ContrastiveEncoder3D(widths=(4, 8, 8, 16)).train()
    x = _volumes(4)
    together = model(x)["embedding"]
    alone = torch.cat([model(x[i : i + 1])["embedding"] for i in range(4)])
    assert torch.allclose(together, alone, atol=1e-5)
    # BatchNorm in training mode mixes the samples of a batch (why it is not the default)
    torch.manual_seed(0)
    bn = ContrastiveEncoder3D(widths=(4, 8, 8, 16), norm="batch").train()
    together = bn(x)["embedding"]
    alone = torch.cat([bn(x[i : i + 2])["embedding"] for i in (0, 2)])
    assert not torch.allclose(together, alone, atol=1e-3)


def test_fixed_temperature_is_a_buffer_without_gradient() -> None:
    model = ContrastiveEncoder3D(widths=(4, 4, 8, 8), temperature=0.1)
    names = {name for name, _ in model.named_parameters()}
    assert "logit_scale" not in names
    assert "logit_scale" in dict(model.named_buffers())
    assert "logit_scale" in model.state_dict()
    assert model.logit_scale.item() == pytest.approx(math.log(10.0))
    out = model(_volumes(4))
    assert not out["logit_scale"].requires_grad
    z = out["embedding"]
    contrastive_loss(z[:2], z[2:], form="standard", logit_scale=out["logit_scale"])["loss"].backward()
    assert model.logit_scale.grad is None
    # a fixed temperature is not clamped: tau = 0.005 gives 200
    assert ContrastiveEncoder3D((4, 4, 4, 4), temperature=0.005)(_volumes(2))["logit_scale"].item() == pytest.approx(200.0, rel=1e-4)


def test_learnable_temperature_gets_gradient_and_is_clamped() -> None:
    torch.manual_seed(0)
    model = ContrastiveEncoder3D(widths=(4, 4, 8, 8), learnable_temperature=True).double()
    assert "logit_scale" in dict(model.named_parameters())
    assert model.logit_scale.item() == pytest.approx(math.log(1 / 0.07), rel=1e-6)
    x = _smooth(6)
    out = model(x)
    z = out["embedding"]
    contrastive_loss(z[:3], z[3:], form="standard", logit_scale=out["logit_scale"])["loss"].backward()
    grad = model.logit_scale.grad
    assert grad is not None and torch.isfinite(grad) and grad.abs().item() > 0
    # finite-difference check of the temperature gradient
    with torch.no_grad():
        emb = model(x)["embedding"]

    def loss_at(log_scale: float) -> float:
        return contrastive_loss(emb[:3], emb[3:], form="standard", logit_scale=torch.tensor(math.exp(log_scale), dtype=torch.float64))["loss"].item()

    s0, eps = model.logit_scale.item(), 1e-4
    numeric = (loss_at(s0 + eps) - loss_at(s0 - eps)) / (2 * eps)
    assert abs(numeric) > 1e-3
    assert grad.item() == pytest.approx(numeric, rel=1e-4)
    # above ln(100) the forward value is clamped to 100 and the gradient vanishes
    model.zero_grad()
    with torch.no_grad():
        model.logit_scale.fill_(math.log(500.0))
    out = model(x)
    assert out["logit_scale"].item() == pytest.approx(MAX_LOGIT_SCALE, rel=1e-5)
    z = out["embedding"]
    contrastive_loss(z[:3], z[3:], form="standard", logit_scale=out["logit_scale"])["loss"].backward()
    assert model.logit_scale.grad is not None and model.logit_scale.grad.item() == 0.0


def test_loss_accepts_tensor_temperature_and_logit_scale() -> None:
    g = torch.Generator().manual_seed(5)
    za, zb = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    for form in ("decoupled", "standard"):
        ref = contrastive_loss(za, zb, 0.2, form)["loss"]
        tau = torch.tensor(0.2, requires_grad=True)
        as_tensor = contrastive_loss(za, zb, tau, form)["loss"]
        scale = torch.tensor(5.0, requires_grad=True)
        as_scale = contrastive_loss(za, zb, form=form, logit_scale=scale)["loss"]
        assert as_tensor.item() == pytest.approx(ref.item(), rel=1e-6)
        assert as_scale.item() == pytest.approx(ref.item(), rel=1e-6)
        (as_tensor + as_scale).backward()
        assert tau.grad is not None and tau.grad.abs().item() > 0
        assert scale.grad is not None and scale.grad.abs().item() > 0
        # d/dτ and d/ds are linked by s = 1/τ: dL/dτ = -dL/ds / τ²
        assert tau.grad.item() == pytest.approx(-scale.grad.item() / 0.2**2, rel=1e-4)
    with pytest.raises(ValueError):
        contrastive_loss(za, zb)  # neither
    with pytest.raises(ValueError):
        contrastive_loss(za, zb, 0.1, logit_scale=torch.tensor(10.0))  # both
    with pytest.raises(ValueError):
        contrastive_loss(za, zb, logit_scale=torch.tensor(-1.0))
    with pytest.raises(ValueError):
        contrastive_loss(za, zb, torch.tensor([0.1, 0.2]))
