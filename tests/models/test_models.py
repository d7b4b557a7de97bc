"""Tests of the MLP, the SNP/volume encoder-decoder and the gated fusion network."""

from __future__ import annotations

import math

import pytest
import torch

from alignome.models import MLP, GatedFusionNet, SnpVolumeModel

# ------------------------------------------------------------------ independent forwards
# Written from the documented formulas with plain tensor arithmetic (no nn.functional), reading the
# weights of the module under test: equal outputs mean the module computes what its docstring says.

EPS = 1e-5  # LayerNorm / BatchNorm1d default


def _randomise(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every parameter (norm scales and shifts included) and BatchNorm running statistics drawn at random."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return module.eval()


def _hand_mlp(mlp: MLP, x: torch.Tensor, norm: str = "layer", activation: str = "gelu") -> torch.Tensor:
    """Linear → norm → activation per hidden block, then a linear projection (eval mode: no dropout)."""
    linears = [m for m in mlp.modules() if isinstance(m, torch.nn.Linear)]
    norms = [m for m in mlp.modules() if isinstance(m, (torch.nn.LayerNorm, torch.nn.BatchNorm1d))]
    h = x.double()
    for i, lin in enumerate(linears):
        h = h @ lin.weight.double().T + lin.bias.double()
        if i == len(linears) - 1:
            return h
        if norm == "layer":
            mu, var = h.mean(1, keepdim=True), ((h - h.mean(1, keepdim=True)) ** 2).mean(1, keepdim=True)
            h = (h - mu) / torch.sqrt(var + EPS) * norms[i].weight.double() + norms[i].bias.double()
        elif norm == "batch":
            bn = norms[i]
            h = (h - bn.running_mean.double()) / torch.sqrt(bn.running_var.double() + EPS) * bn.weight.double() + bn.bias.double()
        if activation == "gelu":
            h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2.0)))
        else:
            h = h * (h > 0)
    raise AssertionError("an MLP ends with a linear layer")


def _softmax(a: torch.Tensor) -> torch.Tensor:
    e = torch.exp(a - a.max(dim=1, keepdim=True).values)
    return e / e.sum(dim=1, keepdim=True)


def _close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    torch.testing.assert_close(actual.double(), expected.double(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("norm", ["layer", "batch", "none"])
@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_mlp_forward_equals_the_block_formula(norm: str, activation: str) -> None:
    mlp = _randomise(MLP(5, [8, 6], 3, dropout=0.3, norm=norm, activation=activation), seed=1)
    x = torch.randn(7, 5, generator=torch.Generator().manual_seed(2))
    _close(mlp(x), _hand_mlp(mlp, x, norm, activation))
    assert [m.out_features for m in mlp.modules() if isinstance(m, torch.nn.Linear)] == [8, 6, 3]


def test_mlp_shapes_and_norms() -> None:
    x = torch.randn(7, 5)
    for norm in ("layer", "batch", "none"):
        for act in ("gelu", "relu"):
            assert MLP(5, [8, 4], 3, 0.1, norm=norm, activation=act)(x).shape == (7, 3)
    assert isinstance(MLP(5, [], 2).net[0], torch.nn.Linear)
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in MLP(5, [8], 3, norm="batch").modules())
    with pytest.raises(ValueError):
        MLP(5, [8], 3, norm="group")  # type: ignore[arg-type]


def test_snp_volume_forward_equals_encoders_and_mirrored_decoders_by_hand() -> None:
    model = _randomise(SnpVolumeModel(n_snps=20, n_regions=6, embedding_dim=4, hidden=[16, 8], dropout=0.2), seed=3)
    g = torch.Generator().manual_seed(4)
    snps, age, vols = torch.randn(3, 20, generator=g), torch.randn(3, generator=g), torch.randn(3, 6, generator=g)
    out = model(snps, age, vols)
    assert set(out) == {"z_snp", "z_mri", "recon_snp", "recon_mri"}
    # the genetic encoder reads the SNPs with the age appended as one more column
    z_snp = _hand_mlp(model.snp_encoder, torch.cat([snps, age[:, None]], dim=1))
    z_mri = _hand_mlp(model.mri_encoder, vols)
    _close(out["z_snp"], z_snp)
    _close(out["z_mri"], z_mri)
    # each decoder reconstructs its own modality from its own latent, through the hidden widths reversed
    _close(out["recon_snp"], _hand_mlp(model.snp_decoder, z_snp))
    _close(out["recon_mri"], _hand_mlp(model.mri_decoder, z_mri))
    assert [m.out_features for m in model.snp_decoder.modules() if isinstance(m, torch.nn.Linear)] == [8, 16, 20]
    assert [m.out_features for m in model.mri_decoder.modules() if isinstance(m, torch.nn.Linear)] == [8, 16, 6]


def test_age_conditioning_changes_only_conditioned_model() -> None:
    torch.manual_seed(0)
    snps, vols = torch.randn(5, 20), torch.randn(5, 6)
    age1, age2 = torch.zeros(5), torch.full((5,), 2.0)
    cond = SnpVolumeModel(20, 6, 4, [16], 0.0, age_conditioning=True).eval()
    z1, v1 = cond.encode(snps, age1, vols)
    z2, v2 = cond.encode(snps, age2, vols)
    assert not torch.allclose(z1, z2)
    assert torch.equal(v1, v2)
    with pytest.raises(ValueError):
        cond.encode_snp(snps, None)
    plain = SnpVolumeModel(20, 6, 4, [16], 0.0, age_conditioning=False).eval()
    assert plain.snp_encoder.in_dim == 20 and cond.snp_encoder.in_dim == 21
    assert torch.equal(plain.encode_snp(snps, age1), plain.encode_snp(snps, age2))
    assert torch.equal(plain.encode_snp(snps, age1), plain.encode_snp(snps, None))


def _fusion(modalities: tuple[str, ...] = ("snp", "mri")) -> GatedFusionNet:
    torch.manual_seed(0)
    return GatedFusionNet(embedding_dim=4, n_demographics=2, n_classes=3, hidden=8, dropout=0.0, modalities=modalities).eval()


def test_gate_weights_sum_to_one_and_vary() -> None:
    net = _fusion()
    g = torch.Generator().manual_seed(1)
    out = net(torch.randn(10, 4, generator=g), torch.randn(10, 4, generator=g), torch.randn(10, 2, generator=g))
    assert out["logits"].shape == (10, 3)
    assert out["mmse"].shape == (10,)
    assert ((out["mmse"] > 0) & (out["mmse"] < 1)).all()
    assert out["alpha"].shape == (10, 2)
    assert torch.allclose(out["alpha"].sum(1), torch.ones(10))
    assert (out["alpha"] > 0).all()
    assert out["alpha"][:, 0].std() > 0  # the gate depends on the input


def _hand_fusion(net: GatedFusionNet, zs, zv, d, has_snp, has_mri) -> dict[str, torch.Tensor]:
    """The docstring's formulas: softmax gate over the present modalities, weighted sum, two heads."""
    zs = zs.double() * has_snp[:, None]
    zv = zv.double() * has_mri[:, None]
    gate = torch.cat([zs, zv], dim=1) @ net.gate.weight.double().T + net.gate.bias.double()
    present = torch.stack([has_snp, has_mri], dim=1)
    alpha = _softmax(torch.where(present, gate, torch.full_like(gate, -1e300))) * present.any(1, keepdim=True)
    fused = alpha[:, :1] * zs + alpha[:, 1:] * zv
    h = torch.cat([fused, d.double()], dim=1)
    mmse = 1 / (1 + torch.exp(-_hand_mlp(net.mmse_head, h)[:, 0]))
    return {"alpha": alpha, "z_fused": fused, "logits": _hand_mlp(net.class_head, h), "mmse": mmse}


def test_fusion_forward_equals_the_gate_formula_by_hand() -> None:
    net = _randomise(GatedFusionNet(embedding_dim=4, n_demographics=2, n_classes=3, hidden=[8, 5], dropout=0.3), seed=5)
    g = torch.Generator().manual_seed(6)
    zs, zv, d = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g), torch.randn(8, 2, generator=g)
    has_snp = torch.tensor([True, True, False, True, True, False, True, True])
    has_mri = torch.tensor([True, False, True, True, False, False, True, True])
    for masks in ((None, None), (has_snp, has_mri)):
        out = net(zs, zv, d, *masks)
        s, m = (torch.ones(8, dtype=torch.bool), torch.ones(8, dtype=torch.bool)) if masks[0] is None else masks
        expected = _hand_fusion(net, zs, zv, d, s, m)
        for key in ("alpha", "z_fused", "logits", "mmse"):
            _close(out[key], expected[key])
    # with both modalities present, α is exactly the softmax of the gate layer on [z_snp, z_mri]
    full = net(zs, zv, d)["alpha"]
    _close(full, torch.softmax(net.gate(torch.cat([zs, zv], dim=1)), dim=1))
    # the network treats rows independently: permuting the batch permutes every output
    perm = torch.randperm(8, generator=g)
    out, shuffled = net(zs, zv, d, has_snp, has_mri), net(zs[perm], zv[perm], d[perm], has_snp[perm], has_mri[perm])
    for key in ("alpha", "z_fused", "logits", "mmse"):
        _close(shuffled[key], out[key][perm])


def test_missing_modality_gets_zero_weight_and_is_ignored() -> None:
    net = _fusion()
    g = torch.Generator().manual_seed(2)
    zs, zv, d = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g), torch.randn(6, 2, generator=g)
    has_snp = torch.tensor([True, False, True, False, True, True])
    has_mri = torch.tensor([True, True, False, True, False, True])
    out = net(zs, zv, d, has_snp, has_mri)
    alpha = out["alpha"]
    assert torch.all(alpha[~has_snp, 0] == 0.0) and torch.all(alpha[~has_snp, 1] == 1.0)
    assert torch.all(alpha[~has_mri, 1] == 0.0) and torch.all(alpha[~has_mri, 0] == 1.0)
    garbage_s = torch.where(has_snp[:, None], zs, torch.full_like(zs, float("nan")))
    garbage_v = torch.where(has_mri[:, None], zv, torch.full_like(zv, 1e6))
    out2 = net(garbage_s, garbage_v, d, has_snp, has_mri)
    for key in ("logits", "mmse", "alpha"):
        assert torch.equal(out[key], out2[key]), key
    # a row with no usable modality is predicted from demographics alone: both gates 0, latents ignored
    none = torch.zeros(6, dtype=torch.bool)
    out3 = net(zs, zv, d, none, none)
    out4 = net(zs * 1e3, -zv, d, none, none)
    assert torch.all(out3["alpha"] == 0.0) and torch.all(out3["z_fused"] == 0.0)
    assert torch.equal(out3["logits"], out4["logits"])
    assert not torch.equal(out3["logits"], net(zs, zv, -d, none, none)["logits"])


@pytest.mark.parametrize(("modality", "col"), [("mri", 1), ("snp", 0)])
def test_forced_single_modality(modality: str, col: int) -> None:
    net = _fusion((modality,))
    g = torch.Generator().manual_seed(3)
    zs, zv, d = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g), torch.randn(5, 2, generator=g)
    out = net(zs, zv, d)
    assert torch.all(out["alpha"][:, col] == 1.0)
    assert torch.all(out["alpha"][:, 1 - col] == 0.0)
    other = torch.randn(5, 4, generator=g) * 100
    out2 = net(other, zv, d) if modality == "mri" else net(zs, other, d)
    assert torch.equal(out["logits"], out2["logits"])
    with pytest.raises(ValueError):
        GatedFusionNet(4, 2, 3, modalities=("pet",))


def test_fusion_without_demographics() -> None:
    torch.manual_seed(0)
    net = GatedFusionNet(4, 0, 2, hidden=[8, 8]).eval()
    assert net(torch.randn(3, 4), torch.randn(3, 4))["logits"].shape == (3, 2)
