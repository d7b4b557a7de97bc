"""Contrastive + reconstruction pretraining of paper 000's SNP / volume encoders."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from torch import Tensor

from alignome.errors import DataError
from alignome.models.snp_volume import SnpVolumeModel
from alignome.objectives.paired import PairedContrastiveReconstructionLoss
from alignome.training._state import make_adamw, snapshot
from alignome.training.holdout import group_holdout


def _matrix(name: str, x: ArrayLike, n: int | None = None) -> NDArray[np.float32]:
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2:
        raise DataError(f"{name} must be a 2-D array (rows x features), got shape {arr.shape}", field=name)
    if n is not None and arr.shape[0] != n:
        raise DataError(f"{name} has {arr.shape[0]} rows, expected {n}", field=name)
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} contains NaN or infinite values", field=name, fix="impute or drop them before pretraining")
    return arr


def _vector(name: str, x: ArrayLike, n: int) -> NDArray[np.float32]:
    arr = np.asarray(x, dtype=np.float32).reshape(-1)
    if arr.shape[0] != n:
        raise DataError(f"{name} has {arr.shape[0]} values, expected {n}", field=name)
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} contains NaN or infinite values", field=name, fix="impute or drop them before pretraining")
    return arr


@dataclass(frozen=True)
class PretrainSettings:
    """Model, objective and optimisation of paper 000's pretraining (a recipe adapts its schema to this).

    ``contrastive_form`` is ``"decoupled"`` (positive not in the denominator) or ``"standard"``.
    ``same_subject_negatives``: another scan of a row's subject in the batch is a negative
    (True, paper 000's reading) or is left out of the denominator (False).
    A fraction ``val_fraction`` of subjects is held out for early stopping with ``patience``
    epochs on the held-out loss named by ``stop_on``: ``"total"`` (the weighted sum) or
    ``"reconstruction"`` (its reconstruction term only, so that a contrastive term that
    starts to memorise subjects cannot end reconstruction early).
    """

    embedding_dim: int
    hidden: tuple[int, ...]
    dropout: float
    temperature: float
    contrastive_form: str
    same_subject_negatives: bool
    contrastive_weight: float
    reconstruction_weight: float
    age_conditioning: bool
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    patience: int
    val_fraction: float
    stop_on: str

    def __post_init__(self) -> None:
        if self.stop_on not in STOP_RULES:
            raise ValueError(f"stop_on must be one of {STOP_RULES}, got {self.stop_on!r}")


#: Held-out losses early stopping can monitor (see :class:`PretrainSettings`).
STOP_RULES = ("total", "reconstruction")


class ContrastivePretrainer(BaseEstimator):
    """Fit :class:`~alignome.models.SnpVolumeModel` with the paper 000 objective.

    Loss = ``contrastive_weight`` x symmetric contrastive loss (cosine / τ,
    ``settings.contrastive_form``) + ``reconstruction_weight`` x (MSE of SNPs +
    MSE of volumes). Each row is one MRI scan paired with its subject's SNPs
    and the age at that scan; two scans of one subject in a batch are each
    other's negatives, as in the paper.

    A fraction ``settings.val_fraction`` of *subjects* (never
    splitting one) is held out for early stopping on the validation loss; the
    weights of the best epoch are restored.

    Parameters
    ----------
    settings
        Model, objective and optimisation settings.
    seed
        Seeds the weights (``torch.manual_seed``), dropout, batch shuffling and
        the validation split. Same inputs and seed give identical embeddings.
    contrastive_weight, reconstruction_weight, age_conditioning
        Overrides of the ``settings`` values (None: take them from it); used
        by the ablations only-reconstruction, only-contrastive and no-age.

    Attributes
    ----------
    model_ : SnpVolumeModel
        The fitted model (best epoch), in eval mode.
    history_ : list of dict
        One dict per epoch: ``epoch``, ``train_loss``, ``val_loss`` (NaN without
        a validation set), ``train_contrastive``, ``train_reconstruction``
        (weighted contributions; they sum to ``train_loss``), ``val_contrastive``,
        ``val_reconstruction``.
    best_epoch_ : int
        Epoch (1-based) whose weights were restored.
    train_groups_, val_groups_ : ndarray
        Subjects used for fitting and for early stopping.
    contrastive_form_ : str
        ``"decoupled"`` or ``"standard"``: the contrastive form that ran.
    stopped_on_ : str
        The held-out loss early stopping monitored: ``settings.stop_on``, or
        ``"total"`` where the reconstruction term is off.
    fit_seconds_ : float
        Wall time of ``fit``.
    """

    def __init__(
        self,
        settings: PretrainSettings,
        seed: int = 0,
        contrastive_weight: float | None = None,
        reconstruction_weight: float | None = None,
        age_conditioning: bool | None = None,
    ) -> None:
        self.settings = settings
        self.seed = seed
        self.contrastive_weight = contrastive_weight
        self.reconstruction_weight = reconstruction_weight
        self.age_conditioning = age_conditioning

    # ------------------------------------------------------------------ settings
    def _settings(self) -> tuple[float, float, bool]:
        cfg = self.settings
        cw = cfg.contrastive_weight if self.contrastive_weight is None else float(self.contrastive_weight)
        rw = cfg.reconstruction_weight if self.reconstruction_weight is None else float(self.reconstruction_weight)
        age = cfg.age_conditioning if self.age_conditioning is None else bool(self.age_conditioning)
        return cw, rw, age

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        snps: ArrayLike,
        age: ArrayLike | None,
        volumes: ArrayLike,
        groups: ArrayLike,
    ) -> "ContrastivePretrainer":
        """Pretrain the encoders.

        Parameters
        ----------
        snps
            ``(n, p)`` encoded SNP features of each scan's subject, no NaN.
        age
            ``(n,)`` standardised age at each scan (may be None when age
            conditioning is off).
        volumes
            ``(n, r)`` standardised regional volumes.
        groups
            ``(n,)`` subject ids.

        Returns
        -------
        ContrastivePretrainer
            ``self``.
        """
        t0 = time.perf_counter()
        cfg = self.settings
        cw, rw, use_age = self._settings()
        x_s = _matrix("snps", snps)
        n = x_s.shape[0]
        x_v = _matrix("volumes", volumes, n)
        if use_age:
            if age is None:
                raise DataError("age is needed for age-conditioned pretraining", field="age")
            x_a = _vector("age", age, n)
        else:
            x_a = np.zeros(n, dtype=np.float32)
        g = np.asarray(groups)
        if g.shape != (n,):
            raise DataError(f"groups must have shape ({n},), got {g.shape}", field="groups")

        train_idx, val_idx = group_holdout(g, cfg.val_fraction, self.seed)
        if cw > 0 and len(val_idx) < 2:
            train_idx, val_idx = np.arange(n), np.arange(0)
        if len(train_idx) < 2:
            raise DataError(f"pretraining needs at least 2 scans, got {len(train_idx)}")
        self.train_groups_ = np.unique(g[train_idx])
        self.val_groups_ = np.unique(g[val_idx])
        group_codes = np.unique(g, return_inverse=True)[1].astype(np.int64)
        stop_on = cfg.stop_on if rw > 0 else "total"
        monitored = "loss" if stop_on == "total" else "reconstruction"

        torch.manual_seed(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        model = SnpVolumeModel(
            n_snps=x_s.shape[1],
            n_regions=x_v.shape[1],
            embedding_dim=cfg.embedding_dim,
            hidden=cfg.hidden,
            dropout=cfg.dropout,
            age_conditioning=use_age,
        )
        loss_fn = PairedContrastiveReconstructionLoss(cfg.temperature, cfg.contrastive_form, cw, rw)
        opt = make_adamw(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

        ts, ta, tv, tg = (torch.from_numpy(a[train_idx]) for a in (x_s, x_a, x_v, group_codes))
        vs, va, vv, vg = (torch.from_numpy(a[val_idx]) for a in (x_s, x_a, x_v, group_codes))
        if cfg.same_subject_negatives:
            tg = vg = None
        n_train = len(train_idx)
        bs = max(2, int(cfg.batch_size))

        history: list[dict[str, Any]] = []
        best_loss, best_epoch, best_state = math.inf, 0, snapshot(model)
        since_best = 0
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            perm = torch.randperm(n_train, generator=gen)
            sums = {"loss": 0.0, "contrastive": 0.0, "reconstruction": 0.0}
            seen = 0
            for start in range(0, n_train, bs):
                idx = perm[start : start + bs]
                if len(idx) < 2:  # a batch of one has no negatives
                    continue
                terms = loss_fn(model(ts[idx], ta[idx], tv[idx]), ts[idx], tv[idx], None if tg is None else tg[idx])
                opt.zero_grad(set_to_none=True)
                terms["loss"].backward()
                opt.step()
                for key in sums:
                    sums[key] += terms[key].detach().item() * len(idx)
                seen += len(idx)
            record: dict[str, Any] = {
                "epoch": epoch,
                "train_loss": sums["loss"] / seen,
                "train_contrastive": sums["contrastive"] / seen,
                "train_reconstruction": sums["reconstruction"] / seen,
            }
            if len(val_idx):
                model.eval()
                with torch.no_grad():
                    vterms = loss_fn(model(vs, va, vv), vs, vv, vg)
                monitor = float(vterms[monitored])
                record.update(
                    val_loss=float(vterms["loss"]),
                    val_contrastive=float(vterms["contrastive"]),
                    val_reconstruction=float(vterms["reconstruction"]),
                )
            else:
                monitor = record[f"train_{monitored}"]
                record.update(val_loss=math.nan, val_contrastive=math.nan, val_reconstruction=math.nan)
            history.append(record)
            if not math.isfinite(monitor):
                raise DataError(f"pretraining diverged at epoch {epoch} (loss {monitor})", fix="lower method.pretrain.lr")
            if monitor < best_loss:
                best_loss, best_epoch, best_state, since_best = monitor, epoch, snapshot(model), 0
            else:
                since_best += 1
                if since_best >= cfg.patience:
                    break

        model.load_state_dict(best_state)
        model.eval()
        self.model_ = model
        self.history_ = history
        self.best_epoch_ = best_epoch
        self.best_loss_ = best_loss
        self.contrastive_form_ = cfg.contrastive_form
        self.stopped_on_ = stop_on
        self.n_features_snp_ = x_s.shape[1]
        self.n_features_mri_ = x_v.shape[1]
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    # ------------------------------------------------------------------ embedding
    def transform(
        self,
        snps: ArrayLike,
        age: ArrayLike | None,
        volumes: ArrayLike,
        normalize: bool = False,
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Embed scans with the fitted encoders (eval mode, no gradients).

        Parameters
        ----------
        snps, age, volumes
            As in :meth:`fit` (age may be None when age conditioning is off).
        normalize
            If True, L2-normalise each embedding (the space the contrastive
            loss compares in).

        Returns
        -------
        z_snp, z_mri
            ``(n, embedding_dim)`` float32 arrays.
        """
        if not hasattr(self, "model_"):
            raise RuntimeError("call fit before transform")
        x_s = _matrix("snps", snps)
        n = x_s.shape[0]
        x_v = _matrix("volumes", volumes, n)
        if x_s.shape[1] != self.n_features_snp_ or x_v.shape[1] != self.n_features_mri_:
            raise DataError(
                f"expected {self.n_features_snp_} SNP and {self.n_features_mri_} volume columns, "
                f"got {x_s.shape[1]} and {x_v.shape[1]}"
            )
        t_a: Tensor | None = None
        if self.model_.age_conditioning:
            if age is None:
                raise DataError("age is needed: the encoder is age-conditioned", field="age")
            t_a = torch.from_numpy(_vector("age", age, n))
        self.model_.eval()
        with torch.no_grad():
            z_s, z_v = self.model_.encode(torch.from_numpy(x_s), t_a, torch.from_numpy(x_v))
            if normalize:
                z_s, z_v = F.normalize(z_s, dim=1), F.normalize(z_v, dim=1)
        return z_s.numpy(), z_v.numpy()
