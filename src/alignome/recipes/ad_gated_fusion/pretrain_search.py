"""Paper 000's pretraining chosen in the inner loop, on an outer fold's training subjects only.

Each inner split is prepared like a fold of its own (:func:`prepare_fold`): its
transforms are fitted and its encoders pretrained on the inner-training subjects,
so the inner-validation subjects are never seen, not even unlabelled. A setting
of the contrastive weight (0 included), temperature, embedding size and stopping
rule is scored by the mean over tasks of the inner-validation AUC of a logistic
regression probe on the frozen embeddings and demographics; Optuna's seeded TPE
proposes the settings. The encodings of the chosen setting are kept, so that the
fusion classifier's own search runs on the same inner splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alignome.cohort.model import Cohort
from alignome.cohort.splits import SubjectFold, outer_folds
from alignome.diagnoses import TASK_CLASSES
from alignome.errors import DataError
from alignome.evaluation.feasibility import stratifiable
from alignome.evaluation.fold_inputs import FoldInputs, prepare_fold, task_rows
from alignome.evaluation.tasks import task_auc
from alignome.recipes.ad_gated_fusion.methods import PRETRAIN_VARIANTS
from alignome.training.pretrain import ContrastivePretrainer, PretrainSettings

optuna.logging.set_verbosity(optuna.logging.WARNING)

Encoded = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class PretrainSearchSpace:
    """Pretraining settings searched per outer fold (temperature log-uniform, the others chosen from lists)."""

    contrastive_weight: Sequence[float]
    temperature: tuple[float, float]
    embedding_dim: Sequence[int]
    stop_on: Sequence[str]


@dataclass
class InnerSplit:
    """One inner split of an outer fold's training subjects.

    ``data`` was prepared with the inner-training subjects as the training side:
    ``data.final["split"]`` is ``"train"`` for them and ``"test"`` for the
    inner-validation subjects. ``encoded`` holds, per pretraining variant, the
    frozen-encoder outputs of ``data.final_inputs`` from a pretraining that saw
    the inner-training subjects only.
    """

    index: int
    subjects: SubjectFold
    data: FoldInputs
    encoded: dict[str, Encoded] = field(default_factory=dict)


@dataclass
class PretrainChoice:
    """The pretraining settings an outer fold runs with, and how they were chosen."""

    settings: PretrainSettings
    inner_score: float
    trials: pd.DataFrame

    def as_params(self, variant: str) -> dict[str, Any]:
        """The settings ``variant`` ran with and the inner score, keyed ``pretrain_*`` for ``best_params.csv``."""
        s = replace(self.settings, **PRETRAIN_VARIANTS[variant])
        return {
            "pretrain_contrastive_weight": s.contrastive_weight,
            "pretrain_reconstruction_weight": s.reconstruction_weight,
            "pretrain_temperature": s.temperature,
            "pretrain_embedding_dim": s.embedding_dim,
            "pretrain_stop_on": s.stop_on,
            "pretrain_inner_score": self.inner_score,
        }


def inner_subject_folds(final: pd.DataFrame, fold: SubjectFold, n_splits: int, seed: int) -> list[SubjectFold]:
    """Stratified subject-wise splits of the fold's training subjects.

    Unlabelled subjects, and those of a diagnosis too rare to stratify (no feasible task
    evaluates it), always train.
    """
    train = set(fold.train)
    labelled = final[final["subject"].astype(str).isin(train)].set_index("subject")["diagnosis"]
    try:
        return outer_folds(stratifiable(labelled, n_splits), list(fold.train), n_splits, seed)
    except DataError as err:
        raise DataError(
            f"outer fold {fold.index}: too few training subjects per diagnosis for {n_splits} inner splits "
            f"({labelled.value_counts().to_dict()})",
            field="protocol.inner_folds",
            fix="lower protocol.inner_folds or add subjects",
        ) from err


def prepare_inner_splits(
    cohort: Cohort, pairs: pd.DataFrame, final: pd.DataFrame, fold: SubjectFold, n_splits: int, seed: int
) -> list[InnerSplit]:
    """Inputs of every inner split, each prepared on its own training side only."""
    in_fold = final[final["subject"].astype(str).isin(set(fold.train))]
    return [
        InnerSplit(k.index, k, prepare_fold(cohort, pairs, in_fold, k))
        for k in inner_subject_folds(final, fold, n_splits, seed)
    ]


def pretrain_variant(settings: PretrainSettings, variant: str, seed: int, data: FoldInputs) -> tuple[ContrastivePretrainer, Encoded]:
    """Pretrain one variant on ``data``'s training scans; encode its final visits."""
    pre = ContrastivePretrainer(settings, seed=seed, **PRETRAIN_VARIANTS[variant])
    p = data.pretrain
    pre.fit(p.snp, p.age, p.volumes, groups=p.subject)
    f = data.final_inputs
    return pre, pre.transform(f.snp, f.age, f.volumes)


def probe_features(data: FoldInputs, encoded: Encoded) -> np.ndarray:
    """Frozen embeddings (zero where a modality is missing), presence flags and demographics."""
    f = data.final_inputs
    z_snp = np.where(f.has_snp[:, None], encoded[0], 0.0)
    z_mri = np.where(f.has_mri[:, None], encoded[1], 0.0)
    return np.column_stack([z_snp, z_mri, f.has_snp, f.has_mri, data.demographics])


def probe_score(data: FoldInputs, encoded: Encoded, tasks: Sequence[str], seed: int) -> float:
    """Mean over tasks of the inner-validation AUC of a logistic-regression probe (NaN: no task scorable)."""
    x = probe_features(data, encoded)
    scores = []
    for task in tasks:
        rows = task_rows(data.final, TASK_CLASSES[task])
        if not rows.every_class_on_both_sides:
            continue
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
        probe.fit(x[rows.train], rows.y[rows.train])
        scores.append(task_auc(rows.y[rows.test], probe.predict_proba(x[rows.test])))
    return float(np.mean(scores)) if scores else float("nan")


def search_pretraining(
    base: PretrainSettings,
    space: PretrainSearchSpace,
    trials: int,
    inner: list[InnerSplit],
    tasks: Sequence[str],
    seed: int,
) -> PretrainChoice:
    """Choose the pretraining settings by mean inner-CV probe score; store the winner's encodings in ``inner``.

    Every trial pretrains the ``full`` variant once per inner split with the same
    seed, so trials differ only in their settings.
    """
    encodings: dict[int, list[Encoded]] = {}

    def objective(trial: optuna.Trial) -> float:
        settings = replace(
            base,
            contrastive_weight=float(trial.suggest_categorical("contrastive_weight", list(space.contrastive_weight))),
            temperature=trial.suggest_float("temperature", *space.temperature, log=True),
            embedding_dim=int(trial.suggest_categorical("embedding_dim", list(space.embedding_dim))),
            stop_on=str(trial.suggest_categorical("stop_on", list(space.stop_on))),
        )
        encoded = [pretrain_variant(settings, "full", seed, split.data)[1] for split in inner]
        scores = [probe_score(split.data, enc, tasks, seed) for split, enc in zip(inner, encoded)]
        if not np.isfinite(scores).any():
            raise DataError(
                "no task can be scored on any inner split (a class is missing from an inner training or validation side)",
                field="protocol.inner_folds",
                fix="lower protocol.inner_folds or add subjects of the rarer diagnoses",
            )
        encodings[trial.number] = encoded
        return float(np.nanmean(scores))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    best = study.best_trial
    for split, enc in zip(inner, encodings[best.number]):
        split.encoded["full"] = enc
    chosen = replace(
        base,
        contrastive_weight=float(best.params["contrastive_weight"]),
        temperature=float(best.params["temperature"]),
        embedding_dim=int(best.params["embedding_dim"]),
        stop_on=str(best.params["stop_on"]),
    )
    table = pd.DataFrame([{"trial": t.number, **t.params, "inner_score": t.value} for t in study.trials])
    return PretrainChoice(chosen, float(best.value), table)
