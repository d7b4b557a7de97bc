"""Paper 000's nested cross-validation in two stages per outer fold: the recipe's evaluation wiring.

Stage 1 (:func:`encode_fold`) chooses the pretraining settings in the inner loop,
fits the transforms and pretrains the encoders on the fold's training subjects;
stage 2 (:func:`evaluate_task`) tunes, fits and scores every method on one task.
Splitting lets both cores work on (fold, task) units.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from alignome.cohort.model import Cohort
from alignome.cohort.splits import SubjectFold
from alignome.diagnoses import TASK_CLASSES
from alignome.evaluation.baselines import BaselinePrediction, oracle, random_forest
from alignome.evaluation.fold_inputs import FoldInputs, prepare_fold, task_rows
from alignome.evaluation.linear_baseline import logistic_regression
from alignome.evaluation.tasks import auc_metric_name, mmse_rmse, scale_mmse, task_auc
from alignome.recipes.ad_gated_fusion.methods import MAIN_METHOD, NEURAL_METHODS
from alignome.recipes.ad_gated_fusion.pretrain_search import (
    InnerSplit,
    PretrainChoice,
    PretrainSearchSpace,
    pretrain_variant,
    prepare_inner_splits,
    search_pretraining,
)
from alignome.recipes.ad_gated_fusion.schema import MethodConfig, Recipe
from alignome.recipes.ad_gated_fusion.search import InnerTask, SearchSpace, classifier_from, tune_classifier
from alignome.recipes.ad_gated_fusion.vae_gan import vae_gan
from alignome.training.pretrain import ContrastivePretrainer, PretrainSettings


@dataclass
class FoldEncodings:
    """Stage 1 of an outer fold: fitted inputs and frozen-encoder outputs of every pretraining variant.

    ``inner`` holds the inner splits with their own encodings (empty when the
    classifier is not searched); ``choice`` the pretraining settings the fold ran
    with; ``fits`` per variant the stopping rule that ran and the epoch kept.
    """

    fold: int
    data: FoldInputs
    encoded: dict[str, tuple[np.ndarray, np.ndarray]]
    truth: np.ndarray | None
    choice: PretrainChoice | None = None
    inner: list[InnerSplit] = field(default_factory=list)
    fits: dict[str, dict[str, object]] = field(default_factory=dict)
    curves: list[pd.DataFrame] = field(default_factory=list)
    embeddings: pd.DataFrame | None = None
    timings_s: dict[str, float] = field(default_factory=dict)


@dataclass
class FoldResult:
    """Stage 2: long-form tables of one outer fold and one task."""

    fold: int
    task: str
    results: list[dict] = field(default_factory=list)
    predictions: list[pd.DataFrame] = field(default_factory=list)
    gates: list[pd.DataFrame] = field(default_factory=list)
    best_params: list[dict] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)


def _record(res: FoldResult, method: str, task: str, y: np.ndarray, pred: BaselinePrediction, rows: pd.DataFrame) -> None:
    """Append metrics and per-subject predictions of one method on one task."""
    mmse_true = scale_mmse(rows["mmse"].to_numpy(dtype=float))
    res.results.append(dict(method=method, task=task, metric=auc_metric_name(task), fold=res.fold, value=task_auc(y, pred.proba)))
    res.results.append(dict(method=method, task=task, metric="mmse_rmse", fold=res.fold, value=mmse_rmse(mmse_true, pred.mmse)))
    table = pd.DataFrame({"method": method, "task": task, "fold": res.fold, "subject": rows["subject"].to_numpy(), "y_true": y})
    for k in range(pred.proba.shape[1]):
        table[f"prob_{k}"] = pred.proba[:, k]
    table["mmse_true"] = mmse_true
    table["mmse_pred"] = pred.mmse
    res.predictions.append(table)
    if pred.params:
        res.best_params.append({"method": method, "task": task, "fold": res.fold, **pred.params})


def _truth_features(cohort: Cohort, final: pd.DataFrame) -> np.ndarray | None:
    """True latent variables at each final visit (simulated cohorts only)."""
    if cohort.truth is None:
        return None
    truth = cohort.truth
    cols = [c for c in truth.columns if c.startswith("latent_")]
    if not cols:
        return None
    left = final[["subject", "age"]].reset_index().assign(subject=lambda d: d["subject"].astype(str)).sort_values("age")
    right = truth[["subject", "age", *cols]].assign(subject=lambda d: d["subject"].astype(str)).sort_values("age")
    merged = pd.merge_asof(left, right, on="age", by="subject", direction="nearest", tolerance=0.01).set_index("index")
    merged = merged.loc[final.index]
    return np.column_stack([merged[cols].to_numpy(dtype=float), final["age"].to_numpy(dtype=float)])


def pretrain_settings(method: MethodConfig) -> PretrainSettings:
    """The pretrainer's settings from the recipe's ``method`` section."""
    p = method.pretrain
    return PretrainSettings(
        embedding_dim=method.embedding_dim, hidden=tuple(method.hidden), dropout=method.dropout,
        temperature=method.temperature, contrastive_form=method.contrastive_form,
        same_subject_negatives=method.same_subject_negatives,
        contrastive_weight=method.contrastive_weight, reconstruction_weight=method.reconstruction_weight,
        age_conditioning=method.age_conditioning, epochs=p.epochs, batch_size=p.batch_size, lr=p.lr,
        weight_decay=p.weight_decay, patience=p.patience, val_fraction=p.val_fraction, stop_on=p.stop_on,
    )


def fold_seed(recipe: Recipe, fold: int) -> int:
    """The seed of everything random inside one outer fold."""
    return recipe.seed * 1000 + fold


def _neural_methods(recipe: Recipe) -> list[str]:
    return [m for m in recipe.protocol.methods if m in NEURAL_METHODS]


def choose_pretraining(
    cohort: Cohort, pairs: pd.DataFrame, final: pd.DataFrame, fold: SubjectFold, recipe: Recipe, variants: list[str]
) -> tuple[PretrainChoice, list[InnerSplit]]:
    """The fold's pretraining settings (searched when ``pretrain_search.trials > 0``) and its inner splits.

    The inner splits carry every variant's encodings when the classifier is searched
    (``protocol.trials > 0``); otherwise they are dropped.
    """
    proto, seed = recipe.protocol, fold_seed(recipe, fold.index)
    search = proto.pretrain_search
    settings = pretrain_settings(recipe.method)
    if search.trials <= 0 and proto.trials <= 0:
        return PretrainChoice(settings, float("nan"), pd.DataFrame()), []
    inner = prepare_inner_splits(cohort, pairs, final, fold, proto.inner_folds, seed)
    choice = PretrainChoice(settings, float("nan"), pd.DataFrame())
    if search.trials > 0:
        space = PretrainSearchSpace(
            tuple(search.contrastive_weight), tuple(search.temperature), tuple(search.embedding_dim), tuple(search.stop_on)
        )
        choice = search_pretraining(settings, space, search.trials, inner, proto.tasks, seed)
    if proto.trials <= 0:
        return choice, []
    for split in inner:
        for variant in variants:
            if variant not in split.encoded:
                split.encoded[variant] = pretrain_variant(choice.settings, variant, seed, split.data)[1]
    return choice, inner


def encode_fold(cohort: Cohort, pairs: pd.DataFrame, final: pd.DataFrame, fold: SubjectFold, recipe: Recipe) -> FoldEncodings:
    """Choose the pretraining, fit transforms and pretrain every needed variant on the fold's training subjects."""
    torch.set_num_threads(1)
    seed = fold_seed(recipe, fold.index)
    t0 = time.perf_counter()
    data = prepare_fold(cohort, pairs, final, fold)
    truth = _truth_features(cohort, data.final) if "oracle" in recipe.protocol.methods else None
    enc = FoldEncodings(fold.index, data, {}, truth, timings_s={"prepare": time.perf_counter() - t0})

    wanted = _neural_methods(recipe)
    variants = sorted({NEURAL_METHODS[m].pretrain_variant for m in wanted})
    if not variants:
        return enc
    t0 = time.perf_counter()
    enc.choice, enc.inner = choose_pretraining(cohort, pairs, final, fold, recipe, variants)
    enc.timings_s["pretrain_search"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for variant in variants:
        pre, enc.encoded[variant] = pretrain_variant(enc.choice.settings, variant, seed, data)
        enc.fits[variant] = {"pretrain_best_epoch": pre.best_epoch_, "pretrain_stopped_on": pre.stopped_on_}
        for method in wanted:
            if NEURAL_METHODS[method].pretrain_variant == variant and NEURAL_METHODS[method].modalities == ("snp", "mri"):
                enc.curves.append(pd.DataFrame(pre.history_).assign(method=method, fold=fold.index))
        if variant == "full":
            enc.embeddings = _test_embeddings(data, pre, fold.index)
    enc.timings_s["pretrain"] = time.perf_counter() - t0
    return enc


def _test_embeddings(data: FoldInputs, pre: ContrastivePretrainer, fold: int) -> pd.DataFrame:
    """Embeddings of every scan of the fold's test subjects (NaN where a modality is missing)."""
    e = data.embed_inputs
    z_snp, z_mri = pre.transform(e.snp, e.age, e.volumes)
    z_snp[~e.has_snp] = np.nan
    z_mri[~e.has_mri] = np.nan
    meta = data.embed_scans[["subject", "age", "diagnosis"]].reset_index(drop=True)
    meta = meta.assign(fold=fold, split="test", method=MAIN_METHOD)
    zs = pd.DataFrame(z_snp, columns=[f"z_snp_{i}" for i in range(z_snp.shape[1])])
    zm = pd.DataFrame(z_mri, columns=[f"z_mri_{i}" for i in range(z_mri.shape[1])])
    return pd.concat([meta, zs, zm], axis=1)


def _classifier_inputs(data: FoldInputs, encoded: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    f = data.final_inputs
    return dict(z_snp=encoded[0], z_mri=encoded[1], demographics=data.demographics, has_snp=f.has_snp, has_mri=f.has_mri)


def _inner_task(split: InnerSplit, variant: str, classes: tuple[str, ...]) -> InnerTask | None:
    """One inner split's classifier data for a task; None where a side lacks one of the task's classes."""
    rows = task_rows(split.data.final, classes)
    if not rows.every_class_on_both_sides:
        return None
    inputs = _classifier_inputs(split.data, split.encoded[variant])
    mmse = scale_mmse(split.data.final["mmse"].to_numpy(dtype=float))
    return InnerTask(
        {k: v[rows.train] for k, v in inputs.items()}, rows.y[rows.train], mmse[rows.train],
        {k: v[rows.test] for k, v in inputs.items()}, rows.y[rows.test],
    )


def evaluate_task(enc: FoldEncodings, task: str, recipe: Recipe) -> FoldResult:
    """Fit every method on the training subjects' final visits for one task; score the test subjects."""
    torch.set_num_threads(1)
    seed = fold_seed(recipe, enc.fold)
    proto, data = recipe.protocol, enc.data
    res = FoldResult(enc.fold, task)
    classes = TASK_CLASSES[task]
    rows = task_rows(data.final, classes)
    train, test = rows.train, rows.test
    y_tr, y_te = rows.y[train], rows.y[test]
    mmse_tr = scale_mmse(data.final["mmse"].to_numpy(dtype=float)[train])
    test_rows = data.final[test]

    space = SearchSpace(**proto.search.model_dump())
    classifier_defaults = recipe.method.classifier.model_dump()
    t0 = time.perf_counter()
    for method in _neural_methods(recipe):
        spec = NEURAL_METHODS[method]
        inputs = _classifier_inputs(data, enc.encoded[spec.pretrain_variant])
        tr = {k: v[train] for k, v in inputs.items()}
        te = {k: v[test] for k, v in inputs.items()}
        splits = [t for t in (_inner_task(s, spec.pretrain_variant, classes) for s in enc.inner) if t is not None]
        params = tune_classifier(splits, len(classes), space, classifier_defaults, spec.modalities, proto.trials, seed)
        model = classifier_from(params, classifier_defaults, len(classes), spec.modalities, seed)
        model.fit(**tr, y=y_tr, mmse01=mmse_tr)
        chosen = {**enc.choice.as_params(spec.pretrain_variant), **enc.fits[spec.pretrain_variant], **params}
        _record(res, method, task, y_te, BaselinePrediction(model.predict_proba(**te), model.predict_mmse(**te), chosen), test_rows)
        if method == MAIN_METHOD:
            alpha = model.gate_weights(**te)
            res.gates.append(
                pd.DataFrame(
                    {
                        "method": method,
                        "task": task,
                        "fold": enc.fold,
                        "subject": test_rows["subject"].to_numpy(),
                        "diagnosis": test_rows["diagnosis"].to_numpy(),
                        "alpha_snp": alpha[:, 0],
                        "alpha_mri": alpha[:, 1],
                    }
                )
            )
    res.timings_s["fusion_classifiers"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if "vae-gan" in proto.methods:
        pred = vae_gan(data, train, test, y_tr, mmse_tr, len(classes), recipe.method.vae_gan, seed)
        _record(res, "vae-gan", task, y_te, pred, test_rows)
    if "random-forest" in proto.methods:
        pred = random_forest(data.raw_features[train], y_tr, mmse_tr, data.raw_features[test], proto.rf_grid, proto.inner_folds, seed)
        _record(res, "random-forest", task, y_te, pred, test_rows)
    if "logistic-regression" in proto.methods:
        X = data.raw_features
        pred = logistic_regression(X[train], y_tr, mmse_tr, X[test], proto.linear_grid.model_dump(), proto.inner_folds, seed)
        _record(res, "logistic-regression", task, y_te, pred, test_rows)
    if enc.truth is not None:
        _record(res, "oracle", task, y_te, oracle(enc.truth[train], y_tr, mmse_tr, enc.truth[test], seed), test_rows)
    res.timings_s["baselines"] = time.perf_counter() - t0
    return res
