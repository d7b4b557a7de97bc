"""Running a 3D Lightning training into a folder: inputs, settings key, resume, outcome.

Shared by the contrastive (:mod:`alignome.training.contrastive3d`) and supervised
(:mod:`alignome.training.supervised3d`) trainings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import lightning as L
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import Tensor, nn

from alignome.errors import DataError
from alignome.training.lightning_io import (
    AtomicCheckpointIO,
    StepTimer,
    atomic_write_text,
    resolve_precision,
    tune_glibc_malloc,
)

CHECKPOINT_DIR = "checkpoints"
BEST_NAME = "best"
LAST_NAME = "last"


@dataclass
class FitResult:
    """Outcome of a 3D training run.

    Attributes
    ----------
    model
        The network with the weights of the best epoch, on CPU, in eval mode.
    best_epoch
        1-based epoch whose weights ``model`` holds.
    curves
        One row per epoch: ``epoch`` (1-based), ``train_loss``, ``val_loss``,
        ``val_top1``, ``seconds`` (wall time of the epoch including validation);
        the supervised trainer adds ``val_accuracy``.
    checkpoint
        Path of the best checkpoint.
    timing
        ``train_volumes_per_s``, ``data_wait_share``, ``epoch_seconds`` … (see
        :meth:`~alignome.training.lightning_io.StepTimer.summary`); epochs run
        by the last call only.
    info
        What ran: objective form, precision, accelerator, devices, workers,
        final temperature, selection rule.
    """

    model: nn.Module
    best_epoch: int
    curves: pd.DataFrame
    checkpoint: Path
    timing: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)



# ------------------------------------------------------------------ Lightning module


def decay_param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class EpochRecorder(L.LightningModule):
    """Shared epoch bookkeeping: curves (kept in checkpoints), batch log, best-epoch selector."""

    def __init__(self, out_dir: Path, tune_malloc: bool = True) -> None:
        super().__init__()
        self.out_dir = Path(out_dir)
        self.tune_malloc = bool(tune_malloc)
        self.malloc_tuned = False
        self.history: list[dict[str, Any]] = []
        self._epoch_start = 0.0
        self._train_loss_sum: float | Tensor = 0.0  # a tensor on the training device once a step ran
        self._train_count = 0
        self._val: dict[str, float] = {}
        self._batch_records: list[dict[str, Any]] = []

    def setup(self, stage: str) -> None:  # noqa: D102 - runs in every process, also under ddp_spawn
        if self.tune_malloc:
            self.malloc_tuned = tune_glibc_malloc()

    def on_train_epoch_start(self) -> None:  # noqa: D102
        self._epoch_start = time.perf_counter()
        self._train_loss_sum, self._train_count = 0.0, 0
        self._batch_records = []
        loader = self.trainer.train_dataloader
        sampler = getattr(loader, "batch_sampler", None)
        if hasattr(sampler, "set_epoch"):  # Lightning only does this for DistributedSampler
            sampler.set_epoch(self.current_epoch)

    def transfer_batch_to_device(self, batch: Any, device: torch.device, dataloader_idx: int) -> Any:
        """Move a batch to the training device, except its ``rows*`` entries (scan-table rows).

        The rows are only read on the host (batch log, label lookup); left on the
        CPU they need no device-to-host copy, which would wait for the step's
        queued kernels on a GPU.
        """
        if not isinstance(batch, dict):
            return super().transfer_batch_to_device(batch, device, dataloader_idx)
        host = {k: v for k, v in batch.items() if isinstance(k, str) and k.startswith("rows")}
        moved = super().transfer_batch_to_device({k: v for k, v in batch.items() if k not in host}, device,
                                                 dataloader_idx)
        return {**moved, **host}

    def _add_train_loss(self, loss: Tensor, n: int) -> None:
        """Add a step's mean loss over ``n`` samples to the epoch's sum, on the device (no host sync)."""
        wide = torch.float64 if loss.device.type in ("cpu", "cuda") else torch.float32  # MPS has no float64
        self._train_loss_sum = self._train_loss_sum + loss.detach().to(wide) * n
        self._train_count += n

    def _epoch_row(self) -> dict[str, Any]:
        return {
            "epoch": self.current_epoch + 1,
            "train_loss": float(self._train_loss_sum) / max(self._train_count, 1),
            **self._val,
            "seconds": time.perf_counter() - self._epoch_start,
        }

    def on_train_epoch_end(self) -> None:  # noqa: D102
        self.history.append(self._epoch_row())
        if self.trainer.is_global_zero:
            atomic_write_text(self.out_dir / "curves.csv", pd.DataFrame(self.history).to_csv(index=False))
        if self._batch_records:
            path = self.out_dir / "batches" / f"epoch{self.current_epoch + 1:03d}_rank{self.global_rank}.csv"
            atomic_write_text(path, pd.DataFrame(self._batch_records).to_csv(index=False))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:  # noqa: D102
        checkpoint["alignome_history"] = [{k: float(v) for k, v in row.items()} for row in self.history]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:  # noqa: D102
        self.history = [dict(row) for row in checkpoint.get("alignome_history", [])]
        for row in self.history:
            row["epoch"] = int(row["epoch"])

    def _log_selection(self, value: float) -> None:
        self.log("val_select", value, prog_bar=False, sync_dist=self.trainer.world_size > 1)



# ------------------------------------------------------------------ running


def _rows(name: str, rows: Any, n: int) -> np.ndarray:
    arr = np.asarray(rows, dtype=np.int64).reshape(-1)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise DataError(f"{name} holds row positions outside 0..{n - 1}", field=name)
    if np.unique(arr).size != arr.size:
        raise DataError(f"{name} repeats row positions", field=name)
    return np.sort(arr)


def check_inputs(volumes: np.ndarray, scans: pd.DataFrame, train_rows: Any, val_rows: Any,
                 need_pairs: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validate the volume array, the scan table and a subject-wise split; return sorted rows."""
    if getattr(volumes, "ndim", 0) != 4:
        raise DataError(f"volumes must be an (N, S, S, S) array, got shape {getattr(volumes, 'shape', None)}",
                        field="volumes", fix="pass VolumeCache.volumes(paths), row i = scan i of the table")
    if volumes.shape[0] != len(scans):
        raise DataError(f"volumes has {volumes.shape[0]} rows but the scan table has {len(scans)}",
                        field="volumes", fix="row i of the volume array must be scan i of the table")
    for column in ("subject", "visit") if need_pairs else ("subject",):
        if column not in scans.columns:
            raise DataError(f"the scan table has no '{column}' column", field=column)
    train = _rows("train_rows", train_rows, len(scans))
    val = _rows("val_rows", val_rows, len(scans))
    subjects = scans["subject"].astype(str).to_numpy()
    shared = sorted(set(subjects[train]) & set(subjects[val]))
    if shared:
        raise DataError(f"{len(shared)} subject(s) have scans in both training and validation rows "
                        f"(e.g. {shared[:3]})", field="subject", fix="split subject-wise")
    if need_pairs:
        counts = pd.Series(subjects[val]).value_counts()
        if not (counts >= 2).any():
            raise DataError("no validation subject has two or more scans, so re-identification cannot choose "
                            "the best epoch", field="val_rows",
                            fix="put some subjects with repeated visits in the validation split")
    return train, val


def run_key(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def last_checkpoint(out_dir: Path) -> Path | None:
    """The checkpoint of the latest finished epoch in ``out_dir``, which a rerun resumes from; None when none."""
    last = Path(out_dir) / CHECKPOINT_DIR / f"{LAST_NAME}.ckpt"
    return last if last.is_file() else None


def prepare_out_dir(out_dir: Path, payload: dict[str, Any], resume: bool) -> Path | None:
    """Write ``run.json``; return the checkpoint to resume from, if any (refuse a mismatched one)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    last = out_dir / CHECKPOINT_DIR / f"{LAST_NAME}.ckpt"
    key = run_key(payload)
    run_file = out_dir / "run.json"
    if resume and last_checkpoint(out_dir) is not None:
        previous = json.loads(run_file.read_text()) if run_file.is_file() else {}
        if previous.get("key") != key:
            raise DataError("the checkpoint in this folder was made with other settings or another split",
                            file=last, fix="use a new out_dir, or resume=False to start again")
    else:
        last = None
        for stale in ("curves.csv", "timing.json", f"{CHECKPOINT_DIR}/{LAST_NAME}.ckpt",
                      f"{CHECKPOINT_DIR}/{BEST_NAME}.ckpt"):
            (out_dir / stale).unlink(missing_ok=True)
        for stale in (out_dir / "batches").glob("*.csv") if (out_dir / "batches").is_dir() else []:
            stale.unlink()
    atomic_write_text(run_file, json.dumps({"key": key, **payload}, indent=1, default=str))
    return last


@contextmanager
def _quiet(progress: bool) -> Iterator[None]:
    """Silence Lightning's chatter (device banners, few-workers warnings) when progress is off."""
    names = ["lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero",
             "lightning.pytorch.accelerators.cuda", "lightning.fabric.utilities.seed"]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*num_workers.*")
        warnings.filterwarnings("ignore", message=".*sync_dist=True.*")
        warnings.filterwarnings("ignore", message=".*exists and is not empty.*")  # resuming writes there again
        warnings.filterwarnings("ignore", message=".*treespec, LeafSpec.*")  # Lightning vs torch deprecation
        if not progress:
            for lg in loggers:
                lg.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


def run_trainer(module: EpochRecorder, out_dir: Path, epochs: int, precision: str, ckpt_path: Path | None,
                monitor_mode: str, timer: StepTimer, progress: bool, devices: int | str, strategy: str,
                accelerator: str) -> dict[str, Any]:
    """Fit ``module`` with atomic checkpoints; return what ran (precision, accelerator …)."""
    folder = out_dir / CHECKPOINT_DIR
    best = ModelCheckpoint(
        dirpath=folder, filename=BEST_NAME, monitor="val_select", mode=monitor_mode, save_top_k=1,
        auto_insert_metric_name=False, enable_version_counter=False, save_on_train_epoch_end=True,
    )
    # Lightning 2.6's save_last=True rewrites last.ckpt only in epochs that improved the monitored
    # metric; resuming needs the latest epoch, so a second, unmonitored callback keeps it.
    last = ModelCheckpoint(
        dirpath=folder, filename=LAST_NAME, monitor=None, save_top_k=1, auto_insert_metric_name=False,
        enable_version_counter=False, save_on_train_epoch_end=True,
    )
    callbacks: list[L.Callback] = [best, last, timer]
    if progress:
        try:
            from lightning.pytorch.callbacks import RichProgressBar

            callbacks.append(RichProgressBar())
        except Exception:  # rich missing: Lightning's TQDM bar
            pass
    resolved = resolve_precision(precision)
    with _quiet(progress):
        trainer = L.Trainer(
            max_epochs=epochs, accelerator=accelerator, devices=devices, strategy=strategy, precision=resolved,
            logger=False, enable_model_summary=False, enable_progress_bar=progress, callbacks=callbacks,
            plugins=[AtomicCheckpointIO()], use_distributed_sampler=False, num_sanity_val_steps=0,
            default_root_dir=out_dir, benchmark=False,
        )
        try:
            trainer.fit(module, ckpt_path=ckpt_path, weights_only=False)
        except SystemExit:
            if not trainer.interrupted:
                raise
            # Lightning turns Ctrl-C into sys.exit(1) and leaves SIGINT ignored: give the caller
            # the KeyboardInterrupt it asked for (the command says how to resume) and Ctrl-C back
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt from None
    return {
        "precision": resolved, "accelerator": type(trainer.accelerator).__name__,
        "devices": trainer.num_devices, "world_size": trainer.world_size, "global_rank": trainer.global_rank,
        "strategy": type(trainer.strategy).__name__,
    }


def load_outcome(out_dir: Path) -> tuple[dict[str, Tensor], int, pd.DataFrame, dict[str, Any]]:
    """Best weights (``model.`` prefix stripped), best epoch, curves and timing from ``out_dir``."""
    best = out_dir / CHECKPOINT_DIR / f"{BEST_NAME}.ckpt"
    if not best.is_file():
        raise DataError("training finished without a best checkpoint", file=best)
    blob = torch.load(best, map_location="cpu", weights_only=False)
    state = {k[len("model."):]: v for k, v in blob["state_dict"].items() if k.startswith("model.")}
    curves = pd.read_csv(out_dir / "curves.csv")
    timing_file = out_dir / "timing.json"
    timing = json.loads(timing_file.read_text()) if timing_file.is_file() else {}
    return state, int(blob["epoch"]) + 1, curves, timing



def read_batch_log(out_dir: Path | str) -> pd.DataFrame:
    """Every training pair of a run: epoch, batch, rank, row_a, row_b, local_pairs, gathered_pairs."""
    files = sorted((Path(out_dir) / "batches").glob("epoch*_rank*.csv"))
    if not files:
        return pd.DataFrame(columns=["epoch", "batch", "rank", "row_a", "row_b", "local_pairs", "gathered_pairs"])
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
