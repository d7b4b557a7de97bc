"""Pretraining the two-modality network of paper 001 on pairs of volumes: a plain, resumable, seeded loop.

RAdam (lr 4e-4) under a OneCycle schedule (peak 0.01); batches drawn by a class-balanced sampler
(each class, unlabelled subjects included, equally likely); each pair flipped and cropped at random,
the two modalities of a pair alike so that locations still match across them. A checkpoint is
written atomically after each epoch and a rerun with the same key resumes after the last one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from alignome.checkpoint import load_checkpoint, save_checkpoint
from alignome.imaging.augment import AugmentSettings, augment_batch
from alignome.models.dim import MultimodalDIM
from alignome.objectives.dim import DIMObjective


@dataclass(frozen=True)
class PretrainSettings:
    """Optimiser, schedule, batches and augmentation (paper 001, section 3.2, where it says)."""

    epochs: int = 200
    batch_size: int = 64
    lr: float = 4e-4
    max_lr: float = 0.01
    crop_pad: int = 4
    flip_p: float = 0.5
    latent_dim: int = 64
    base_width: int = 16


@dataclass
class PretrainResult:
    """The trained network (eval mode, CPU), its per-epoch curves and speed figures."""

    model: MultimodalDIM
    curves: pd.DataFrame
    speed: dict[str, float] = field(default_factory=dict)


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """Sampling weight of each pair: ``1 / count`` of its class, so every class is drawn equally often."""
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def crop_shift(x: Tensor, pad: int, generator: torch.Generator) -> Tensor:
    """Random crops: pad each sample by ``pad`` voxels (edge values) and cut its original size at a random offset."""
    if pad <= 0:
        return x
    size = x.shape[2:]
    padded = F.pad(x, (pad,) * 6, mode="replicate")
    offsets = torch.randint(0, 2 * pad + 1, (x.shape[0], 3), generator=generator)
    return torch.stack([padded[i, :, a:a + size[0], b:b + size[1], c:c + size[2]]
                        for i, (a, b, c) in enumerate(offsets.tolist())])


def build_model(objective: DIMObjective, size: int, settings: PretrainSettings) -> MultimodalDIM:
    """The network an objective needs (decoders, variational encoders, diagnosis heads)."""
    needs = objective.needs
    return MultimodalDIM(size=size, latent_dim=settings.latent_dim, base_width=settings.base_width,
                         decoders=needs.decoders, variational=needs.variational, classifier=needs.classifier)


def pretrain(volumes: tuple[np.ndarray, np.ndarray], labels: np.ndarray, objective: DIMObjective,
             settings: PretrainSettings, seed: int, checkpoint: Path | None = None, key: str = "",
             log: logging.Logger | None = None, progress: bool = True) -> PretrainResult:
    """Train on pairs ``volumes[0][n]``, ``volumes[1][n]`` ``(N, s, s, s)`` with class ``labels[n]``.

    ``labels`` holds 1 (AD), 0 (HC) or -1 (another diagnosis or none: pretraining only, its own class
    for the sampler). ``checkpoint`` (with ``key``, the hash of everything that shaped the run) is read
    to resume and written after each epoch.
    """
    n, size = len(labels), volumes[0].shape[-1]
    if n < 2:
        raise ValueError(f"pretraining needs at least 2 pairs, got {n}")
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # CPU runs are the deterministic ones
    model = build_model(objective, size, settings).to(device)
    optimiser = torch.optim.RAdam(model.parameters(), lr=settings.lr)
    batch = min(settings.batch_size, n)
    steps = -(-n // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=settings.max_lr, epochs=settings.epochs,
                                                   steps_per_epoch=steps)
    generator = torch.Generator().manual_seed(seed)
    state = load_checkpoint(checkpoint, key) if checkpoint is not None else None
    rows: list[dict[str, float]] = []
    start = 0
    if state is not None:
        model.load_state_dict({k: v.to(device) for k, v in state["model"].items()})
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        generator.set_state(state["generator"])
        rows, start = state["rows"], state["epoch"]
        if log:
            log.info("%s: resuming after epoch %d of %d", objective.name, start, settings.epochs)
    weights = torch.as_tensor(balanced_weights(labels))
    flips = AugmentSettings(flip_p=settings.flip_p, flip_axes=(0,), rotate_deg=0.0, scale=0.0, translate_vox=0.0,
                            intensity_scale=0.0, intensity_shift=0.0)
    x_all = torch.from_numpy(np.stack(volumes, axis=1))  # (N, 2, s, s, s): a pair is augmented as one
    y_all = torch.tensor(np.asarray(labels), dtype=torch.long)
    wait = busy = 0.0
    trained_pairs = 0
    for epoch in tqdm(range(start, settings.epochs), desc=f"pretrain {objective.name}", disable=not progress,
                      initial=start, total=settings.epochs):
        model.train()
        t_epoch = time.perf_counter()
        order = torch.multinomial(weights, steps * batch, replacement=True, generator=generator)
        totals: dict[str, float] = {}
        for step in range(steps):
            t0 = time.perf_counter()
            idx = order[step * batch:(step + 1) * batch]
            x = crop_shift(augment_batch(x_all[idx], flips, generator), settings.crop_pad, generator).to(device)
            t1 = time.perf_counter()
            terms = objective(model, x[:, :1], x[:, 1:], y_all[idx].to(device))
            optimiser.zero_grad(set_to_none=True)
            terms["loss"].backward()
            optimiser.step()
            schedule.step()
            wait, busy = wait + t1 - t0, busy + time.perf_counter() - t1
            trained_pairs += len(idx)
            for name, value in terms.items():
                totals[name] = totals.get(name, 0.0) + float(value.detach()) / steps
        rows.append({"epoch": epoch + 1, **totals, "seconds": time.perf_counter() - t_epoch})
        if not np.isfinite(totals["loss"]) and log:
            log.warning("%s: loss is not finite at epoch %d", objective.name, epoch + 1)
        if checkpoint is not None:
            save_checkpoint(checkpoint, key, {"model": {k: v.cpu() for k, v in model.state_dict().items()}, "optimiser": optimiser.state_dict(),
                                              "schedule": schedule.state_dict(), "generator": generator.get_state(),
                                              "rows": rows, "epoch": epoch + 1})
    model.cpu().eval()
    speed = {"train_pairs_per_s": trained_pairs / (wait + busy) if wait + busy > 0 else float("nan"),
             "data_wait_share": wait / (wait + busy) if wait + busy > 0 else float("nan")}
    return PretrainResult(model=model, curves=pd.DataFrame(rows), speed=speed)


@torch.no_grad()
def embed(model: MultimodalDIM, modality: int, volumes: np.ndarray, batch: int = 16) -> np.ndarray:
    """Latents ``(N, d)`` of one modality's volumes ``(N, s, s, s)`` (the mean for a variational encoder)."""
    model.eval()
    encoder = model.latent_encoder(modality)  # the latents alone: no decoder or heads to run
    out = [encoder(torch.from_numpy(volumes[i:i + batch])[:, None]) for i in range(0, len(volumes), batch)]
    return torch.cat(out).numpy().astype(np.float64) if out else np.zeros((0, model.latent_dim))
