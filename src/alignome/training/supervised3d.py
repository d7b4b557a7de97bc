"""Supervised reference encoder for the 3D recipe: the same CNN trained on diagnosis and age.

The contrastive encoder of paper 004 is compared with this "supervised
encoder": :class:`~alignome.models.cnn3d.CNN3DEncoder` with a diagnosis head
(cross-entropy; scans without a diagnosis are ignored) and an age head (MSE on
age standardised with the mean and standard deviation of the *training* scans
only; scans without an age are ignored), trained on single training scans
(not pairs) with the same augmentations, optimiser and checkpointing as
:func:`~alignome.training.contrastive3d.fit_contrastive`. The best epoch is the
one with the lowest validation loss (cross-entropy + MSE on the validation
scans). Its :class:`SupervisedEncoder3D` returns ``forward(x)["embedding"]``,
the L2-normalised encoder features, so
:func:`~alignome.training.contrastive3d.embed_volumes` embeds with either model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from alignome.errors import DataError
from alignome.imaging.augment import augment_batch, host_to_device
from alignome.models.cnn3d import CNN3DEncoder
from alignome.report.ordering import order_diagnoses
from alignome.training.lightning_io import StepTimer
from alignome.training.epoch_selection import reidentification_top1
from alignome.training.lightning_runs import (
    BEST_NAME,
    CHECKPOINT_DIR,
    EpochRecorder,
    FitResult,
    check_inputs,
    decay_param_groups,
    load_outcome,
    prepare_out_dir,
    run_key,
    run_trainer,
)
from alignome.training.contrastive3d import ContrastiveTrainSettings
from alignome.training.volume_batches import ScanVolumes, batch_generator, keep_batch, scan_loader

IGNORE = -100


class SupervisedEncoder3D(nn.Module):
    """CNN3DEncoder + diagnosis and age heads, with a ContrastiveEncoder3D-like forward.

    Parameters
    ----------
    widths
        Encoder channel widths.
    classes
        Diagnosis labels in head order (may be empty: no diagnosis head).
    temperature
        Only reported as ``logit_scale = 1/τ`` for interface compatibility.

    Attributes
    ----------
    embedding_dim : int
        Size of the embedding, ``widths[-1]`` (the encoder features).
    """

    def __init__(self, widths: tuple[int, ...] = (8, 16, 32, 64), classes: tuple[str, ...] = (),
                 temperature: float = 0.07, pool_size: int = 1) -> None:
        super().__init__()
        self.encoder = CNN3DEncoder(widths, pool_size=pool_size)
        self.classes = tuple(str(c) for c in classes)
        self.diagnosis_head = nn.Linear(self.encoder.out_dim, max(len(self.classes), 1))
        self.age_head = nn.Linear(self.encoder.out_dim, 1)
        self.register_buffer("logit_scale", torch.tensor(1.0 / temperature, dtype=torch.float32))
        self.embedding_dim = self.encoder.out_dim
        self.feature_dim = self.encoder.out_dim

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """``features``, ``embedding`` (unit-norm features), ``logit_scale``, ``diagnosis_logits``, ``age`` (z)."""
        features = self.encoder(x)
        return {
            "features": features,
            "embedding": F.normalize(features.float(), dim=1),
            "logit_scale": self.logit_scale,
            "diagnosis_logits": self.diagnosis_head(features).float(),
            "age": self.age_head(features).float().squeeze(1),
        }


class SeededBatches:
    """Shuffled batches of positions ``0..n-1``, reshuffled per epoch from ``(seed, epoch)``.

    With ``world_size > 1`` each rank takes an equal, disjoint share (the
    remainder sits the epoch out).
    """

    def __init__(self, n: int, batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        self.n, self.batch_size, self.seed = int(n), int(batch_size), int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.per_rank = self.n // self.world_size
        if self.per_rank < 1:
            raise DataError(f"{n} labelled training scans cannot be shared by {world_size} processes")
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's shuffle."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        order = np.random.default_rng([self.seed, self.epoch, 7]).permutation(self.n)
        mine = order[self.rank * self.per_rank:(self.rank + 1) * self.per_rank]
        for start in range(0, len(mine), self.batch_size):
            yield mine[start:start + self.batch_size].tolist()

    def __len__(self) -> int:
        return -(-self.per_rank // self.batch_size)


def _label(value: Any) -> str | None:
    """A diagnosis label, or None when missing (NaN, None, empty)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _targets(scans: pd.DataFrame, train: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], float, float]:
    """Diagnosis codes (IGNORE when missing) and standardised ages (NaN when missing) of every row."""
    n = len(scans)
    diagnosis = [_label(v) for v in scans["diagnosis"]] if "diagnosis" in scans.columns else [None] * n
    classes = tuple(order_diagnoses(diagnosis[i] for i in train if diagnosis[i] is not None))
    index = {c: i for i, c in enumerate(classes)}
    codes = np.array([index.get(d, IGNORE) if d is not None else IGNORE for d in diagnosis], dtype=np.int64)
    ages = pd.to_numeric(scans["age"], errors="coerce").to_numpy(dtype=float) if "age" in scans else np.full(n, np.nan)
    train_ages = ages[train][np.isfinite(ages[train])]
    mean = float(train_ages.mean()) if train_ages.size else 0.0
    std = float(train_ages.std()) if train_ages.size > 1 and train_ages.std() > 0 else 1.0
    return codes, (ages - mean) / std, classes, mean, std


def supervised_loss(out: dict[str, Tensor], codes: Tensor, age_z: Tensor,
                    with_parts: bool = True) -> tuple[Tensor, dict[str, float]]:
    """Cross-entropy over rows with a diagnosis + MSE over rows with an age (missing terms are 0).

    The loss is computed with masked sums, without boolean indexing or a test on
    the host, so a training step on a GPU does not wait for its kernels here.
    ``with_parts`` adds the terms and counts as floats (``ce``, ``correct``,
    ``n_dx`` when a row has a diagnosis, ``mse`` when a row has an age); reading
    them synchronises with the device, so the training step asks for none.
    """
    logits = out["diagnosis_logits"]
    has_dx = codes != IGNORE
    n_dx = has_dx.sum()
    ce_rows = F.cross_entropy(logits, codes, ignore_index=IGNORE, reduction="none")  # 0 where ignored
    ce = ce_rows.sum() / n_dx.clamp(min=1)
    has_age = torch.isfinite(age_z)
    n_age = has_age.sum()
    diff = torch.where(has_age, out["age"] - torch.nan_to_num(age_z), torch.zeros_like(out["age"]))
    mse = diff.square().sum() / n_age.clamp(min=1)
    loss = ce + mse
    parts: dict[str, float] = {}
    if with_parts:
        if int(n_dx) > 0:
            parts["ce"] = float(ce.detach())
            parts["correct"] = float(((logits.argmax(1) == codes) & has_dx).sum())
            parts["n_dx"] = float(n_dx)
        if int(n_age) > 0:
            parts["mse"] = float(mse.detach())
    return loss, parts


class SupervisedModule(EpochRecorder):
    """Lightning module of the supervised reference (diagnosis + age heads)."""

    def __init__(self, settings: ContrastiveTrainSettings, volumes: np.ndarray, scans: pd.DataFrame,
                 train_rows: np.ndarray, val_rows: np.ndarray, codes: np.ndarray, age_z: np.ndarray,
                 classes: tuple[str, ...], out_dir: Path, num_workers: int = 0, tune_malloc: bool = True) -> None:
        super().__init__(out_dir, tune_malloc)
        self.settings = settings
        self.model = SupervisedEncoder3D(settings.widths, classes, settings.temperature, settings.pool_size)
        self.volumes = volumes
        self.codes = torch.as_tensor(codes)
        self.age_z = torch.as_tensor(age_z, dtype=torch.float32)
        self.train_rows = np.asarray(train_rows, dtype=np.int64)
        self.val_rows = np.asarray(val_rows, dtype=np.int64)
        self.val_scans = scans.iloc[self.val_rows][["subject"]].reset_index(drop=True)
        self.num_workers = int(num_workers)
        self._val_parts: list[tuple[Tensor, Tensor, Tensor]] = []

    def train_dataloader(self) -> DataLoader:  # noqa: D102
        sampler = SeededBatches(len(self.train_rows), 2 * self.settings.batch_size, self.settings.seed,
                                self.global_rank, self.trainer.world_size)
        return DataLoader(ScanVolumes(self.volumes, self.train_rows), batch_sampler=sampler, collate_fn=keep_batch,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
                          pin_memory=torch.cuda.is_available())

    def val_dataloader(self) -> DataLoader:  # noqa: D102
        return scan_loader(self.volumes, self.val_rows, 2 * self.settings.batch_size,
                           pin_memory=torch.cuda.is_available())

    def configure_optimizers(self) -> torch.optim.Optimizer:  # noqa: D102
        return torch.optim.AdamW(decay_param_groups(self.model, self.settings.weight_decay), lr=self.settings.lr)

    def _labels(self, rows: Tensor) -> tuple[Tensor, Tensor]:
        """Diagnosis codes and standardised ages of scan-table rows, on the device (queued copies)."""
        rows = rows.cpu()
        return host_to_device(self.codes[rows], self.device), host_to_device(self.age_z[rows], self.device)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:  # noqa: D102
        codes, age_z = self._labels(batch["rows"])
        x = batch["x"].float()
        if self.settings.augment.enabled:
            x = augment_batch(x, self.settings.augment,
                              batch_generator(self.settings.seed, self.current_epoch, batch_idx, self.global_rank))
        out = self.model(x)
        with torch.autocast(device_type=self.device.type, enabled=False):
            loss, _ = supervised_loss(out, codes, age_z, with_parts=False)
        n = x.shape[0]
        self._add_train_loss(loss, n)
        self.log("train_loss", loss.detach(), prog_bar=True, on_step=True, on_epoch=False, batch_size=n)
        for r in batch["rows"].cpu().tolist():
            self._batch_records.append({"epoch": self.current_epoch + 1, "batch": batch_idx,
                                        "rank": self.global_rank, "row": int(r)})
        return loss

    def on_validation_epoch_start(self) -> None:  # noqa: D102
        self._val_parts = []

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:  # noqa: D102
        out = self.model(batch["x"].float())
        self._val_parts.append((batch["rows"].cpu(), out["embedding"].detach().float().cpu(),
                                out["diagnosis_logits"].detach().cpu(), out["age"].detach().cpu()))

    def on_validation_epoch_end(self) -> None:  # noqa: D102
        rows = torch.cat([p[0] for p in self._val_parts])
        out = {"embedding": torch.cat([p[1] for p in self._val_parts]),
               "diagnosis_logits": torch.cat([p[2] for p in self._val_parts]),
               "age": torch.cat([p[3] for p in self._val_parts])}
        self._val_parts = []
        loss, parts = supervised_loss(out, self.codes[rows], self.age_z[rows])
        order = torch.as_tensor(np.argsort(rows.numpy(), kind="stable"))
        emb = out["embedding"][order].numpy()  # val_rows are sorted, so this is the val_scans order
        top1 = reidentification_top1(emb, self.val_scans)
        accuracy = parts["correct"] / parts["n_dx"] if parts.get("n_dx") else float("nan")
        self._val = {"val_loss": float(loss), "val_top1": top1, "val_accuracy": accuracy}
        self.log("val_loss", float(loss), prog_bar=True, sync_dist=self.trainer.world_size > 1)
        self._log_selection(float(loss))


def fit_supervised(volumes: np.ndarray, scans: pd.DataFrame, train_rows: Any, val_rows: Any,
                   settings: ContrastiveTrainSettings | None = None, out_dir: Path | str = "supervised",
                   resume: bool = True, progress: bool = True, devices: int | str = 1, strategy: str = "auto",
                   num_workers: int = 0, accelerator: str = "auto", tune_malloc: bool = True) -> FitResult:
    """Train the supervised reference encoder (diagnosis + age) and return its best epoch.

    Parameters
    ----------
    volumes, scans, train_rows, val_rows
        As :func:`~alignome.training.contrastive3d.fit_contrastive`. Training
        scans with neither a diagnosis nor an age are not used.
    settings
        Uses ``epochs``, ``batch_size`` (``2 * batch_size`` scans per step, the
        volumes of a contrastive step), ``lr``, ``weight_decay``, ``widths``,
        ``augment``, ``seed``, ``precision``; every labelled training scan is
        seen once per epoch (``fraction`` is not used).
    out_dir, resume, progress, devices, strategy, num_workers, accelerator, tune_malloc
        As :func:`~alignome.training.contrastive3d.fit_contrastive`.

    Returns
    -------
    FitResult
        ``model`` is a :class:`SupervisedEncoder3D` (embedding: normalised
        ``widths[-1]`` features); ``curves`` adds ``val_accuracy``;
        ``info`` holds the classes and the training age mean and SD.

    Raises
    ------
    DataError
        When no training scan has a diagnosis or an age, or no validation scan does.
    """
    settings = settings or ContrastiveTrainSettings()
    out_dir = Path(out_dir)
    train, val = check_inputs(volumes, scans, train_rows, val_rows, need_pairs=False)
    codes, age_z, classes, age_mean, age_sd = _targets(scans, train)
    labelled = (codes != IGNORE) | np.isfinite(age_z)
    if not labelled[train].any():
        raise DataError("no training scan has a diagnosis or an age", field="diagnosis",
                        fix="the supervised reference needs labels on the training subjects")
    if not labelled[val].any():
        raise DataError("no validation scan has a diagnosis or an age, so no epoch can be chosen",
                        field="diagnosis", fix="put labelled subjects in the validation split")
    train = train[labelled[train]]
    payload = {"trainer": "supervised", "settings": settings.to_dict(), "volumes_shape": list(volumes.shape),
               "train_rows": run_key({"r": train.tolist()}), "val_rows": run_key({"r": val.tolist()}),
               "classes": list(classes)}
    payload["settings"].pop("epochs")
    last = prepare_out_dir(out_dir, payload, resume)
    L.seed_everything(settings.seed, workers=True, verbose=False)
    module = SupervisedModule(settings, volumes, scans, train, val, codes, age_z, classes, out_dir, num_workers,
                              tune_malloc)
    timer = StepTimer(_scan_count, out_file=out_dir / "timing.json")
    ran = run_trainer(module, out_dir, settings.epochs, settings.precision, last, "min", timer, progress,
                      devices, strategy, accelerator)
    state, best_epoch, curves, timing = load_outcome(out_dir)
    model = SupervisedEncoder3D(settings.widths, classes, settings.temperature, settings.pool_size)
    model.load_state_dict(state)
    model.eval()
    info = {
        **ran, "malloc_tuned": module.malloc_tuned,
        "objective": "cross-entropy (diagnosis) + MSE (standardised age)", "classes": list(classes),
        "age_mean": age_mean, "age_sd": age_sd, "num_workers": num_workers,
        "resumed_from": str(last) if last else None, "selection": "min val_loss",
    }
    return FitResult(model=model, best_epoch=best_epoch, curves=curves,
                     checkpoint=out_dir / CHECKPOINT_DIR / f"{BEST_NAME}.ckpt", timing=timing, info=info)


def _scan_count(batch: dict[str, Tensor]) -> int:
    return int(batch["x"].shape[0])
