"""Lightning plumbing shared by the 3D trainers: atomic checkpoints, step timing, precision.

* :class:`AtomicCheckpointIO` writes every checkpoint to a temporary file in
  the target folder, flushes it to disk and renames it over the target with
  :func:`os.replace`, so a crash during a save leaves the previous checkpoint
  (``last.ckpt``, ``best.ckpt``) intact.
* :class:`StepTimer` records, per training step, the time spent waiting for
  the data loader and the time spent computing, and summarises them as
  training volumes per second and the data-wait share.
"""

from __future__ import annotations

import ctypes
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from alignome.checkpoint import atomic_write_bytes


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoint IO that never leaves a half-written checkpoint behind.

    Lightning's default writes through fsspec; this plugin saves with
    :func:`torch.save` into ``.<name>.<random>.tmp`` beside the target, calls
    ``fsync`` and then :func:`os.replace` (atomic on POSIX and Windows within
    one file system). On any exception the temporary file is removed and the
    previous checkpoint is untouched.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        """Save ``checkpoint`` to ``path`` atomically (``storage_options`` is not supported)."""
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not support storage_options")
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)  # a failure here leaves the previous checkpoint untouched
        atomic_write_bytes(Path(path), buffer.getvalue())


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and :func:`os.replace`."""
    atomic_write_bytes(Path(path), text.encode("utf-8"))


#: glibc ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def tune_glibc_malloc(mmap_threshold: int = 1 << 30, trim_threshold: int = 1 << 31, top_pad: int = 256 << 20) -> bool:
    """Let glibc reuse freed large blocks instead of unmapping and re-faulting them.

    3D training allocates and frees tensors of tens of MB every step (a batch
    of 16 volumes at 96³ is 56 MB in float32). glibc serves such blocks with
    ``mmap`` and returns them with ``munmap``, so every step page-faults its
    activations afresh, which dominates the forward + backward time of the
    default encoder at 96³ on two CPU cores (``benchmarks/cnn3d_throughput.py``).
    Raising the mmap and trim thresholds keeps the memory in the heap for
    reuse. The process then holds on to its peak memory until it exits.

    Returns
    -------
    bool
        True when applied (Linux with glibc), False elsewhere (no effect).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    settings = ((_M_MMAP_THRESHOLD, mmap_threshold), (_M_TRIM_THRESHOLD, trim_threshold), (_M_TOP_PAD, top_pad))
    return all(mallopt(param, int(value)) == 1 for param, value in settings)


def resolve_precision(precision: str) -> str:
    """Lightning precision string for a requested one.

    ``"auto"`` gives ``"bf16-mixed"`` on a CUDA GPU that supports bfloat16,
    ``"16-mixed"`` on other CUDA GPUs and ``"32-true"`` without CUDA; any
    other value is passed through unchanged.
    """
    if precision != "auto":
        return precision
    if torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "32-true"


class StepTimer(L.Callback):
    """Per-step data-wait and compute times of the training loop.

    The data wait of step ``i`` is the time from the end of step ``i - 1``
    (or the start of the epoch) to the start of step ``i``: the loader fetch
    plus Lightning's own bookkeeping between steps. The compute time runs from
    the start to the end of the step (forward, augmentation, loss, backward,
    optimiser). Epoch time is the training part of the epoch only (validation
    excluded).

    Parameters
    ----------
    volumes_per_step
        Callable ``batch -> int`` counting the volumes a batch holds on this
        process (2 per pair for contrastive training).
    out_file
        When given, rank 0 writes :meth:`summary` there as JSON after every
        epoch (so ``ddp_spawn`` runs can return it to the main process).
    """

    def __init__(self, volumes_per_step: Any, out_file: Path | None = None) -> None:
        super().__init__()
        self._count = volumes_per_step
        self.out_file = Path(out_file) if out_file is not None else None
        self.epochs: list[dict[str, Any]] = []
        self._prev_end = 0.0
        self._step_start = 0.0
        self._epoch_start = 0.0
        self._current: dict[str, Any] = {}
        self.world_size = 1

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:  # noqa: D102
        self.world_size = trainer.world_size
        now = time.perf_counter()
        self._epoch_start = self._prev_end = now
        self._current = {"epoch": trainer.current_epoch + 1, "wait": [], "compute": [], "volumes": 0, "end": now}

    def on_train_batch_start(  # noqa: D102
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        now = time.perf_counter()
        self._current["wait"].append(now - self._prev_end)
        self._step_start = now

    def on_train_batch_end(  # noqa: D102
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        now = time.perf_counter()
        self._current["compute"].append(now - self._step_start)
        self._current["volumes"] += int(self._count(batch))
        self._current["end"] = now
        self._prev_end = now

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:  # noqa: D102
        cur = self._current
        self.epochs.append(
            {
                "epoch": cur["epoch"],
                "seconds": cur["end"] - self._epoch_start,
                "wait": float(np.sum(cur["wait"])),
                "compute": float(np.sum(cur["compute"])),
                "steps": len(cur["compute"]),
                "volumes": cur["volumes"] * trainer.world_size,
            }
        )
        if self.out_file is not None and trainer.is_global_zero:
            atomic_write_text(self.out_file, json.dumps(self.summary(), indent=1))

    def summary(self) -> dict[str, Any]:
        """Throughput over the epochs after the first one this process ran.

        Returns
        -------
        dict
            ``train_volumes_per_s`` (all ranks together), ``data_wait_share``
            (wait / (wait + compute)), ``epoch_seconds`` (training time of each
            epoch this process ran), ``epochs_measured`` (which epochs the two
            rates use: all but the first, or the only one), ``steps`` and
            ``world_size``.
        """
        use = self.epochs[1:] if len(self.epochs) > 1 else self.epochs
        seconds = sum(e["seconds"] for e in use)
        wait = sum(e["wait"] for e in use)
        compute = sum(e["compute"] for e in use)
        return {
            "train_volumes_per_s": (sum(e["volumes"] for e in use) / seconds) if seconds > 0 else float("nan"),
            "data_wait_share": (wait / (wait + compute)) if wait + compute > 0 else float("nan"),
            "epoch_seconds": [e["seconds"] for e in self.epochs],
            "epochs_measured": [e["epoch"] for e in use],
            "steps": int(sum(e["steps"] for e in use)),
            "world_size": self.world_size,
        }


def quiet_lightning() -> None:
    """Silence Lightning's start-up banners (accelerator availability, tips); warnings still show.

    The run records which accelerator and precision were used in ``metrics.json``.
    """
    import logging

    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
