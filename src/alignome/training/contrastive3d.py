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
epoch is chosen on the *validation subjects* (``select_by``): by default the
lowest validation InfoNCE over consecutive-visit pairs at the configured
temperature (the objective being trained, held out), ties broken by the higher
re-identification top-1; or by re-identification top-1 (is the nearest other
scan the same subject?), ties broken by the lower loss.

Files under ``out_dir``: ``checkpoints/``, ``curves.csv`` (epoch, train_loss,
val_loss, val_top1, seconds), ``timing.json`` (see
:class:`~alignome.training.lightning_io.StepTimer`), ``run.json`` (the
settings; a resume with different settings is refused) and
``batches/epoch*_rank*.csv`` (the pairs each process trained on, with local
and gathered batch sizes; read with
:func:`~alignome.training.lightning_runs.read_batch_log`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from alignome.imaging.augment import AugmentSettings, augment_batch
from alignome.models.cnn3d import ContrastiveEncoder3D
from alignome.objectives.contrastive import contrastive_loss
from alignome.training.distributed import gather_with_grad
from alignome.training.lightning_io import (
    StepTimer,
)
from alignome.training.epoch_selection import (
    SELECTION_RULES,
    consecutive_rounds,
    is_better,
    reidentification_top1,
    validation_loss,
)
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
from alignome.training.visit_pairs import VisitPairBatches
from alignome.training.volume_batches import (
    PairVolumes,
    batch_generator,
    keep_batch,
    pair_volume_count,
    scan_loader,
)

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
    select_by
        What chooses the kept epoch on the validation subjects (:data:`SELECTION_RULES`):
        ``"val_loss"``, the training objective on held-out subjects, or ``"val_top1"``,
        their re-identification top-1 with the projection.
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
    select_by: str = "val_loss"

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
        if self.select_by not in SELECTION_RULES:
            raise ValueError(f"select_by must be one of {sorted(SELECTION_RULES)}, got {self.select_by!r}")

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


class ContrastiveModule(EpochRecorder):
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
        return DataLoader(PairVolumes(self.volumes, self.train_rows), batch_sampler=sampler, collate_fn=keep_batch,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
                          pin_memory=torch.cuda.is_available())

    def val_dataloader(self) -> DataLoader:  # noqa: D102
        return scan_loader(self.volumes, self.val_rows, self.eval_batch_size, pin_memory=torch.cuda.is_available())

    def configure_optimizers(self) -> torch.optim.Optimizer:  # noqa: D102
        return torch.optim.AdamW(decay_param_groups(self.model, self.settings.weight_decay), lr=self.settings.lr)

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
        self._add_train_loss(loss, n)
        self.log("train_loss", loss.detach(), prog_bar=True, on_step=True, on_epoch=False, batch_size=n)
        rows_a, rows_b = batch["rows_a"].cpu().numpy(), batch["rows_b"].cpu().numpy()  # on the CPU already
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
        # the configured temperature, not a learnt one: a sharpening τ must not move the selection loss
        scale = torch.tensor(1.0 / self.settings.temperature)
        loss = validation_loss(emb, self.val_rounds, scale, self.settings.form)
        top1 = reidentification_top1(emb.numpy(), self.val_scans)
        best = [r for r in self.history if r["epoch"] <= self.current_epoch]
        better = all(is_better(top1, loss, r["val_top1"], r["val_loss"], self.settings.select_by) for r in best)
        self._val = {"val_loss": loss, "val_top1": top1}
        self.log("val_loss", loss if not math.isnan(loss) else float("inf"), sync_dist=self.trainer.world_size > 1)
        self.log("val_top1", top1, prog_bar=True, sync_dist=self.trainer.world_size > 1)
        self._log_selection(float(self.current_epoch + 1) if better else 0.0)



def fit_contrastive(volumes: np.ndarray, scans: pd.DataFrame, train_rows: Any, val_rows: Any,
                    settings: ContrastiveTrainSettings | None = None, out_dir: Path | str = "contrastive",
                    resume: bool = True, progress: bool = True, devices: int | str = 1, strategy: str = "auto",
                    num_workers: int = 0, accelerator: str = "auto", tune_malloc: bool = True) -> FitResult:
    """Train the ClinImCL encoder on training subjects; choose the epoch on validation subjects.

    Parameters
    ----------
    volumes
        ``(N, S, S, S)`` preprocessed volumes, float16 or float32: an array, or a
        :class:`~alignome.imaging.cached_volumes.CachedVolumes` that reads each
        batch from the memory-mapped cache and pickles as file paths (what
        ``ddp_spawn`` and loader workers receive); row ``i`` is scan ``i`` of
        ``scans``. Batches are converted to float32 on the training device.
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
        every training process (CPU steps at 96³ otherwise page-fault their activations afresh).

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
        "train_rows": run_key({"r": train.tolist()}), "val_rows": run_key({"r": val.tolist()}),
        "scan_ids": run_key({"s": scans["scan_id"].astype(str).tolist()}) if "scan_id" in scans else None,
    }
    payload["settings"].pop("epochs")  # more epochs may be asked of a resumed run
    last = prepare_out_dir(out_dir, payload, resume)
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
        "selection": SELECTION_RULES[settings.select_by],
    }
    return FitResult(model=model, best_epoch=best_epoch, curves=curves, checkpoint=out_dir / CHECKPOINT_DIR /
                     f"{BEST_NAME}.ckpt", timing=timing, info=info)

