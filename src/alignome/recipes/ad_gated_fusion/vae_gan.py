"""The ``vae-gan`` baseline on one (outer fold, task): Ko et al.'s model on the fold's encoded final visits."""

from __future__ import annotations

import numpy as np

from alignome.evaluation.baselines import BaselinePrediction
from alignome.evaluation.fold_inputs import FoldInputs
from alignome.recipes.ad_gated_fusion.schema import VaeGanConfig
from alignome.training.vae_gan import VaeGanClassifier


def vae_gan(data: FoldInputs, train: np.ndarray, test: np.ndarray, y_train: np.ndarray, mmse_train: np.ndarray,
            n_classes: int, settings: VaeGanConfig, seed: int) -> BaselinePrediction:
    """Fit on the ``train`` rows of the final visits, predict the ``test`` rows.

    Inputs are the fold's population-frequency encoded SNPs and standardised volumes (both
    fitted on training subjects) and, for the generator, age, sex and education.
    """
    f = data.final_inputs
    covariates = np.column_stack([f.age, data.demographics])
    inputs = (f.snp, f.volumes, covariates)
    model = VaeGanClassifier(n_classes, seed=seed, **settings.model_dump())
    model.fit(*(a[train] for a in inputs), y_train, mmse_train, f.has_snp[train], f.has_mri[train])
    te = (*(a[test] for a in inputs), f.has_snp[test], f.has_mri[test])
    return BaselinePrediction(model.predict_proba(*te), model.predict_mmse(*te), {"vae_gan_epochs": model.best_epoch_ + 1})
