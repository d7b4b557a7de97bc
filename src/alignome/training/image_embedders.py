"""Train the image embedders of paper 003 with one backbone: GEMCONT, SimCLR, VAE, supervised.

* ``clip`` (GEMCONT) — image encoder + projection (z_p) against the linear genotype projector
  (z_g), symmetric CLIP loss (:func:`alignome.objectives.contrastive_loss`) with a learnable
  (or fixed) temperature, SCARF on genotypes, the image augmentation of the use case.
  Ablations by settings: ``projector_init="random"``, ``scarf_p=0``, ``learnable_temperature=False``.
* ``simclr`` — two augmented views of each image, the same loss between the views (the
  cross-view negatives of CLIP; the within-view negatives of NT-Xent are left out).
* ``vae`` — :class:`alignome.models.vae2d.ConvVAE2D` on the same encoder; the embedding is ``mu``.
* ``supervised`` — the same encoder + projection + a linear head regressing a target
  (the latent z: the upper bound), standardised on training rows, MSE, early stopping on a
  held-out share of the training rows (the best epoch's weights are kept).
* ``pixels-pca`` — no network: PCA of the training images' raw pixels to ``embedding_dim``
  components (:mod:`alignome.training.pixel_pca`), the linear baseline.

All use AdamW (lr 3e-4, weight decay 1e-4 by default) with a warm-up + cosine schedule per
step, fixed seeds (weights, batch order, augmentation and SCARF draws from their own
generators), and only the ``train_rows`` they are given: nothing else is read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import Tensor, nn

from alignome.imaging.augment2d import Augment2D
from alignome.models.attention_pool import FrozenBackboneEncoder, load_backbone
from alignome.models.cnn2d import CNN2DEncoder, ImageEmbedder
from alignome.models.genotype_projector import GenotypeProjector, ProjectorInit
from alignome.models.vae2d import ConvVAE2D
from alignome.objectives.contrastive import ContrastiveForm, contrastive_loss
from alignome.models.temperature import Temperature
from alignome.training._state import make_adamw, snapshot
from alignome.training.holdout import group_holdout
from alignome.training.pixel_pca import PixelPCA, fit_pixel_pca
from alignome.training.scarf import scarf_corrupt
from alignome.training.training_speed import TrainingSpeed
from alignome.training.schedule import warmup_cosine

EmbedderKind = Literal["clip", "simclr", "vae", "supervised", "pixels-pca"]


@dataclass(frozen=True)
class EmbedderSettings:
    """How one embedder is built and trained (defaults: paper 003 where it says)."""

    kind: EmbedderKind = "clip"
    widths: tuple[int, ...] = (16, 32, 64)
    pool_size: int = 2
    embedding_dim: int = 32
    epochs: int = 10
    batch_size: int = 256
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warmup_epochs: int = 1
    temperature: float = 0.07
    learnable_temperature: bool = True
    form: ContrastiveForm = "decoupled"
    projector_init: ProjectorInit = "effects"
    scarf_p: float = 0.1
    augment: Augment2D = field(default_factory=Augment2D)
    val_fraction: float = 0.1
    patience: int = 5
    seed: int = 0
    backbone_checkpoint: str | None = None


@dataclass
class FittedEmbedder(TrainingSpeed):
    """A trained embedder and what its training did."""

    settings: EmbedderSettings
    model: nn.Module
    curve: list[dict[str, float]]
    seconds: float
    data_seconds: float
    images_seen: int
    temperature: float | None = None
    best_epoch: int | None = None

    @torch.no_grad()
    def embed(self, images: np.ndarray, rows: np.ndarray | None = None, batch_size: int = 512) -> np.ndarray:
        """Embeddings (``projection`` or the VAE's ``mu``) of ``images[rows]``, no augmentation."""
        self.model.eval()
        rows = np.arange(len(images)) if rows is None else np.asarray(rows)
        out = []
        for start in range(0, len(rows), batch_size):
            x = as_batch(images, rows[start:start + batch_size])
            out.append(self.model.encode(x)[0] if isinstance(self.model, ConvVAE2D) else self.model(x)["projection"])
        return torch.cat(out).numpy() if out else np.zeros((0, self.settings.embedding_dim), np.float32)


def as_batch(images: np.ndarray, rows: np.ndarray) -> Tensor:
    """``(B, 1, H, W)`` float32 in [0, 1] (uint8 images are divided by 255) or ``(B, C, H, W)`` as given."""
    x = torch.as_tensor(np.asarray(images[rows]))
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    return x.unsqueeze(1) if x.ndim == 3 else x


class _ContrastivePair(nn.Module):
    """The image embedder, its contrastive partner (genotype projector, or none) and their temperature: one
    module, so that one optimiser trains all three; the training loop calls the parts, never the whole."""

    def __init__(self, image: ImageEmbedder, genotype: nn.Module, temperature: Temperature) -> None:
        super().__init__()
        self.image, self.genotype, self.temperature = image, genotype, temperature


def build_image_embedder(s: EmbedderSettings, in_channels: int = 1) -> ImageEmbedder:
    """The shared backbone: :class:`CNN2DEncoder` + 2-layer projection to ``embedding_dim``.

    With ``backbone_checkpoint`` the CNN's weights come from that file and stay frozen; its
    feature map is attention-pooled and passed through a 2-layer head
    (:class:`alignome.models.attention_pool.FrozenBackboneEncoder`) before the projection.
    """
    encoder = CNN2DEncoder(s.widths, in_channels=in_channels, pool_size=s.pool_size)
    if s.backbone_checkpoint is not None:
        frozen = FrozenBackboneEncoder(load_backbone(encoder, s.backbone_checkpoint), out_dim=encoder.channels)
        return ImageEmbedder(frozen, frozen.out_dim, s.embedding_dim)
    return ImageEmbedder(encoder, encoder.out_dim, s.embedding_dim)


def fit_embedder(
    settings: EmbedderSettings,
    images: np.ndarray,
    train_rows: np.ndarray,
    *,
    genotypes: np.ndarray | None = None,
    effects: np.ndarray | None = None,
    target: np.ndarray | None = None,
    progress: bool = False,
) -> FittedEmbedder | PixelPCA:
    """Train one embedder on ``images[train_rows]`` (and the same rows of ``genotypes``/``target``).

    Parameters
    ----------
    settings
        Which embedder and how.
    images
        ``(n, H, W)`` (grayscale, uint8 or float in [0, 1]) or ``(n, C, H, W)``.
    train_rows
        The rows it may see; every other row stays unread.
    genotypes, effects
        ``(n, S)`` allele counts and the panel's S effect sizes (``clip``).
    target
        ``(n,)`` regression target (``supervised``).
    progress
        Show a progress bar over epochs.
    """
    s = settings
    if s.kind == "pixels-pca":
        return fit_pixel_pca(images, train_rows, s.embedding_dim, s.seed)
    torch.manual_seed(s.seed)
    train_rows = np.asarray(train_rows)
    in_channels = 1 if np.asarray(images[:1]).ndim == 3 else int(images.shape[1])
    val_rows = np.zeros(0, dtype=np.intp)
    if s.kind == "supervised":
        if target is None:
            raise ValueError("the supervised embedder needs a target")
        fit_idx, val_idx = group_holdout(np.arange(len(train_rows)), s.val_fraction, s.seed)
        train_rows, val_rows = train_rows[fit_idx], train_rows[val_idx]
        mean, sd = float(np.mean(target[train_rows])), float(np.std(target[train_rows])) or 1.0
        y_all = torch.as_tensor((np.asarray(target, dtype=np.float64) - mean) / sd, dtype=torch.float32)
    if s.kind == "vae":
        model: nn.Module = ConvVAE2D(images.shape[-1], s.widths, s.embedding_dim, in_channels, s.pool_size)
    else:
        model = build_image_embedder(s, in_channels)
    contrastive = s.kind in ("clip", "simclr")
    temp = Temperature(s.temperature, s.learnable_temperature) if contrastive else None
    if s.kind == "clip":
        if genotypes is None:
            raise ValueError("the genotype-image CLIP embedder needs genotypes")
        g_all = torch.as_tensor(np.asarray(genotypes, dtype=np.float32))
        projector = GenotypeProjector(g_all.shape[1], s.embedding_dim, s.projector_init, effects,
                                      center=g_all[torch.as_tensor(train_rows)].mean(0).numpy(), seed=s.seed)
        model = _ContrastivePair(model, projector, temp)
    elif s.kind == "simclr":
        model = _ContrastivePair(model, nn.Identity(), temp)  # holds the temperature with the encoder
    elif s.kind == "supervised":
        model = nn.ModuleDict({"image": model, "head": nn.Linear(s.embedding_dim, 1)})
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_adamw(params, s.lr, s.weight_decay)
    min_batch = 2 if contrastive else 1
    steps_per_epoch = max(1, len(train_rows) // s.batch_size + (len(train_rows) % s.batch_size >= min_batch))
    sched = warmup_cosine(opt, s.warmup_epochs * steps_per_epoch, s.epochs * steps_per_epoch)
    gen_order = torch.Generator().manual_seed(s.seed + 1)
    gen_aug = torch.Generator().manual_seed(s.seed + 2)
    gen_noise = torch.Generator().manual_seed(s.seed + 3)

    curve: list[dict[str, float]] = []
    best = (float("inf"), None, -1)
    data_s = compute_s = 0.0
    seen = 0
    bar = Progress(TextColumn(f"{s.kind}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), disable=not progress)
    with bar:
        task = bar.add_task("epochs", total=s.epochs)
        for epoch in range(s.epochs):
            model.train()
            order = train_rows[torch.randperm(len(train_rows), generator=gen_order).numpy()]
            total, count = 0.0, 0
            for start in range(0, len(order), s.batch_size):
                rows = np.sort(order[start:start + s.batch_size])
                if len(rows) < min_batch:
                    continue
                t0 = time.perf_counter()
                x = as_batch(images, rows)
                if s.kind == "simclr":
                    views = (s.augment(x, gen_aug), s.augment(x, gen_aug))
                else:
                    x = s.augment(x, gen_aug) if s.kind in ("clip", "supervised") else x
                if s.kind == "clip":
                    g = scarf_corrupt(g_all[torch.as_tensor(rows)], s.scarf_p, gen_noise).values
                t1 = time.perf_counter()
                if s.kind == "clip":
                    loss = contrastive_loss(model.image(x)["z"], model.genotype(g), logit_scale=temp(), form=s.form)["loss"]
                elif s.kind == "simclr":
                    loss = contrastive_loss(model.image(views[0])["z"], model.image(views[1])["z"], logit_scale=temp(),
                                            form=s.form)["loss"]
                elif s.kind == "vae":
                    loss = model.loss(x, gen_noise)
                else:
                    loss = F.mse_loss(_regression(model, x), y_all[torch.as_tensor(rows)])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                data_s += t1 - t0
                compute_s += time.perf_counter() - t1
                seen += len(rows)
                total += float(loss.detach()) * len(rows)
                count += len(rows)
            row = {"epoch": epoch + 1, "train_loss": total / max(count, 1), "lr": sched.get_last_lr()[0]}
            if contrastive:
                row["temperature"] = temp.value
            stop = False
            if s.kind == "supervised" and len(val_rows):
                val = _supervised_val_loss(model, images, val_rows, y_all)
                row["val_loss"] = val
                if val < best[0]:
                    best = (val, snapshot(model), epoch + 1)
                else:
                    stop = epoch + 1 - best[2] >= s.patience
            curve.append(row)
            bar.advance(task)
            if stop:
                break
    best_epoch = None
    if best[1] is not None:
        model.load_state_dict(best[1])
        best_epoch = best[2]
    image_model = model["image"] if s.kind == "supervised" else (model if s.kind == "vae" else model.image)
    return FittedEmbedder(settings=s, model=image_model, curve=curve, seconds=data_s + compute_s, data_seconds=data_s,
                          images_seen=seen, temperature=temp.value if contrastive else None,
                          best_epoch=best_epoch)


def _regression(model: nn.ModuleDict, x: Tensor) -> Tensor:
    """The supervised embedder's prediction of the (standardised) target: a linear head on the projection."""
    return model["head"](model["image"](x)["projection"]).squeeze(1)


@torch.no_grad()
def _supervised_val_loss(model: nn.ModuleDict, images: np.ndarray, rows: np.ndarray, y: Tensor) -> float:
    model.eval()
    total = 0.0
    for start in range(0, len(rows), 512):
        r = rows[start:start + 512]
        total += float(F.mse_loss(_regression(model, as_batch(images, r)), y[torch.as_tensor(r)], reduction="sum"))
    model.train()
    return total / len(rows)
