"""Longitudinal contrastive pretraining of a 3D CNN on MRI volumes (paper 004, ClinImCL).

A positive pair is two visits of one subject; every other subject of the
(all-gathered) batch is a negative. :class:`~alignome.training.visit_pairs.VisitPairBatches`
draws a fraction of the training subjects per epoch (paper: 25 %) and puts
each drawn subject in a batch once, so no subject is its own negative. Both
views get seeded on-the-fly augmentations
(:func:`~alignome.imaging.augment.augment_batch`), the encoder is
:class:`~alignome.models.cnn3d.ContrastiveEncoder3D` and the loss is
:func:`~alignome.objectives.contrastive_loss` with the model's
``logit_scale`` (``form="standard"``: the paper's InfoNCE, positive in the
denominator; ``"decoupled"`` as an option).

Training runs under Lightning: mixed precision on a GPU, DDP with negatives
gathered across processes, atomic checkpoints (``checkpoints/last.ckpt`` for
resuming, ``checkpoints/best.ckpt`` for the best validation epoch). The best
epoch is chosen on the *validation subjects* by re-identification top-1
(is the nearest other scan the same subject?), ties broken by the lower
validation InfoNCE loss over consecutive-visit pairs.

Files under ``out_dir``: ``checkpoints/``, ``curves.csv`` (epoch, train_loss,
val_loss, val_top1, seconds), ``timing.json`` (see
:class:`~alignome.training.lightning_io.StepTimer`), ``run.json`` (the
settings; a resume with different settings is refused) and
``batches/epoch*_rank*.csv`` (the pairs each process trained on, with local
and gathered batch sizes; read with :func:`read_batch_log`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import time
import warnings
from collections.abc import Sequence
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
from torch.utils.data import BatchSampler, DataLoader, Dataset, SequentialSampler

from alignome.errors import DataError
from alignome.imaging.augment import AugmentSettings, augment_batch
from alignome.models.cnn3d import ContrastiveEncoder3D
from alignome.objectives.contrastive import contrastive_loss
from alignome.training.distributed import gather_with_grad
from alignome.training.lightning_io import (
    AtomicCheckpointIO,
    StepTimer,
    atomic_write_text,
    resolve_precision,
    tune_glibc_malloc,
)
from alignome.training.visit_pairs import VisitPairBatches

CHECKPOINT_DIR = "checkpoints"
BEST_NAME = "best"
LAST_NAME = "last"


# ------------------------------------------------------------------ settings and result


@dataclass
class ContrastiveTrainSettings:
    """Settings of longitudinal contrastive training (defaults: paper 004).

    Parameters
    ----------
    epochs
        Training epochs (paper: 10).
    batch_size
        Pairs per batch and process (``2 * batch_size`` volumes).
    fraction
        Fraction of eligible training subjects drawn per epoch (paper: 0.25).
    lr, weight_decay
        AdamW settings (paper: 1e-4 and 1e-4). Weight decay is not applied to
        biases, normalisation gains and the temperature (open_clip).
    temperature, learnable_temperature
        Initial τ (paper: 0.07) and whether it is learnt.
    widths, embedding_dim
        Encoder channel widths (four blocks) and embedding size (128).
    pool_size
        Side of the pooled grid of encoder features (1: global average).
    form
        ``"standard"`` (paper 004's InfoNCE) or ``"decoupled"``.
    augment
        Augmentation strengths (``AugmentSettings(enabled=False)`` for none).
    seed
        Seeds weights, subject draws, pairs and augmentations.
    precision
        Lightning precision or ``"auto"`` (mixed precision on a GPU, 32-bit on CPU).
    """

    epochs: int = 10
    batch_size: int = 8
    fraction: float = 0.25
    lr: float = 1e-4
    weight_decay: float = 1e-4
    temperature: float = 0.07
    learnable_temperature: bool = False
    widths: tuple[int, ...] = (8, 16, 32, 64)
    embedding_dim: int = 128
    pool_size: int = 1
    form: str = "standard"
    augment: AugmentSettings = field(default_factory=AugmentSettings)
    seed: int = 0
    precision: str = "auto"

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        if isinstance(self.augment, dict):
            self.augment = AugmentSettings(**self.augment)
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {self.epochs} and {self.batch_size}")
        if self.form not in ("standard", "decoupled"):
            raise ValueError(f"form must be 'standard' or 'decoupled', got {self.form!r}")
        if not self.lr > 0 or self.weight_decay < 0 or not self.temperature > 0:
            raise ValueError("lr and temperature must be positive and weight_decay >= 0")

    def build_model(self) -> ContrastiveEncoder3D:
        """A freshly initialised encoder of these settings (seed torch first for a fixed init)."""
        return ContrastiveEncoder3D(
            widths=self.widths, embedding_dim=self.embedding_dim, temperature=self.temperature,
            learnable_temperature=self.learnable_temperature, pool_size=self.pool_size,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON view of the settings."""
        out = dataclasses.asdict(self)
        out["widths"] = list(self.widths)
        return out


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


# ------------------------------------------------------------------ datasets


def _identity(batch: Any) -> Any:
    return batch


def _take(volumes: np.ndarray, rows: np.ndarray) -> Tensor:
    """Rows of the volume array as a ``(B, 1, *spatial)`` tensor in the stored dtype."""
    block = np.ascontiguousarray(volumes[np.asarray(rows, dtype=np.int64)])
    return torch.from_numpy(block).unsqueeze(1)


class PairVolumes(Dataset):
    """Batches of visit pairs read from the volume array (one fancy index per view).

    ``__getitems__`` receives one batch of the batch sampler, a list of
    ``(a, b)`` positions in ``rows``, and returns ``{"xa", "xb", "rows_a",
    "rows_b"}`` with volumes ``(B, 1, S, S, S)`` in the stored dtype (float16
    stays float16 until the training step) and global scan-table rows.
    """

    def __init__(self, volumes: np.ndarray, rows: np.ndarray) -> None:
        self.volumes = volumes
        self.rows = np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitems__(self, pairs: Sequence[tuple[int, int]]) -> dict[str, Tensor]:
        local = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        rows_a, rows_b = self.rows[local[:, 0]], self.rows[local[:, 1]]
        return {
            "xa": _take(self.volumes, rows_a),
            "xb": _take(self.volumes, rows_b),
            "rows_a": torch.from_numpy(rows_a),
            "rows_b": torch.from_numpy(rows_b),
        }

    def __getitem__(self, pair: tuple[int, int]) -> dict[str, Tensor]:
        return self.__getitems__([pair])


class ScanVolumes(Dataset):
    """Batches of single scans: ``__getitems__(positions) -> {"x", "rows"}``."""

    def __init__(self, volumes: np.ndarray, rows: np.ndarray) -> None:
        self.volumes = volumes
        self.rows = np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitems__(self, positions: Sequence[int]) -> dict[str, Tensor]:
        rows = self.rows[np.asarray(positions, dtype=np.int64)]
        return {"x": _take(self.volumes, rows), "rows": torch.from_numpy(rows)}

    def __getitem__(self, position: int) -> dict[str, Tensor]:
        return self.__getitems__([position])


def scan_loader(volumes: np.ndarray, rows: np.ndarray, batch_size: int, num_workers: int = 0,
                pin_memory: bool = False) -> DataLoader:
    """Sequential loader of single scans (validation, embedding)."""
    dataset = ScanVolumes(volumes, rows)
    sampler = BatchSampler(SequentialSampler(range(len(dataset))), batch_size=batch_size, drop_last=False)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=_identity, num_workers=num_workers,
                      persistent_workers=num_workers > 0, pin_memory=pin_memory)


def pair_volume_count(batch: dict[str, Tensor]) -> int:
    """Volumes in a batch of pairs (two per pair)."""
    return 2 * int(batch["xa"].shape[0])


def batch_generator(seed: int, epoch: int, batch_idx: int, rank: int) -> torch.Generator:
    """CPU generator for the augmentations of one batch, seeded from (seed, epoch, batch, rank)."""
    state = np.random.SeedSequence([int(seed), int(epoch), int(batch_idx), int(rank)]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


# ------------------------------------------------------------------ validation helpers


def consecutive_rounds(subjects: np.ndarray, visits: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Consecutive-visit pairs grouped so that no subject appears twice in a group.

    Round ``r`` pairs visit ``r`` with visit ``r + 1`` (visit order within the
    subject) of every subject that has them; positions index ``subjects``.
    """
    frame = pd.DataFrame({"s": subjects, "v": visits, "pos": np.arange(len(subjects))})
    frame = frame.sort_values(["s", "v", "pos"], kind="stable")
    rounds: dict[int, tuple[list[int], list[int]]] = {}
    for _, group in frame.groupby("s", sort=True):
        pos = group["pos"].to_numpy()
        for r in range(len(pos) - 1):
            a, b = rounds.setdefault(r, ([], []))
            a.append(int(pos[r]))
            b.append(int(pos[r + 1]))
    return [(np.asarray(a), np.asarray(b)) for _, (a, b) in sorted(rounds.items())]


def validation_loss(emb: Tensor, rounds: list[tuple[np.ndarray, np.ndarray]], logit_scale: Tensor | float,
                    form: str) -> float:
    """Mean InfoNCE over consecutive-visit pairs (rounds of < 2 pairs skipped; NaN if none)."""
    total, count = 0.0, 0
    for a, b in rounds:
        if len(a) < 2:
            continue
        loss = contrastive_loss(emb[torch.as_tensor(a)], emb[torch.as_tensor(b)], logit_scale=logit_scale, form=form)
        total += float(loss["loss"]) * len(a)
        count += len(a)
    return total / count if count else float("nan")


def reidentification_top1(emb: np.ndarray, scans: pd.DataFrame) -> float:
    """Re-identification top-1 (ties counted as expected hits) of :mod:`alignome.evaluation.longitudinal`."""
    from alignome.evaluation.longitudinal import reidentification

    return float(reidentification(emb, scans.reset_index(drop=True), ks=(1,))["top1"])


def is_better(top1: float, loss: float, best_top1: float, best_loss: float) -> bool:
    """Lexicographic selection: higher top-1 wins; equal top-1 → lower loss (NaN loss is worst)."""
    if best_top1 is None or math.isnan(best_top1):
        return True
    if not math.isclose(top1, best_top1, rel_tol=0.0, abs_tol=1e-12):
        return top1 > best_top1
    loss = math.inf if math.isnan(loss) else loss
    best_loss = math.inf if math.isnan(best_loss) else best_loss
    return loss < best_loss


# ------------------------------------------------------------------ Lightning module


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class _EpochRecorder(L.LightningModule):
    """Shared epoch bookkeeping: curves (kept in checkpoints), batch log, best-epoch selector."""

    def __init__(self, out_dir: Path, tune_malloc: bool = True) -> None:
        super().__init__()
        self.out_dir = Path(out_dir)
        self.tune_malloc = bool(tune_malloc)
        self.malloc_tuned = False
        self.history: list[dict[str, Any]] = []
        self._epoch_start = 0.0
        self._train_loss_sum = 0.0
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

    def _epoch_row(self) -> dict[str, Any]:
        return {
            "epoch": self.current_epoch + 1,
            "train_loss": self._train_loss_sum / max(self._train_count, 1),
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


class ContrastiveModule(_EpochRecorder):
    """Lightning module of longitudinal contrastive training (see module docstring).

    The data loaders are built inside the module (``train_dataloader``) so
    that each process knows its rank when it builds its
    :class:`VisitPairBatches` shard, also under ``ddp_spawn``.
    """

    def __init__(self, settings: ContrastiveTrainSettings, volumes: np.ndarray, scans: pd.DataFrame,
                 train_rows: np.ndarray, val_rows: np.ndarray, out_dir: Path, num_workers: int = 0,
                 eval_batch_size: int = 16, tune_malloc: bool = True) -> None:
        super().__init__(out_dir, tune_malloc)
        self.settings = settings
        self.model = settings.build_model()
        self.volumes = volumes
        self.train_rows = np.asarray(train_rows, dtype=np.int64)
        self.val_rows = np.asarray(val_rows, dtype=np.int64)
        self.train_scans = scans.iloc[self.train_rows][["subject"]].reset_index(drop=True)
        self.val_scans = scans.iloc[self.val_rows][["subject", "visit"]].reset_index(drop=True)
        self.val_rounds = consecutive_rounds(self.val_scans["subject"].astype(str).to_numpy(),
                                             self.val_scans["visit"].to_numpy())
        self.num_workers = int(num_workers)
        self.eval_batch_size = int(eval_batch_size)
        self._val_parts: list[tuple[Tensor, Tensor]] = []

    # data
    def train_dataloader(self) -> DataLoader:  # noqa: D102
        sampler = VisitPairBatches(self.train_scans, self.settings.batch_size, self.settings.fraction,
                                   seed=self.settings.seed, rank=self.global_rank, world_size=self.trainer.world_size)
        return DataLoader(PairVolumes(self.volumes, self.train_rows), batch_sampler=sampler, collate_fn=_identity,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
                          pin_memory=torch.cuda.is_available())

    def val_dataloader(self) -> DataLoader:  # noqa: D102
        return scan_loader(self.volumes, self.val_rows, self.eval_batch_size, pin_memory=torch.cuda.is_available())

    def configure_optimizers(self) -> torch.optim.Optimizer:  # noqa: D102
        return torch.optim.AdamW(_param_groups(self.model, self.settings.weight_decay), lr=self.settings.lr)

    # training
    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:  # noqa: D102
        xa, xb = batch["xa"], batch["xb"]
        n = xa.shape[0]
        x = torch.cat([xa, xb]).float()
        if self.settings.augment.enabled:
            gen = batch_generator(self.settings.seed, self.current_epoch, batch_idx, self.global_rank)
            x = augment_batch(x, self.settings.augment, gen)
        out = self.model(x)
        z_all = out["embedding"].float()
        za, zb = gather_with_grad(z_all[:n]), gather_with_grad(z_all[n:])
        with torch.autocast(device_type=self.device.type, enabled=False):
            loss = contrastive_loss(za, zb, logit_scale=out["logit_scale"].float(), form=self.settings.form)["loss"]
        self._train_loss_sum += float(loss.detach()) * n
        self._train_count += n
        self.log("train_loss", loss.detach(), prog_bar=True, on_step=True, on_epoch=False, batch_size=n)
        rows_a, rows_b = batch["rows_a"].cpu().numpy(), batch["rows_b"].cpu().numpy()
        for a, b in zip(rows_a, rows_b):
            self._batch_records.append({
                "epoch": self.current_epoch + 1, "batch": batch_idx, "rank": self.global_rank,
                "row_a": int(a), "row_b": int(b), "local_pairs": n, "gathered_pairs": int(za.shape[0]),
            })
        return loss

    # validation
    def on_validation_epoch_start(self) -> None:  # noqa: D102
        self._val_parts = []

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:  # noqa: D102
        emb = self.model(batch["x"].float())["embedding"].float()
        self._val_parts.append((batch["rows"].cpu(), emb.detach().cpu()))

    def on_validation_epoch_end(self) -> None:  # noqa: D102
        rows = torch.cat([r for r, _ in self._val_parts]).numpy()
        parts = torch.cat([e for _, e in self._val_parts])
        index = {int(r): i for i, r in enumerate(self.val_rows)}
        positions = torch.as_tensor([index[int(r)] for r in rows], dtype=torch.long)
        if sorted(positions.tolist()) != list(range(len(self.val_rows))):
            raise RuntimeError("validation embeddings do not cover the validation scans exactly once")
        emb = torch.empty_like(parts)
        emb[positions] = parts
        self._val_parts = []
        scale = self.model.scale().detach().float().cpu()
        loss = validation_loss(emb, self.val_rounds, scale, self.settings.form)
        top1 = reidentification_top1(emb.numpy(), self.val_scans)
        best = [r for r in self.history if r["epoch"] <= self.current_epoch]
        better = all(is_better(top1, loss, r["val_top1"], r["val_loss"]) for r in best)
        self._val = {"val_loss": loss, "val_top1": top1}
        self.log("val_loss", loss if not math.isnan(loss) else float("inf"), sync_dist=self.trainer.world_size > 1)
        self.log("val_top1", top1, prog_bar=True, sync_dist=self.trainer.world_size > 1)
        self._log_selection(float(self.current_epoch + 1) if better else 0.0)


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
                        field="volumes", fix="stack the cached volumes, row i = scan i of the table")
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


def _run_key(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _prepare_out_dir(out_dir: Path, payload: dict[str, Any], resume: bool) -> Path | None:
    """Write ``run.json``; return the checkpoint to resume from, if any (refuse a mismatched one)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    last = out_dir / CHECKPOINT_DIR / f"{LAST_NAME}.ckpt"
    key = _run_key(payload)
    run_file = out_dir / "run.json"
    if resume and last.is_file():
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


def run_trainer(module: _EpochRecorder, out_dir: Path, epochs: int, precision: str, ckpt_path: Path | None,
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
        trainer.fit(module, ckpt_path=ckpt_path, weights_only=False)
    return {
        "precision": resolved, "accelerator": type(trainer.accelerator).__name__,
        "devices": trainer.num_devices, "world_size": trainer.world_size,
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


def fit_contrastive(volumes: np.ndarray, scans: pd.DataFrame, train_rows: Any, val_rows: Any,
                    settings: ContrastiveTrainSettings | None = None, out_dir: Path | str = "contrastive",
                    resume: bool = True, progress: bool = True, devices: int | str = 1, strategy: str = "auto",
                    num_workers: int = 0, accelerator: str = "auto", tune_malloc: bool = True) -> FitResult:
    """Train the ClinImCL encoder on training subjects; choose the epoch on validation subjects.

    Parameters
    ----------
    volumes
        ``(N, S, S, S)`` preprocessed volumes, float16 or float32, in memory or
        memory-mapped; row ``i`` is scan ``i`` of ``scans``. Batches are
        converted to float32 on the training device.
    scans
        The scan table (``subject``, ``visit`` …), one row per volume.
    train_rows, val_rows
        Row positions of the training and validation scans; they must not
        share a subject. Training uses subjects with >= 2 training scans;
        validation needs at least one subject with >= 2 scans.
    settings
        :class:`ContrastiveTrainSettings` (default: paper 004's).
    out_dir
        Run folder (checkpoints, curves, timing, batch log).
    resume
        Continue from ``out_dir/checkpoints/last.ckpt`` when it exists (same
        settings and split required); False starts afresh.
    progress
        Show Lightning's progress bar (Rich when available).
    devices, strategy, accelerator
        Passed to :class:`lightning.Trainer` (``devices=2, strategy="ddp_spawn"``
        runs two processes; negatives are gathered across them).
    num_workers
        Data-loader worker processes per training process (0: load in the
        training process, the fastest choice on two cores for in-memory volumes).
    tune_malloc
        Apply :func:`~alignome.training.lightning_io.tune_glibc_malloc` in
        every training process (about 2x faster CPU steps at 96³).

    Returns
    -------
    FitResult
        Best-epoch model, curves, checkpoint and timing.
    """
    settings = settings or ContrastiveTrainSettings()
    out_dir = Path(out_dir)
    train, val = check_inputs(volumes, scans, train_rows, val_rows)
    payload = {
        "trainer": "contrastive", "settings": settings.to_dict(), "volumes_shape": list(volumes.shape),
        "train_rows": _run_key({"r": train.tolist()}), "val_rows": _run_key({"r": val.tolist()}),
        "scan_ids": _run_key({"s": scans["scan_id"].astype(str).tolist()}) if "scan_id" in scans else None,
    }
    payload["settings"].pop("epochs")  # more epochs may be asked of a resumed run
    last = _prepare_out_dir(out_dir, payload, resume)
    L.seed_everything(settings.seed, workers=True, verbose=False)
    module = ContrastiveModule(settings, volumes, scans, train, val, out_dir, num_workers=num_workers,
                               tune_malloc=tune_malloc)
    timer = StepTimer(pair_volume_count, out_file=out_dir / "timing.json")
    ran = run_trainer(module, out_dir, settings.epochs, settings.precision, last, "max", timer, progress,
                      devices, strategy, accelerator)
    state, best_epoch, curves, timing = load_outcome(out_dir)
    model = settings.build_model()
    model.load_state_dict(state)
    model.eval()
    info = {
        **ran, "malloc_tuned": module.malloc_tuned, "form": settings.form,
        "objective": f"InfoNCE ({settings.form})", "num_workers": num_workers, "temperature": model.temperature,
        "resumed_from": str(last) if last else None,
        "selection": "max val_top1 (re-identification on validation subjects), ties: min val_loss",
    }
    return FitResult(model=model, best_epoch=best_epoch, curves=curves, checkpoint=out_dir / CHECKPOINT_DIR /
                     f"{BEST_NAME}.ckpt", timing=timing, info=info)


def read_batch_log(out_dir: Path | str) -> pd.DataFrame:
    """Every training pair of a run: epoch, batch, rank, row_a, row_b, local_pairs, gathered_pairs."""
    files = sorted((Path(out_dir) / "batches").glob("epoch*_rank*.csv"))
    if not files:
        return pd.DataFrame(columns=["epoch", "batch", "rank", "row_a", "row_b", "local_pairs", "gathered_pairs"])
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


@torch.no_grad()
def embed_volumes(model: nn.Module, volumes: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """Normalised embeddings of every volume, without augmentation.

    Parameters
    ----------
    model
        A module whose ``forward(x)["embedding"]`` gives ``(B, d)`` embeddings
        (:class:`~alignome.models.cnn3d.ContrastiveEncoder3D` or the supervised
        reference); it runs in eval mode on its own device and is returned to
        its previous mode afterwards.
    volumes
        ``(N, S, S, S)`` array, float16 or float32 (memory-mapped is fine).
    batch_size
        Volumes per forward pass.

    Returns
    -------
    numpy.ndarray
        ``(N, d)`` float32, row ``i`` the embedding of volume ``i``.
    """
    if getattr(volumes, "ndim", 0) != 4:
        raise DataError(f"volumes must be an (N, S, S, S) array, got shape {getattr(volumes, 'shape', None)}",
                        field="volumes")
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        parts = []
        for start in range(0, volumes.shape[0], batch_size):
            x = _take(volumes, np.arange(start, min(start + batch_size, volumes.shape[0]))).to(device).float()
            parts.append(model(x)["embedding"].float().cpu())
        if not parts:  # no volumes: an empty (0, d) array of the model's embedding size
            x = torch.zeros((1, 1, *volumes.shape[1:]), device=device)
            return np.zeros((0, int(model(x)["embedding"].shape[1])), dtype=np.float32)
        return torch.cat(parts).numpy()
    finally:
        model.train(was_training)
