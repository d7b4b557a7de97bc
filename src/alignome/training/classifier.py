"""Gated-fusion classifier (diagnosis + MMSE) on frozen embeddings, sklearn-style."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from torch import Tensor

from alignome.errors import DataError
from alignome.models.fusion import GatedFusionNet
from alignome.training._state import make_adamw, snapshot
from alignome.training.holdout import stratified_holdout


class FusionClassifier(BaseEstimator):
    """Fit :class:`~alignome.models.GatedFusionNet` on frozen SNP / MRI embeddings.

    Loss = cross-entropy + ``mmse_weight`` x MSE of the min-max-scaled MMSE
    (rows whose MMSE is NaN are left out of the MSE). AdamW, full-batch by
    default; early stopping on the loss of a stratified internal validation
    split (one row per subject, so the split is subject-wise), restoring the
    best epoch's weights. Demographics are standardised with statistics of the
    fitted rows (NaN imputed by the mean).

    Parameters
    ----------
    n_classes
        Number of classes; ``y`` holds indices ``0 .. n_classes-1``.
    hidden, dropout
        Width and dropout of each head.
    lr, weight_decay
        AdamW settings.
    epochs, patience
        Maximum epochs and early-stopping patience (epochs without improvement).
    mmse_weight
        Weight of the MMSE term.
    val_fraction
        Fraction of rows held out (stratified) for early stopping; 0 trains
        all ``epochs`` and keeps the last weights.
    modalities
        ``("snp", "mri")``, ``("snp",)`` or ``("mri",)``.
    seed
        Seeds weights, dropout, the split and batch order.
    batch_size
        Mini-batch size; None for full-batch.
    """

    def __init__(
        self,
        n_classes: int,
        hidden: int = 32,
        dropout: float = 0.2,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        epochs: int = 300,
        patience: int = 30,
        mmse_weight: float = 1.0,
        val_fraction: float = 0.15,
        modalities: Sequence[str] = ("snp", "mri"),
        seed: int = 0,
        batch_size: int | None = None,
    ) -> None:
        self.n_classes = n_classes
        self.hidden = hidden
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.patience = patience
        self.mmse_weight = mmse_weight
        self.val_fraction = val_fraction
        self.modalities = modalities
        self.seed = seed
        self.batch_size = batch_size

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], n_classes: int, **overrides: Any) -> "FusionClassifier":
        """Build from a mapping of constructor arguments (a recipe's classifier section; ``overrides`` win)."""
        return cls(n_classes=n_classes, **{**settings, **overrides})

    # ------------------------------------------------------------------ inputs
    def _inputs(
        self,
        z_snp: ArrayLike,
        z_mri: ArrayLike,
        demographics: ArrayLike | None,
        has_snp: ArrayLike | None,
        has_mri: ArrayLike | None,
        fitting: bool,
    ) -> dict[str, Tensor]:
        zs = np.asarray(z_snp, dtype=np.float32)
        zv = np.asarray(z_mri, dtype=np.float32)
        if zs.ndim != 2 or zs.shape != zv.shape:
            raise DataError(f"z_snp and z_mri must be 2-D of equal shape, got {zs.shape} and {zv.shape}")
        n = zs.shape[0]
        ms = ~np.isnan(zs).any(axis=1) if has_snp is None else np.asarray(has_snp, dtype=bool).reshape(n)
        mv = ~np.isnan(zv).any(axis=1) if has_mri is None else np.asarray(has_mri, dtype=bool).reshape(n)
        for name, z, m in (("z_snp", zs, ms), ("z_mri", zv, mv)):
            if not np.all(np.isfinite(z[m])):
                raise DataError(f"{name} has non-finite values in rows marked present", field=name)
        zs = np.where(ms[:, None], zs, 0.0).astype(np.float32)
        zv = np.where(mv[:, None], zv, 0.0).astype(np.float32)
        d = np.zeros((n, 0), dtype=np.float32) if demographics is None else np.asarray(demographics, dtype=np.float32)
        if d.ndim == 1:
            d = d[:, None]
        if d.shape[0] != n:
            raise DataError(f"demographics has {d.shape[0]} rows, expected {n}", field="demographics")
        if fitting:
            with np.errstate(all="ignore"):
                mean = np.nanmean(d, axis=0) if d.shape[1] else np.zeros(0, np.float32)
                scale = np.nanstd(d, axis=0) if d.shape[1] else np.ones(0, np.float32)
            self.demo_mean_ = np.nan_to_num(mean, nan=0.0).astype(np.float32)
            self.demo_scale_ = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0).astype(np.float32)
        elif d.shape[1] != len(self.demo_mean_):
            raise DataError(f"demographics has {d.shape[1]} columns, the model was fitted with {len(self.demo_mean_)}")
        d = np.nan_to_num((d - self.demo_mean_) / self.demo_scale_, nan=0.0).astype(np.float32)
        return {
            "z_snp": torch.from_numpy(zs),
            "z_mri": torch.from_numpy(zv),
            "demographics": torch.from_numpy(d),
            "has_snp": torch.from_numpy(ms),
            "has_mri": torch.from_numpy(mv),
        }

    @staticmethod
    def _take(inputs: dict[str, Tensor], idx: Tensor | NDArray[np.intp]) -> dict[str, Tensor]:
        idx_t = torch.as_tensor(idx, dtype=torch.long)
        return {k: v[idx_t] for k, v in inputs.items()}

    def _loss(self, out: dict[str, Tensor], y: Tensor, mmse: Tensor) -> Tensor:
        loss = F.cross_entropy(out["logits"], y)
        ok = ~torch.isnan(mmse)
        if self.mmse_weight > 0 and bool(ok.any()):
            loss = loss + self.mmse_weight * F.mse_loss(out["mmse"][ok], mmse[ok])
        return loss

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        z_snp: ArrayLike,
        z_mri: ArrayLike,
        demographics: ArrayLike | None,
        y: ArrayLike,
        mmse01: ArrayLike | None = None,
        has_snp: ArrayLike | None = None,
        has_mri: ArrayLike | None = None,
    ) -> "FusionClassifier":
        """Fit the fusion network.

        Parameters
        ----------
        z_snp, z_mri
            ``(n, d)`` embeddings (one row per subject); a missing modality's
            row may be NaN.
        demographics
            ``(n, k)`` covariates (e.g. sex, education) or None.
        y
            ``(n,)`` class indices in ``0 .. n_classes-1``.
        mmse01
            ``(n,)`` MMSE min-max-scaled to [0, 1]; NaN rows are excluded from
            the MMSE loss; None: no MMSE term.
        has_snp, has_mri
            ``(n,)`` boolean masks; None infers them from NaN rows.

        Returns
        -------
        FusionClassifier
            ``self``.
        """
        t0 = time.perf_counter()
        inputs = self._inputs(z_snp, z_mri, demographics, has_snp, has_mri, fitting=True)
        n = inputs["z_snp"].shape[0]
        y_np = np.asarray(y).reshape(-1)
        if y_np.shape[0] != n:
            raise DataError(f"y has {y_np.shape[0]} values, expected {n}", field="y")
        if not np.all((y_np >= 0) & (y_np < self.n_classes) & (y_np == np.round(y_np))):
            raise DataError(f"y must hold class indices 0..{self.n_classes - 1}", field="y")
        y_np = y_np.astype(np.int64)
        if mmse01 is None:
            m_np = np.full(n, np.nan, dtype=np.float32)
        else:
            m_np = np.asarray(mmse01, dtype=np.float32).reshape(-1)
            if m_np.shape[0] != n:
                raise DataError(f"mmse01 has {m_np.shape[0]} values, expected {n}", field="mmse01")
        y_t, m_t = torch.from_numpy(y_np), torch.from_numpy(m_np)

        train_idx, val_idx = stratified_holdout(y_np, self.val_fraction, self.seed)
        self.val_index_ = val_idx
        torch.manual_seed(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        net = GatedFusionNet(
            embedding_dim=inputs["z_snp"].shape[1],
            n_demographics=inputs["demographics"].shape[1],
            n_classes=self.n_classes,
            hidden=self.hidden,
            dropout=self.dropout,
            modalities=tuple(self.modalities),
        )
        opt = make_adamw(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        tr = self._take(inputs, train_idx)
        tr_y, tr_m = y_t[train_idx], m_t[train_idx]
        va = self._take(inputs, val_idx)
        va_y, va_m = y_t[val_idx], m_t[val_idx]
        n_tr = len(train_idx)
        bs = n_tr if self.batch_size is None else max(2, int(self.batch_size))

        history: list[dict[str, float]] = []
        best, best_epoch, best_state, since = math.inf, 0, snapshot(net), 0
        for epoch in range(1, self.epochs + 1):
            net.train()
            order = torch.arange(n_tr) if bs >= n_tr else torch.randperm(n_tr, generator=gen)
            total = 0.0
            for start in range(0, n_tr, bs):
                idx = order[start : start + bs]
                loss = self._loss(net(**self._take(tr, idx)), tr_y[idx], tr_m[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach().item() * len(idx)
            record = {"epoch": epoch, "train_loss": total / n_tr}
            if len(val_idx):
                net.eval()
                with torch.no_grad():
                    monitor = float(self._loss(net(**va), va_y, va_m))
                record["val_loss"] = monitor
            else:
                monitor = record["train_loss"]
                record["val_loss"] = math.nan
            history.append(record)
            if not len(val_idx):
                best_epoch = epoch
                continue
            if monitor < best:
                best, best_epoch, best_state, since = monitor, epoch, snapshot(net), 0
            else:
                since += 1
                if since >= self.patience:
                    break
        if len(val_idx):
            net.load_state_dict(best_state)
        net.eval()
        self.net_ = net
        self.history_ = history
        self.best_epoch_ = best_epoch
        self.classes_ = np.arange(self.n_classes)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    # ------------------------------------------------------------------ predict
    def _forward(
        self,
        z_snp: ArrayLike,
        z_mri: ArrayLike,
        demographics: ArrayLike | None,
        has_snp: ArrayLike | None,
        has_mri: ArrayLike | None,
    ) -> dict[str, Tensor]:
        if not hasattr(self, "net_"):
            raise RuntimeError("call fit before predicting")
        inputs = self._inputs(z_snp, z_mri, demographics, has_snp, has_mri, fitting=False)
        self.net_.eval()
        with torch.no_grad():
            return self.net_(**inputs)

    def predict_proba(
        self,
        z_snp: ArrayLike,
        z_mri: ArrayLike,
        demographics: ArrayLike | None = None,
        has_snp: ArrayLike | None = None,
        has_mri: ArrayLike | None = None,
    ) -> NDArray[np.float64]:
        """Class probabilities, ``(n, n_classes)``."""
        out = self._forward(z_snp, z_mri, demographics, has_snp, has_mri)
        return torch.softmax(out["logits"], dim=1).double().numpy()

    def predict(
        self,
        z_snp: ArrayLike,
        z_mri: ArrayLike,
        demographics: ArrayLike | None = None,
        has_snp: ArrayLike | None = None,
        has_mri: ArrayLike | None = None,
    ) -> NDArray[np.int64]:
        """Most probable class index, ``(n,)``."""
        return self.predict_proba(z_snp, z_mri, demographics, has_snp, has_mri).argmax(axis=1)

    def predict_mmse(
        self,
        z_snp: ArrayLike,
        z_mri: ArrayLike,
        demographics: ArrayLike | None = None,
        has_snp: ArrayLike | None = None,
        has_mri: ArrayLike | None = None,
    ) -> NDArray[np.float64]:
        """Predicted min-max-scaled MMSE in [0, 1], ``(n,)``."""
        return self._forward(z_snp, z_mri, demographics, has_snp, has_mri)["mmse"].double().numpy()

    def gate_weights(
        self,
        z_snp: ArrayLike,
        z_mri: ArrayLike,
        demographics: ArrayLike | None = None,
        has_snp: ArrayLike | None = None,
        has_mri: ArrayLike | None = None,
    ) -> NDArray[np.float64]:
        """Gate weights ``[α_snp, α_mri]`` per row, ``(n, 2)``."""
        return self._forward(z_snp, z_mri, demographics, has_snp, has_mri)["alpha"].double().numpy()
