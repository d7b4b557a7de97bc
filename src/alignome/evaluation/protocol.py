"""One outer fold of paper 000's nested cross-validation, all methods on the same split."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from alignome.cohort.model import Cohort
from alignome.cohort.splits import SubjectFold
from alignome.config import Recipe
from alignome.evaluation.baselines import BaselinePrediction, oracle, random_forest
from alignome.evaluation.fold_inputs import FoldInputs, prepare_fold
from alignome.evaluation.methods import MAIN_METHOD, NEURAL_METHODS, PRETRAIN_VARIANTS
from alignome.evaluation.search import classifier_from, tune_classifier
from alignome.evaluation.tasks import TASK_CLASSES, auc_metric_name, mmse_rmse, scale_mmse, task_auc
from alignome.training.pretrain import ContrastivePretrainer


@dataclass
class FoldResult:
    """Long-form tables produced by one outer fold."""

    fold: int
    results: list[dict] = field(default_factory=list)
    predictions: list[pd.DataFrame] = field(default_factory=list)
    gates: list[pd.DataFrame] = field(default_factory=list)
    curves: list[pd.DataFrame] = field(default_factory=list)
    embeddings: pd.DataFrame | None = None
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


def run_fold(cohort: Cohort, pairs: pd.DataFrame, final: pd.DataFrame, fold: SubjectFold, recipe: Recipe) -> FoldResult:
    """Pretrain on the fold's training subjects, fit every method on their final visits, score the test subjects."""
    torch.set_num_threads(1)
    seed = recipe.seed * 1000 + fold.index
    res = FoldResult(fold.index)
    proto, method_cfg = recipe.protocol, recipe.method
    t0 = time.perf_counter()
    data: FoldInputs = prepare_fold(cohort, pairs, final, fold)
    res.timings_s["prepare"] = time.perf_counter() - t0

    wanted = [m for m in proto.methods if m in NEURAL_METHODS]
    variants = sorted({NEURAL_METHODS[m].pretrain_variant for m in wanted})
    encoded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    t0 = time.perf_counter()
    for variant in variants:
        pre = ContrastivePretrainer(method_cfg, seed=seed, **PRETRAIN_VARIANTS[variant])
        p = data.pretrain
        pre.fit(p.snp, p.age, p.volumes, groups=p.subject)
        f = data.final_inputs
        encoded[variant] = pre.transform(f.snp, f.age, f.volumes)
        for method in wanted:
            if NEURAL_METHODS[method].pretrain_variant == variant and NEURAL_METHODS[method].modalities == ("snp", "mri"):
                res.curves.append(pd.DataFrame(pre.history_).assign(method=method, fold=fold.index))
        if variant == "full":
            e = data.embed_inputs
            z_snp, z_mri = pre.transform(e.snp, e.age, e.volumes)
            emb = data.embed_scans[["subject", "age", "diagnosis"]].reset_index(drop=True).assign(
                fold=fold.index, split="test", method=MAIN_METHOD
            )
            z_snp[~e.has_snp] = np.nan
            z_mri[~e.has_mri] = np.nan
            zs = pd.DataFrame(z_snp, columns=[f"z_snp_{i}" for i in range(z_snp.shape[1])])
            zm = pd.DataFrame(z_mri, columns=[f"z_mri_{i}" for i in range(z_mri.shape[1])])
            res.embeddings = pd.concat([emb, zs, zm], axis=1)
    res.timings_s["pretrain"] = time.perf_counter() - t0

    truth = _truth_features(cohort, data.final) if "oracle" in proto.methods else None
    t_cls = t_rf = 0.0
    for task in proto.tasks:
        classes = TASK_CLASSES[task]
        rows_mask = data.final["diagnosis"].isin(classes).to_numpy()
        train = rows_mask & (data.final["split"] == "train").to_numpy()
        test = rows_mask & (data.final["split"] == "test").to_numpy()
        y_all = data.final["diagnosis"].map({c: i for i, c in enumerate(classes)}).to_numpy()
        y_tr, y_te = y_all[train].astype(int), y_all[test].astype(int)
        mmse_tr = scale_mmse(data.final["mmse"].to_numpy(dtype=float)[train])
        test_rows = data.final[test]

        t0 = time.perf_counter()
        for method in wanted:
            spec = NEURAL_METHODS[method]
            z_snp, z_mri = encoded[spec.pretrain_variant]
            f = data.final_inputs
            inputs = dict(z_snp=z_snp, z_mri=z_mri, demographics=data.demographics, has_snp=f.has_snp, has_mri=f.has_mri)
            tr = {k: v[train] for k, v in inputs.items()}
            te = {k: v[test] for k, v in inputs.items()}
            params = tune_classifier(
                tr, y_tr, mmse_tr, proto.search, method_cfg.classifier, spec.modalities, proto.trials, proto.inner_folds, seed
            )
            model = classifier_from(params, method_cfg.classifier, len(classes), spec.modalities, seed)
            model.fit(**tr, y=y_tr, mmse01=mmse_tr)
            pred = BaselinePrediction(model.predict_proba(**te), model.predict_mmse(**te), params)
            _record(res, method, task, y_te, pred, test_rows)
            if method == MAIN_METHOD:
                alpha = model.gate_weights(**te)
                res.gates.append(
                    pd.DataFrame(
                        {
                            "method": method,
                            "task": task,
                            "fold": fold.index,
                            "subject": test_rows["subject"].to_numpy(),
                            "diagnosis": test_rows["diagnosis"].to_numpy(),
                            "alpha_snp": alpha[:, 0],
                            "alpha_mri": alpha[:, 1],
                        }
                    )
                )
        t_cls += time.perf_counter() - t0

        t0 = time.perf_counter()
        if "random-forest" in proto.methods:
            pred = random_forest(
                data.raw_features[train], y_tr, mmse_tr, data.raw_features[test], proto.rf_grid, proto.inner_folds, seed
            )
            _record(res, "random-forest", task, y_te, pred, test_rows)
        if truth is not None:
            _record(res, "oracle", task, y_te, oracle(truth[train], y_tr, mmse_tr, truth[test], seed), test_rows)
        t_rf += time.perf_counter() - t0
    res.timings_s["fusion_classifiers"] = t_cls
    res.timings_s["baselines"] = t_rf
    return res
