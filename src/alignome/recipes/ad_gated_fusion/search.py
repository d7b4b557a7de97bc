"""Inner-loop hyperparameter search for paper 000's fusion classifier (Optuna, seeded TPE), on training subjects only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from alignome.cohort.splits import inner_splits
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


def classifier_from(params: Mapping[str, Any], base: Mapping[str, Any], n_classes: int, modalities: tuple[str, ...],
                    seed: int) -> FusionClassifier:
    """A fusion classifier with the defaults ``base`` (constructor arguments) overridden by ``params``."""
    return FusionClassifier.from_settings({**base, **params}, n_classes, modalities=modalities, seed=seed)


def tune_classifier(
    inputs: dict[str, np.ndarray],
    y: np.ndarray,
    mmse01: np.ndarray,
    space: SearchSpace,
    base: Mapping[str, Any],
    modalities: tuple[str, ...],
    trials: int,
    inner_folds: int,
    seed: int,
) -> dict[str, Any]:
    """Choose classifier hyperparameters by mean inner-CV AUC on training subjects only.

    ``inputs`` holds arrays ``z_snp, z_mri, demographics, has_snp, has_mri`` for
    the training rows (one row per subject). ``trials <= 0`` returns the recipe's
    defaults without searching.
    """
    if trials <= 0:
        return {}
    n_classes = int(y.max()) + 1
    splits = inner_splits(y, inner_folds, seed)

    def subset(idx: np.ndarray) -> dict[str, np.ndarray]:
        return {k: v[idx] for k, v in inputs.items()}

    def objective(trial: optuna.Trial) -> float:
        params = {
            "lr": trial.suggest_float("lr", *space.lr, log=True),
            "weight_decay": trial.suggest_float("weight_decay", *space.weight_decay, log=True),
            "dropout": trial.suggest_float("dropout", *space.dropout),
            "hidden": trial.suggest_categorical("hidden", space.hidden),
            "mmse_weight": trial.suggest_float("mmse_weight", *space.mmse_weight),
        }
        scores = []
        for tr, va in splits:
            model = classifier_from(params, base, n_classes, modalities, seed)
            model.fit(**subset(tr), y=y[tr], mmse01=mmse01[tr])
            scores.append(task_auc(y[va], model.predict_proba(**subset(va))))
        return float(np.mean(scores))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    return dict(study.best_params)
