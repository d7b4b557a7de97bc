"""Train the encoders a ``longitudinal-mri`` run compares: ClinImCL and its references."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from alignome.recipes.longitudinal_mri.methods import CONTRASTIVE
from alignome.recipes.longitudinal_mri.schema import LongitudinalMRIRecipe
from alignome.training.lightning_io import quiet_lightning
from alignome.training.lightning_runs import last_checkpoint
from alignome.training.contrastive3d import ContrastiveTrainSettings, fit_contrastive
from alignome.training.ranks import is_main_process, launched_rank

FORM_TEXT = {
    "standard": "standard InfoNCE (positive in the denominator), symmetric over the two visits",
    "decoupled": "decoupled InfoNCE (positive not in the denominator), symmetric over the two visits",
}


@dataclass
class TrainedEncoders:
    """Encoders of a run by method name, their training curves, timings and speed (empty outside the main process)."""

    models: dict[str, nn.Module]
    curves: pd.DataFrame
    timings_s: dict[str, float] = field(default_factory=dict)
    speed: dict[str, Any] = field(default_factory=dict)
    description: dict[str, Any] = field(default_factory=dict)
    main_process: bool = True  # False in the other processes of a multi-process launch: they only train


def contrastive_settings(recipe: LongitudinalMRIRecipe) -> ContrastiveTrainSettings:
    """Training settings of the contrastive encoder from a recipe."""
    m = recipe.method
    return ContrastiveTrainSettings(
        epochs=m.epochs,
        batch_size=m.batch_size,
        fraction=m.subject_fraction,
        lr=m.lr,
        weight_decay=m.weight_decay,
        temperature=m.temperature,
        learnable_temperature=m.learnable_temperature,
        widths=tuple(m.widths),
        embedding_dim=m.embedding_dim,
        pool_size=m.pool_size,
        form=m.contrastive_form,
        augment=m.augment,
        seed=recipe.seed,
        precision=m.precision,
        select_by=m.select_by,
    )


def _curves(fit: Any, method: str) -> pd.DataFrame:
    return fit.curves.assign(method=method, fold="val", kept=fit.curves["epoch"] == fit.best_epoch)


class EncoderFeatures(nn.Module):
    """View of a contrastive model that embeds with its pooled encoder features (unit norm).

    The supervised reference embeds this way; evaluating ClinImCL and the untrained
    network the same way compares like with like.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"embedding": F.normalize(self.model.encoder(x).float(), dim=1)}


def untrained_encoder(settings: ContrastiveTrainSettings) -> nn.Module:
    """The contrastive model at its seeded initialisation: what training has to beat."""
    torch.manual_seed(settings.seed)
    return settings.build_model().eval()


def _log_resume(folder: Path, what: str, log: logging.Logger) -> None:
    """Say in the log that ``what`` resumes from the checkpoint a previous run left in ``folder``."""
    last = last_checkpoint(folder)
    if last is not None:
        log.info("resuming %s training from %s (a finished training only reloads its best epoch)", what, last)


def train_encoders(
    volumes: np.ndarray,
    scans: pd.DataFrame,
    rows: dict[str, np.ndarray],
    recipe: LongitudinalMRIRecipe,
    ckpt_dir: Path,
    log: logging.Logger,
) -> TrainedEncoders:
    """Fit ClinImCL and the references the recipe asks for, on training subjects only.

    Parameters
    ----------
    volumes
        Preprocessed volumes ``(N, S, S, S)`` (an array or the memory-mapped cache view);
        row ``i`` is scan ``i`` of ``scans``.
    scans
        The scan table.
    rows
        Row positions of the ``train``, ``val`` and ``test`` subjects.
    recipe
        The run's recipe.
    ckpt_dir
        Folder of the Lightning checkpoints (one subfolder per encoder); a rerun resumes.
    log
        The run's logger.
    """
    quiet_lightning()
    settings = contrastive_settings(recipe)
    out = TrainedEncoders(models={}, curves=pd.DataFrame())
    t0 = time.perf_counter()
    strategy = recipe.method.strategy
    if strategy == "auto" and recipe.method.devices > 1 and not torch.cuda.is_available():
        strategy = "ddp_spawn"  # Lightning's "ddp" launcher would re-run the whole command in each process
    _log_resume(ckpt_dir / "contrastive", "ClinImCL", log)
    fit = fit_contrastive(
        volumes, scans, rows["train"], rows["val"], settings, ckpt_dir / "contrastive",
        resume=True, progress=True, devices=recipe.method.devices, strategy=strategy,
    )
    out.timings_s["pretrain_contrastive"] = time.perf_counter() - t0
    if not is_main_process(fit.info.get("global_rank", 0)):
        out.main_process = False
        log.info("process of rank %d: training done; the main process trains the references, evaluates and "
                 "writes the results", max(launched_rank(), fit.info.get("global_rank", 0)))
        return out
    out.models[CONTRASTIVE] = fit.model
    curves = [_curves(fit, CONTRASTIVE)]
    log.info("ClinImCL: best epoch %d of %d (%s)", fit.best_epoch, settings.epochs, fit.info["selection"])
    out.speed = {k: v for k, v in fit.timing.items()}
    n_params = sum(p.numel() for p in fit.model.parameters())
    out.description = {
        "widths": list(settings.widths),
        "embedding_dim": settings.embedding_dim,
        "parameters": int(n_params),
        "temperature": settings.temperature,
        "learnable_temperature": settings.learnable_temperature,
        "loss": FORM_TEXT[settings.form],
        "best_epoch": int(fit.best_epoch),
        "selection": fit.info["selection"],
        "epochs": settings.epochs,
        "input_size": int(volumes.shape[-1]),
        "training": fit.info,
    }

    out.models[f"{CONTRASTIVE}:features"] = EncoderFeatures(fit.model)
    if "untrained" in recipe.protocol.references:
        out.models["untrained"] = untrained_encoder(settings)
        out.models["untrained:features"] = EncoderFeatures(out.models["untrained"])
    if "supervised" in recipe.protocol.references:
        from alignome.training.supervised3d import fit_supervised

        sup_settings = dataclasses.replace(settings, epochs=recipe.protocol.supervised_epochs or settings.epochs)
        t0 = time.perf_counter()
        _log_resume(ckpt_dir / "supervised", "supervised reference", log)
        sup = fit_supervised(volumes, scans, rows["train"], rows["val"], sup_settings, ckpt_dir / "supervised")
        out.timings_s["train_supervised"] = time.perf_counter() - t0
        out.models["supervised"] = sup.model
        curves.append(_curves(sup, "supervised"))
        log.info("supervised reference: best epoch %d of %d (validation loss)", sup.best_epoch, sup_settings.epochs)
    out.curves = pd.concat(curves, ignore_index=True)
    return out
