"""Tests of the MLP, the SNP/volume encoder-decoder and the gated fusion network."""

from __future__ import annotations

import pytest
import torch

from alignome.models import MLP, GatedFusionNet, SnpVolumeModel


def test_mlp_shapes_and_norms() -> None:
    x = torch.randn(7, 5)
    for norm in ("layer", "batch", "none"):
        for act in ("gelu", "relu"):
            assert MLP(5, [8, 4], 3, 0.1, norm=norm, activation=act)(x).shape == (7, 3)
    assert isinstance(MLP(5, [], 2).net[0], torch.nn.Linear)
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in MLP(5, [8], 3, norm="batch").modules())
    with pytest.raises(ValueError):
        MLP(5, [8], 3, norm="group")  # type: ignore[arg-type]


def test_snp_volume_forward_shapes() -> None:
    torch.manual_seed(0)
    model = SnpVolumeModel(n_snps=20, n_regions=6, embedding_dim=4, hidden=[16], dropout=0.0)
    out = model(torch.randn(3, 20), torch.randn(3), torch.randn(3, 6))
    assert set(out) == {"z_snp", "z_mri", "recon_snp", "recon_mri"}
    assert out["z_snp"].shape == out["z_mri"].shape == (3, 4)
    assert out["recon_snp"].shape == (3, 20)
    assert out["recon_mri"].shape == (3, 6)


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
