"""Inner-loop hyperparameter search for paper 000's fusion classifier (Optuna, seeded TPE), on training subjects only.

The classifier is scored on the same inner splits that chose the pretraining:
on each, the encoders were pretrained without the inner-validation subjects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from alignome.evaluation.tasks import task_auc
from alignome.training.classifier import FusionClassifier

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass(frozen=True)
class SearchSpace:
    """Ranges searched for the fusion classifier (lr and weight decay log-uniform), hidden widths to choose from."""

    lr: tuple[float, float]
    weight_decay: tuple[float, float]
    dropout: tuple[float, float]
    hidden: Sequence[int]
    mmse_weight: tuple[float, float]


@dataclass(frozen=True)
class InnerTask:
    """One inner split of one task: classifier inputs (``z_snp, z_mri, demographics, has_snp, has_mri``),
    labels and scaled MMSE of its training rows, inputs and labels of its validation rows."""

    train: dict[str, np.ndarray]
    y_train: np.ndarray
    mmse_train: np.ndarray
    val: dict[str, np.ndarray]
    y_val: np.ndarray


def classifier_from(params: Mapping[str, Any], base: Mapping[str, Any], n_classes: int, modalities: tuple[str, ...],
                    seed: int) -> FusionClassifier:
    """A fusion classifier with the defaults ``base`` (constructor arguments) overridden by ``params``."""
    return FusionClassifier.from_settings({**base, **params}, n_classes, modalities=modalities, seed=seed)


def tune_classifier(
    splits: Sequence[InnerTask],
    n_classes: int,
    space: SearchSpace,
    base: Mapping[str, Any],
    modalities: tuple[str, ...],
    trials: int,
    seed: int,
) -> dict[str, Any]:
    """Choose classifier hyperparameters by mean inner-validation AUC over ``splits``.

    ``trials <= 0`` or no split returns ``{}``: the recipe's defaults, without searching.
    """
    if trials <= 0 or not splits:
        return {}

    def objective(trial: optuna.Trial) -> float:
        params = {
            "lr": trial.suggest_float("lr", *space.lr, log=True),
            "weight_decay": trial.suggest_float("weight_decay", *space.weight_decay, log=True),
            "dropout": trial.suggest_float("dropout", *space.dropout),
            "hidden": trial.suggest_categorical("hidden", space.hidden),
            "mmse_weight": trial.suggest_float("mmse_weight", *space.mmse_weight),
        }
        scores = []
        for split in splits:
            model = classifier_from(params, base, n_classes, modalities, seed)
            model.fit(**split.train, y=split.y_train, mmse01=split.mmse_train)
            scores.append(task_auc(split.y_val, model.predict_proba(**split.val)))
        return float(np.mean(scores))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    return dict(study.best_params)
