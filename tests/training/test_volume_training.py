"""Longitudinal contrastive training (paper 004) and the supervised 3D reference, on tiny volumes."""

from __future__ import annotations

import os
import platform
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from alignome.errors import DataError
from alignome.evaluation.visit_metrics import reidentification
from alignome.imaging.augment import AugmentSettings
from alignome.models.cnn3d import ContrastiveEncoder3D
from alignome.training import contrastive3d, lightning_io
from alignome.training.lightning_io import AtomicCheckpointIO, resolve_precision
from alignome.training.epoch_selection import consecutive_rounds, is_better
from alignome.training.lightning_runs import read_batch_log
from alignome.training.contrastive3d import ContrastiveTrainSettings, fit_contrastive
from alignome.training.volume_batches import embed_volumes
from alignome.training.supervised3d import IGNORE, fit_supervised, supervised_loss
from alignome.training.ranks import is_main_process

SIZE = 16
LIGHT_AUGMENT = AugmentSettings(flip_p=0.0, rotate_deg=0.0, scale=0.0, translate_vox=0.0)  # intensity jitter only


def _smooth(generator: torch.Generator, n: int, grid: int, size: int = SIZE) -> torch.Tensor:
    noise = torch.randn(n, 1, grid, grid, grid, generator=generator)
    return F.interpolate(noise, size=(size,) * 3, mode="trilinear", align_corners=False)[:, 0]


def make_cohort(n_subjects: int = 64, visits: int = 3, nuisance: float = 2.0, seed: int = 0,
                ad_signal: float = 0.0) -> tuple[np.ndarray, pd.DataFrame]:
    """Each subject a fine random pattern; each visit adds a coarse nuisance field and noise.

    The nuisance (a 2³ field, amplitude ``nuisance``) dominates raw intensities, so
    an untrained encoder re-identifies subjects poorly; the subject pattern (8³)
    is learnable. Odd subjects are "AD" with a bright central cube of
    ``ad_signal``; every seventh scan lacks its diagnosis.
    """
    g = torch.Generator().manual_seed(seed)
    base = _smooth(g, n_subjects, 8)
    volumes, rows = [], []
    for s in range(n_subjects):
        diagnosis = "AD" if s % 2 else "CN"
        for v in range(visits):
            x = base[s] + nuisance * _smooth(g, 1, 2)[0] + 0.1 * torch.randn(SIZE, SIZE, SIZE, generator=g)
            if diagnosis == "AD":
                x[6:10, 6:10, 6:10] += ad_signal
            rows.append({"scan_id": f"sub-{s:03d}_ses-{v}", "subject": f"sub-{s:03d}", "session": f"ses-{v}",
                         "visit": v, "age": 60.0 + (s % 10) + 1.5 * v,
                         "diagnosis": diagnosis if (len(rows) % 7) else None})
            volumes.append(x)
    return torch.stack(volumes).numpy().astype(np.float16), pd.DataFrame(rows)


def _split(scans: pd.DataFrame, n_val_subjects: int) -> tuple[np.ndarray, np.ndarray]:
    subjects = sorted(scans["subject"].unique())
    val_subjects = set(subjects[-n_val_subjects:])
    is_val = scans["subject"].isin(val_subjects).to_numpy()
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


@pytest.fixture(scope="module")
def cohort():
    volumes, scans = make_cohort()
    train, val = _split(scans, 16)
    return volumes, scans, train, val


@pytest.fixture(scope="module")
def trained(cohort, tmp_path_factory):
    volumes, scans, train, val = cohort
    settings = ContrastiveTrainSettings(epochs=14, batch_size=16, fraction=1.0, lr=1e-3, augment=LIGHT_AUGMENT,
                                        seed=0, precision="auto")
    out = tmp_path_factory.mktemp("contrastive")
    start = time.perf_counter()
    result = fit_contrastive(volumes, scans, train, val, settings, out, resume=False, progress=False)
    return result, out, time.perf_counter() - start


# ------------------------------------------------------------------ learning and selection


def test_contrastive_training_learns_subject_identity(cohort, trained):
    volumes, scans, train, val = cohort
    result, _, _ = trained
    curves = result.curves
    assert list(curves.columns[:5]) == ["epoch", "train_loss", "val_loss", "val_top1", "seconds"]
    assert curves["epoch"].tolist() == list(range(1, 15))
    assert curves["train_loss"].iloc[-3:].mean() < 0.5 * curves["train_loss"].iloc[0]
    torch.manual_seed(0)
    untrained = embed_volumes(ContrastiveEncoder3D(), volumes[val])
    val_scans = scans.iloc[val].reset_index(drop=True)
    before = reidentification(untrained, val_scans, ks=(1,))
    assert before["top1"] < 0.3  # the nuisance field hides identity from a random encoder
    assert curves["val_top1"].max() >= before["top1"] + 0.25
    assert curves["val_top1"].max() >= 8 * before["chance_top1"]
    assert result.info["form"] == "standard" and result.info["precision"] == "32-true"


def test_best_epoch_is_the_best_validation_epoch_and_its_weights_are_returned(cohort, trained):
    volumes, scans, train, val = cohort
    result, out, _ = trained
    curves = result.curves.set_index("epoch")
    low = curves["val_loss"].min()  # the default criterion: the held-out InfoNCE, ties to the higher top-1
    tied = curves[np.isclose(curves["val_loss"], low, rtol=0.0, atol=1e-12)]
    assert result.best_epoch == int(tied["val_top1"].idxmax())
    assert result.checkpoint == out / "checkpoints" / "best.ckpt" and (out / "checkpoints" / "last.ckpt").is_file()
    # the returned weights reproduce the best epoch's validation metric, not the last epoch's
    emb = embed_volumes(result.model, volumes[val])
    again = reidentification(emb, scans.iloc[val].reset_index(drop=True), ks=(1,))["top1"]
    assert again == pytest.approx(curves.loc[result.best_epoch, "val_top1"], abs=1e-9)
    last = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["epoch"] + 1 == 14
    assert not list(out.rglob("*.tmp"))


def test_best_epoch_follows_the_validation_metric_not_the_last_epoch(tmp_path, monkeypatch):
    """Scripted metrics, ``select_by="val_top1"``: epoch 2 and 4 tie on top-1, epoch 2 has the lower loss, so epoch 2 wins."""
    volumes, scans = make_cohort(n_subjects=12, visits=2, seed=4)
    train, val = _split(scans, 4)
    top1 = iter([0.2, 0.7, 0.4, 0.7])
    loss = iter([3.0, 2.0, 1.0, 2.5])
    monkeypatch.setattr(contrastive3d, "reidentification_top1", lambda emb, scans: next(top1))
    monkeypatch.setattr(contrastive3d, "validation_loss", lambda *args: next(loss))
    saved = []
    atomic_save = AtomicCheckpointIO.save_checkpoint

    def recording_save(self, checkpoint, path, storage_options=None):
        saved.append((checkpoint["epoch"] + 1, os.path.basename(path)))
        atomic_save(self, checkpoint, path, storage_options)

    monkeypatch.setattr(AtomicCheckpointIO, "save_checkpoint", recording_save)
    settings = ContrastiveTrainSettings(epochs=4, batch_size=4, fraction=1.0, lr=1e-3, seed=2, select_by="val_top1")
    result = fit_contrastive(volumes, scans, train, val, settings, tmp_path / "four", progress=False)
    # every checkpoint goes through the atomic writer: best.ckpt when the selection improves, last.ckpt always
    assert saved == [(1, "best.ckpt"), (1, "last.ckpt"), (2, "best.ckpt"), (2, "last.ckpt"), (3, "last.ckpt"),
                     (4, "last.ckpt")]
    assert result.curves["val_top1"].tolist() == [0.2, 0.7, 0.4, 0.7]
    assert result.best_epoch == 2
    # its weights are those after epoch 2 (training does not depend on the validation metric)
    monkeypatch.undo()
    fit_contrastive(volumes, scans, train, val, ContrastiveTrainSettings(**{**settings.__dict__, "epochs": 2}),
                    tmp_path / "two", progress=False)

    def weights(run: str) -> dict[str, torch.Tensor]:
        state = torch.load(tmp_path / run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
        return {k[len("model."):]: v for k, v in state.items()}

    after_two, after_four = weights("two"), weights("four")
    assert after_two.keys() == result.model.state_dict().keys()
    for key, value in result.model.state_dict().items():
        torch.testing.assert_close(value, after_two[key])
    moved = [not torch.equal(after_four[k], after_two[k]) for k in after_two]
    assert any(moved)  # the last epoch's weights differ from the returned ones


def test_selection_rule_prefers_top1_then_lower_loss():
    assert is_better(0.5, 3.0, 0.4, 1.0)
    assert not is_better(0.4, 0.1, 0.5, 3.0)
    assert is_better(0.5, 1.0, 0.5, 2.0)
    assert not is_better(0.5, 2.0, 0.5, 1.0)
    assert is_better(0.5, 2.0, 0.5, float("nan"))


def test_loss_rule_prefers_lower_loss_then_higher_top1():
    rule = "val_loss"
    assert is_better(0.1, 1.0, 0.9, 2.0, rule)       # lower loss wins whatever the top-1
    assert not is_better(0.9, 2.0, 0.1, 1.0, rule)
    assert is_better(0.6, 1.0, 0.5, 1.0, rule)       # equal loss: higher top-1
    assert not is_better(0.5, 1.0, 0.6, 1.0, rule)
    assert is_better(0.1, 5.0, 0.9, float("nan"), rule)  # a NaN loss is the worst
    assert not is_better(0.9, float("nan"), 0.1, 5.0, rule)
    with pytest.raises(ValueError, match="select_by"):
        is_better(0.5, 1.0, 0.4, 1.0, "val_auc")


def test_the_default_keeps_the_epoch_of_lowest_validation_loss(tmp_path, monkeypatch):
    """Scripted metrics: top-1 peaks at epoch 1 as an untrained projection's may, the held-out loss falls until epoch 3."""
    volumes, scans = make_cohort(n_subjects=12, visits=2, seed=4)
    train, val = _split(scans, 4)
    top1 = iter([0.7, 0.4, 0.5, 0.6])
    loss = iter([2.5, 2.0, 1.5, 1.8])
    monkeypatch.setattr(contrastive3d, "reidentification_top1", lambda emb, scans: next(top1))
    monkeypatch.setattr(contrastive3d, "validation_loss", lambda *args: next(loss))
    settings = ContrastiveTrainSettings(epochs=4, batch_size=4, fraction=1.0, lr=1e-3, seed=2)
    result = fit_contrastive(volumes, scans, train, val, settings, tmp_path / "loss", progress=False)
    assert result.best_epoch == 3 and result.info["selection"].startswith("min validation InfoNCE")


def test_no_validation_subject_is_ever_in_a_training_batch(cohort, trained):
    volumes, scans, train, val = cohort
    _, out, _ = trained
    log = read_batch_log(out)
    assert len(log) == 14 * 48  # fraction 1: every eligible training subject once per epoch
    subjects = scans["subject"].to_numpy()
    rows = np.concatenate([log["row_a"], log["row_b"]])
    assert set(rows) <= set(train.tolist())
    assert not set(subjects[rows]) & set(subjects[val])
    assert (subjects[log["row_a"]] == subjects[log["row_b"]]).all()
    assert (log["row_a"] != log["row_b"]).all()
    for (_, _), batch in log.groupby(["epoch", "batch"]):
        assert batch["row_a"].map(lambda r: subjects[r]).is_unique  # no subject is its own negative
    # the sampler's epoch is advanced (Lightning does this only for DistributedSampler)
    first, second = (log[log["epoch"] == e][["row_a", "row_b"]].to_numpy() for e in (1, 2))
    assert not np.array_equal(first, second)


def test_embed_volumes_is_deterministic_normalised_and_restores_mode(cohort):
    volumes = cohort[0][:10]
    model = ContrastiveEncoder3D()
    model.train()
    a = embed_volumes(model, volumes, batch_size=3)
    b = embed_volumes(model, volumes.astype(np.float32), batch_size=4)
    assert model.training
    assert a.shape == (10, 128) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_array_equal(a, embed_volumes(model, volumes, batch_size=3))
    assert embed_volumes(model, volumes[:0]).shape == (0, 128)


def test_timing_is_recorded(trained):
    result, _, _ = trained
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert result.info["malloc_tuned"]
    timing = result.timing
    assert len(timing["epoch_seconds"]) == 14 and timing["epochs_measured"] == list(range(2, 15))
    assert timing["train_volumes_per_s"] > 0
    assert 0.0 <= timing["data_wait_share"] < 1.0


def test_validation_rounds_never_repeat_a_subject():
    subjects = np.array(["a", "a", "a", "b", "b", "c"])
    visits = np.array([0, 2, 1, 0, 1, 0])
    rounds = consecutive_rounds(subjects, visits)
    assert [(a.tolist(), b.tolist()) for a, b in rounds] == [([0, 3], [2, 4]), ([2], [1])]


# ------------------------------------------------------------------ resume, determinism, atomic saves


def test_resume_after_interruption_gives_the_uninterrupted_weights(tmp_path):
    volumes, scans = make_cohort(n_subjects=16, visits=2, seed=3)
    train, val = _split(scans, 4)
    augment = AugmentSettings(rotate_deg=5.0, scale=0.05, translate_vox=1.0)
    two = ContrastiveTrainSettings(epochs=2, batch_size=4, fraction=0.5, lr=1e-3, augment=augment, seed=5,
                                   learnable_temperature=True)
    one = ContrastiveTrainSettings(**{**two.__dict__, "epochs": 1})
    full = fit_contrastive(volumes, scans, train, val, two, tmp_path / "full", progress=False)
    again = fit_contrastive(volumes, scans, train, val, two, tmp_path / "again", progress=False)
    fit_contrastive(volumes, scans, train, val, one, tmp_path / "cut", progress=False)
    resumed = fit_contrastive(volumes, scans, train, val, two, tmp_path / "cut", resume=True, progress=False)
    assert resumed.info["resumed_from"] is not None
    assert full.info["temperature"] != pytest.approx(0.07, rel=1e-6)  # the learnable temperature moved
    cols = ["epoch", "train_loss", "val_loss", "val_top1"]
    pd.testing.assert_frame_equal(full.curves[cols], again.curves[cols])  # same settings, same curves
    pd.testing.assert_frame_equal(full.curves[cols], resumed.curves[cols])
    full_ckpt = torch.load(tmp_path / "full" / "checkpoints" / "last.ckpt", weights_only=False)
    cut_ckpt = torch.load(tmp_path / "cut" / "checkpoints" / "last.ckpt", weights_only=False)
    assert full_ckpt["epoch"] == cut_ckpt["epoch"] == 1  # both hold the weights after epoch 2
    last_full, last_cut = full_ckpt["state_dict"], cut_ckpt["state_dict"]
    assert last_full.keys() == last_cut.keys()
    for key in last_full:
        torch.testing.assert_close(last_full[key], last_cut[key], rtol=1e-6, atol=1e-7)
    assert pd.read_csv(tmp_path / "cut" / "curves.csv")["epoch"].tolist() == [1, 2]
    other = ContrastiveTrainSettings(**{**two.__dict__, "lr": 2e-3})
    with pytest.raises(DataError, match="other settings"):
        fit_contrastive(volumes, scans, train, val, other, tmp_path / "cut", resume=True, progress=False)


def test_a_crash_during_a_checkpoint_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"epoch": 1, "w": torch.ones(3)}, path)

    def crash(obj, fh, *args, **kwargs):
        fh.write(b"half a checkpoint")
        raise KeyboardInterrupt("killed during save")

    monkeypatch.setattr(lightning_io.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"epoch": 2, "w": torch.zeros(3)}, path)
    monkeypatch.undo()
    loaded = io.load_checkpoint(path, weights_only=True)
    assert loaded["epoch"] == 1 and torch.equal(loaded["w"], torch.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_precision_auto_follows_the_hardware(monkeypatch):
    assert resolve_precision("32-true") == "32-true"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_precision("auto") == "32-true"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto") == "bf16-mixed"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto") == "16-mixed"


def test_bad_splits_are_refused(tmp_path):
    volumes, scans = make_cohort(n_subjects=6, visits=2)
    train, val = _split(scans, 2)
    settings = ContrastiveTrainSettings(epochs=1, batch_size=2, fraction=1.0)
    with pytest.raises(DataError, match="both training and validation"):
        fit_contrastive(volumes, scans, train, np.append(val, train[0]), settings, tmp_path, progress=False)
    single = val[scans.iloc[val]["visit"].to_numpy() == 0]
    with pytest.raises(DataError, match="no validation subject has two or more scans"):
        fit_contrastive(volumes, scans, train, single, settings, tmp_path, progress=False)
    with pytest.raises(DataError, match="rows but the scan table"):
        fit_contrastive(volumes[:-1], scans, train, val, settings, tmp_path, progress=False)


# ------------------------------------------------------------------ supervised reference


def test_supervised_loss_ignores_missing_labels():
    out = {"diagnosis_logits": torch.tensor([[2.0, 0.0], [0.0, 1.0], [5.0, -5.0]]),
           "age": torch.tensor([0.5, 0.0, 9.0])}
    codes = torch.tensor([0, 1, IGNORE])
    ages = torch.tensor([0.0, 0.0, float("nan")])
    loss, _ = supervised_loss(out, codes, ages)
    expected = F.cross_entropy(out["diagnosis_logits"][:2], codes[:2]) + F.mse_loss(out["age"][:2], ages[:2])
    assert float(loss) == pytest.approx(float(expected))
    out["diagnosis_logits"][2] = torch.tensor([-50.0, 50.0])
    out["age"][2] = -100.0
    assert float(supervised_loss(out, codes, ages)[0]) == pytest.approx(float(expected))


def test_supervised_fit_learns_a_planted_diagnosis_signal(tmp_path):
    volumes, scans = make_cohort(n_subjects=40, visits=2, nuisance=0.3, seed=1, ad_signal=1.5)
    scans.loc[scans["subject"] >= "sub-030", "age"] += 20.0  # validation ages must not shift the standardisation
    train, val = _split(scans, 10)
    np.save(tmp_path / "volumes.npy", volumes)
    volumes = np.load(tmp_path / "volumes.npy", mmap_mode="r")  # memory-mapped volumes work as well
    settings = ContrastiveTrainSettings(epochs=8, batch_size=8, lr=3e-3, augment=LIGHT_AUGMENT, seed=0)
    result = fit_supervised(volumes, scans, train, val, settings, tmp_path / "run", progress=False)
    curves = result.curves.set_index("epoch")
    assert result.best_epoch == int(curves["val_loss"].idxmin())
    assert curves.loc[result.best_epoch, "val_accuracy"] >= 0.9
    assert result.info["classes"] == ["CN", "AD"]
    assert result.info["age_mean"] == pytest.approx(scans.iloc[train]["age"].mean())
    emb = embed_volumes(result.model, volumes[val])
    assert emb.shape == (len(val), 64)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    log = read_batch_log(tmp_path / "run")
    assert set(log["row"]) <= set(train.tolist())
    labelled = scans["diagnosis"].notna() | scans["age"].notna()
    assert set(log["row"]) == set(train[labelled.to_numpy()[train]].tolist())  # every labelled scan, each epoch


# ------------------------------------------------------------------ DDP


def test_ddp_two_cpu_processes_shard_subjects_and_gather_negatives(tmp_path):
    volumes, scans = make_cohort(n_subjects=20, visits=2, seed=2)
    train, val = _split(scans, 4)
    settings = ContrastiveTrainSettings(epochs=1, batch_size=4, fraction=1.0, lr=1e-3, seed=0)
    result = fit_contrastive(volumes, scans, train, val, settings, tmp_path, progress=False, devices=2,
                             strategy="ddp_spawn", accelerator="cpu")
    assert result.info["world_size"] == 2
    assert result.info["global_rank"] == 0 and is_main_process(result.info["global_rank"])  # spawn returns to rank 0
    log = read_batch_log(tmp_path)
    subjects = scans["subject"].to_numpy()
    by_rank = {r: set(subjects[g["row_a"]]) for r, g in log.groupby("rank")}
    assert sorted(by_rank) == [0, 1]
    assert not by_rank[0] & by_rank[1]
    assert len(by_rank[0]) == len(by_rank[1]) == 8
    assert (log["gathered_pairs"] == 2 * log["local_pairs"]).all()
    assert len(result.curves) == 1 and np.isfinite(result.curves["val_loss"]).all()
