"""Paper 000's nested cross-validation in two stages per outer fold: the recipe's evaluation wiring.

Stage 1 (:func:`encode_fold`) fits the transforms and pretrains the encoders on
the fold's training subjects; stage 2 (:func:`evaluate_task`) fits and scores
every method on one task. Splitting lets both cores work on (fold, task) units.
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
from alignome.evaluation.fold_inputs import FoldInputs, prepare_fold
from alignome.evaluation.linear_baseline import logistic_regression
from alignome.recipes.ad_gated_fusion.search import SearchSpace, classifier_from, tune_classifier
from alignome.evaluation.tasks import auc_metric_name, mmse_rmse, scale_mmse, task_auc
from alignome.recipes.ad_gated_fusion.methods import MAIN_METHOD, NEURAL_METHODS, PRETRAIN_VARIANTS
from alignome.recipes.ad_gated_fusion.schema import MethodConfig, Recipe
from alignome.recipes.ad_gated_fusion.vae_gan import vae_gan
from alignome.training.pretrain import ContrastivePretrainer, PretrainSettings


@dataclass
class FoldEncodings:
    """Stage 1 of an outer fold: fitted inputs and frozen-encoder outputs of every pretraining variant."""

    fold: int
    data: FoldInputs
    encoded: dict[str, tuple[np.ndarray, np.ndarray]]
    truth: np.ndarray | None
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
        contrastive_weight=method.contrastive_weight, reconstruction_weight=method.reconstruction_weight,
        age_conditioning=method.age_conditioning, epochs=p.epochs, batch_size=p.batch_size, lr=p.lr,
        weight_decay=p.weight_decay, patience=p.patience, val_fraction=p.val_fraction,
    )


def fold_seed(recipe: Recipe, fold: int) -> int:
    """The seed of everything random inside one outer fold."""
    return recipe.seed * 1000 + fold


def _neural_methods(recipe: Recipe) -> list[str]:
    return [m for m in recipe.protocol.methods if m in NEURAL_METHODS]


def encode_fold(cohort: Cohort, pairs: pd.DataFrame, final: pd.DataFrame, fold: SubjectFold, recipe: Recipe) -> FoldEncodings:
    """Fit transforms and pretrain every needed encoder variant on the fold's training subjects."""
    torch.set_num_threads(1)
    seed = fold_seed(recipe, fold.index)
    t0 = time.perf_counter()
    data = prepare_fold(cohort, pairs, final, fold)
    truth = _truth_features(cohort, data.final) if "oracle" in recipe.protocol.methods else None
    enc = FoldEncodings(fold.index, data, {}, truth, timings_s={"prepare": time.perf_counter() - t0})

    wanted = _neural_methods(recipe)
    t0 = time.perf_counter()
    for variant in sorted({NEURAL_METHODS[m].pretrain_variant for m in wanted}):
        pre = ContrastivePretrainer(pretrain_settings(recipe.method), seed=seed, **PRETRAIN_VARIANTS[variant])
        p = data.pretrain
        pre.fit(p.snp, p.age, p.volumes, groups=p.subject)
        f = data.final_inputs
        enc.encoded[variant] = pre.transform(f.snp, f.age, f.volumes)
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


def evaluate_task(enc: FoldEncodings, task: str, recipe: Recipe) -> FoldResult:
    """Fit every method on the training subjects' final visits for one task; score the test subjects."""
    torch.set_num_threads(1)
    seed = fold_seed(recipe, enc.fold)
    proto, data = recipe.protocol, enc.data
    res = FoldResult(enc.fold, task)
    classes = TASK_CLASSES[task]
    rows_mask = data.final["diagnosis"].isin(classes).to_numpy()
    train = rows_mask & (data.final["split"] == "train").to_numpy()
    test = rows_mask & (data.final["split"] == "test").to_numpy()
    y_all = data.final["diagnosis"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    y_tr, y_te = y_all[train].astype(int), y_all[test].astype(int)
    mmse_tr = scale_mmse(data.final["mmse"].to_numpy(dtype=float)[train])
    test_rows = data.final[test]

    space = SearchSpace(**proto.search.model_dump())
    classifier_defaults = recipe.method.classifier.model_dump()
    t0 = time.perf_counter()
    for method in _neural_methods(recipe):
        spec = NEURAL_METHODS[method]
        z_snp, z_mri = enc.encoded[spec.pretrain_variant]
        f = data.final_inputs
        inputs = dict(z_snp=z_snp, z_mri=z_mri, demographics=data.demographics, has_snp=f.has_snp, has_mri=f.has_mri)
        tr = {k: v[train] for k, v in inputs.items()}
        te = {k: v[test] for k, v in inputs.items()}
        params = tune_classifier(
            tr, y_tr, mmse_tr, space, classifier_defaults, spec.modalities, proto.trials, proto.inner_folds, seed
        )
        model = classifier_from(params, classifier_defaults, len(classes), spec.modalities, seed)
        model.fit(**tr, y=y_tr, mmse01=mmse_tr)
        _record(res, method, task, y_te, BaselinePrediction(model.predict_proba(**te), model.predict_mmse(**te), params), test_rows)
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
