"""The paper-001 pretraining loop: seeded, resumable to the same weights, class-balanced, crops that shift."""

import numpy as np
import torch

from alignome.objectives.dim import DIMObjective
from alignome.training.dim_pretrain import PretrainSettings, balanced_weights, crop_shift, embed, pretrain

SETTINGS = PretrainSettings(epochs=2, batch_size=4, latent_dim=8, base_width=2, crop_pad=2)


def _pairs(n=8, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, size, size, size)).astype(np.float32),
            rng.normal(size=(n, size, size, size)).astype(np.float32)), np.array([0, 1, -1, 0] * (n // 4))


def test_same_seed_same_weights_and_embeddings():
    torch.set_num_threads(1)
    volumes, labels = _pairs()
    objective = DIMObjective("L-S")
    whole = pretrain(volumes, labels, objective, SETTINGS, seed=3, progress=False)
    again = pretrain(volumes, labels, objective, SETTINGS, seed=3, progress=False)
    other = pretrain(volumes, labels, objective, SETTINGS, seed=4, progress=False)
    for name, w in whole.model.state_dict().items():
        assert torch.equal(w, again.model.state_dict()[name])
    x = volumes[0][:3]
    assert np.array_equal(embed(whole.model, 0, x), embed(again.model, 0, x))
    assert not np.allclose(embed(whole.model, 0, x), embed(other.model, 0, x))


def test_resume_after_an_interrupted_epoch_gives_the_uninterrupted_weights(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    volumes, labels = _pairs()
    objective = DIMObjective("S")
    whole = pretrain(volumes, labels, objective, SETTINGS, seed=1, progress=False)
    ckpt = tmp_path / "ckpt.pkl"
    calls = {"n": 0}
    real = objective.__call__

    class Stop(Exception):
        pass

    def interrupting(*args):
        calls["n"] += 1
        if calls["n"] > 2:  # two steps (one epoch of 8 pairs in batches of 4), then a crash
            raise Stop
        return real(*args)

    try:
        pretrain(volumes, labels, type("O", (), {"__call__": staticmethod(interrupting), "needs": objective.needs,
                                                 "name": "S"})(), SETTINGS, seed=1, checkpoint=ckpt, key="k",
                 progress=False)
    except Stop:
        pass
    resumed = pretrain(volumes, labels, objective, SETTINGS, seed=1, checkpoint=ckpt, key="k", progress=False)
    for name, w in whole.model.state_dict().items():
        assert torch.equal(w, resumed.model.state_dict()[name]), name
    assert list(resumed.curves["epoch"]) == [1, 2]


def test_balanced_weights_draw_each_class_equally():
    labels = np.array([0] * 30 + [1] * 5 + [-1] * 15)
    w = balanced_weights(labels)
    assert np.allclose([w[labels == c].sum() for c in (0, 1, -1)], 1.0)


def test_crop_shift_is_a_shift_of_the_edge_padded_volume():
    x = torch.arange(2 * 1 * 6**3, dtype=torch.float32).reshape(2, 1, 6, 6, 6)
    g = torch.Generator().manual_seed(0)
    out = crop_shift(x, 2, g)
    offsets = torch.randint(0, 5, (2, 3), generator=torch.Generator().manual_seed(0))
    for i, (a, b, c) in enumerate(offsets.tolist()):
        idx = [np.clip(np.arange(6) + o - 2, 0, 5) for o in (a, b, c)]
        expected = x[i, 0].numpy()[np.ix_(*idx)]
        assert np.array_equal(out[i, 0].numpy(), expected)
