"""Frozen backbone from a local checkpoint + gated attention pooling + MLP head."""

from __future__ import annotations

import pytest
import torch

from alignome.errors import DataError
from alignome.models.attention_pool import FrozenBackboneEncoder, GatedAttentionPool, load_backbone
from alignome.models.cnn2d import CNN2DEncoder


def test_backbone_loads_from_a_saved_checkpoint_and_stays_frozen(tmp_path) -> None:
    torch.manual_seed(0)
    saved = CNN2DEncoder((8, 16))
    torch.save(saved.state_dict(), tmp_path / "backbone.pt")
    torch.manual_seed(1)
    backbone = load_backbone(CNN2DEncoder((8, 16)), tmp_path / "backbone.pt")
    for a, b in zip(saved.state_dict().values(), backbone.state_dict().values()):
        assert torch.equal(a, b)
    enc = FrozenBackboneEncoder(backbone, out_dim=6)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    opt = torch.optim.SGD([p for p in enc.parameters() if p.requires_grad], lr=0.1)
    enc.train()
    enc(torch.rand(5, 1, 16, 16)).pow(2).sum().backward()
    opt.step()
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())
    assert all(p.grad is None for p in backbone.parameters())
    with pytest.raises(DataError, match="does not fit"):
        load_backbone(CNN2DEncoder((8, 32)), tmp_path / "backbone.pt")
    with pytest.raises(DataError, match="not found"):
        load_backbone(CNN2DEncoder((8, 16)), tmp_path / "missing.pt")


def test_attention_pool_is_a_weighted_mean_of_the_tokens() -> None:
    pool = GatedAttentionPool(4, 8)
    tokens = torch.randn(3, 5, 4)
    w = pool.weights(tokens)
    torch.testing.assert_close(w.sum(1), torch.ones(3))
    torch.testing.assert_close(pool(tokens), torch.einsum("bk,bkc->bc", w, tokens))
    same = torch.randn(1, 1, 4).expand(2, 5, 4)  # identical tokens pool to themselves
    torch.testing.assert_close(pool(same), same[:, 0])


def test_an_embedder_on_a_checkpointed_backbone_trains_everything_but_the_backbone(tmp_path) -> None:
    import numpy as np

    from alignome.training.image_embedders import EmbedderSettings, fit_embedder

    torch.manual_seed(0)
    saved = CNN2DEncoder((8, 16))
    torch.save(saved.state_dict(), tmp_path / "backbone.pt")
    images = np.random.default_rng(0).random((64, 16, 16)).astype(np.float32)
    settings = EmbedderSettings(kind="supervised", widths=(8, 16), embedding_dim=4, epochs=2, batch_size=16,
                                warmup_epochs=0, backbone_checkpoint=str(tmp_path / "backbone.pt"))
    fit = fit_embedder(settings, images, np.arange(64), target=images.mean(axis=(1, 2)))
    backbone = fit.model.encoder.backbone
    assert all(torch.equal(a, b) for a, b in zip(saved.state_dict().values(), backbone.state_dict().values()))
    assert fit.curve[-1]["train_loss"] != fit.curve[0]["train_loss"]  # the head did learn
