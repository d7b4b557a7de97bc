"""Batches read from the memory-mapped cache view equal those of the stacked array, one batch at a time."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alignome.imaging.augment import AugmentSettings
from alignome.imaging.cached_volumes import CachedVolumes
from alignome.training.contrastive3d import ContrastiveTrainSettings, fit_contrastive
from alignome.training.supervised3d import fit_supervised
from alignome.training.volume_batches import PairVolumes, embed_volumes, scan_loader
from tests.training.test_volume_training import SIZE, _split, make_cohort

LIGHT = AugmentSettings(flip_p=0.0, rotate_deg=0.0, scale=0.0, translate_vox=0.0)


def as_cache(volumes: np.ndarray, folder) -> CachedVolumes:
    """Each volume written as one ``.npy`` entry, the way the volume cache stores it."""
    files = []
    for i, volume in enumerate(volumes):
        files.append(folder / f"{i}.npy")
        np.save(files[-1], volume)
    return CachedVolumes(files, SIZE)


@pytest.fixture
def cohort(tmp_path):
    volumes, scans = make_cohort(n_subjects=20, visits=2, seed=2)
    return volumes, as_cache(volumes, tmp_path), scans


def _weights(fit) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in fit.model.state_dict().items()}


def test_loaders_read_one_batch_at_a_time_and_match_the_array(cohort, monkeypatch):
    volumes, cached, _ = cohort
    sizes: list[int] = []
    original = CachedVolumes.__getitem__
    monkeypatch.setattr(CachedVolumes, "__getitem__",
                        lambda self, index: sizes.append(len(np.atleast_1d(index))) or original(self, index))
    rows = np.arange(3, 37)
    loader = scan_loader(cached, rows, batch_size=8)
    assert loader.dataset.volumes is cached  # the dataset holds the view (file paths), not an array
    batches = list(loader)
    assert max(sizes) == 8 and sum(sizes) == len(rows)
    reference = list(scan_loader(volumes, rows, batch_size=8))
    for got, want in zip(batches, reference, strict=True):
        torch.testing.assert_close(got["x"], want["x"], rtol=0, atol=0)
    pairs = [(0, 1), (5, 2)]
    got, want = PairVolumes(cached, rows).__getitems__(pairs), PairVolumes(volumes, rows).__getitems__(pairs)
    torch.testing.assert_close(got["xa"], want["xa"], rtol=0, atol=0)
    torch.testing.assert_close(got["xb"], want["xb"], rtol=0, atol=0)
    model = ContrastiveTrainSettings(widths=(2, 4, 4, 8), embedding_dim=8, seed=1).build_model()
    sizes.clear()
    np.testing.assert_array_equal(embed_volumes(model, cached, batch_size=16), embed_volumes(model, volumes, batch_size=16))
    assert max(sizes) == 16


def test_training_on_the_cache_view_gives_the_weights_of_the_stacked_array(cohort, tmp_path):
    volumes, cached, scans = cohort
    train, val = _split(scans, 4)
    settings = ContrastiveTrainSettings(epochs=2, batch_size=4, fraction=1.0, lr=1e-3, augment=LIGHT, seed=0,
                                        widths=(2, 4, 4, 8), embedding_dim=8)
    for fit in (fit_contrastive, fit_supervised):
        name = fit.__name__
        from_array = fit(volumes, scans, train, val, settings, tmp_path / f"{name}-array", progress=False)
        from_cache = fit(cached, scans, train, val, settings, tmp_path / f"{name}-cache", progress=False)
        np.testing.assert_array_equal(from_cache.curves["val_loss"], from_array.curves["val_loss"])
        for key, value in _weights(from_array).items():
            torch.testing.assert_close(_weights(from_cache)[key], value, rtol=0, atol=0)


@pytest.mark.slow  # two spawned processes per run, two runs
def test_ddp_spawn_processes_open_the_cache_themselves_and_match_the_array(cohort, tmp_path):
    volumes, cached, scans = cohort
    train, val = _split(scans, 4)
    settings = ContrastiveTrainSettings(epochs=1, batch_size=4, fraction=1.0, lr=1e-3, seed=0, widths=(2, 4, 4, 8),
                                        embedding_dim=8)
    runs = {name: fit_contrastive(data, scans, train, val, settings, tmp_path / name, progress=False, devices=2,
                                  strategy="ddp_spawn", accelerator="cpu")
            for name, data in (("array", volumes), ("cache", cached))}
    assert runs["cache"].info["world_size"] == 2
    np.testing.assert_array_equal(runs["cache"].curves["train_loss"], runs["array"].curves["train_loss"])
    for key, value in _weights(runs["array"]).items():
        torch.testing.assert_close(_weights(runs["cache"])[key], value, rtol=0, atol=0)
