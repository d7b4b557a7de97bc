"""Run the ``mm-dim`` recipe (paper 001): paired cohort → splits → per fold and objective: pretrain, probe → report."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from alignome.objectives.dim import DIMObjective
from alignome.recipes.loading import load_data_section
from alignome.recipes.mm_dim.cohort import PairedCohort, load_volumes, read_paired_cohort
from alignome.recipes.mm_dim.fold_volumes import fold_volumes
from alignome.recipes.mm_dim.introspection import introspect, similarity_table, write_figures
from alignome.recipes.mm_dim.probe import (
    RAW_BASELINE,
    evaluation_latents,
    latent_table,
    probe_rows,
    voxel_pca_latents,
)
from alignome.recipes.mm_dim.schema import MMDataConfig, MMDimRecipe
from alignome.recipes.mm_dim.splits import FoldPlan, MMSplits, fold_plan, split_subjects
from alignome.recipes.run_dir import finish_run, open_run_dir, simulate_once
from alignome.simulate.falff3d import FIELD_MM, oracle_auc, simulate_mm_cohort
from alignome.training.dim_pretrain import PretrainSettings, pretrain


def materialise_data(recipe: MMDimRecipe, out: Path, log: logging.Logger) -> MMDataConfig:
    """The data section to read; for ``simulate:`` the built-in T1 + fALFF cohort is written first."""
    data = recipe.data
    if data.simulate is None:
        return data
    # render at the size the networks train at (6 mm for 32³) unless the recipe names a voxel size
    voxel_mm = FIELD_MM / recipe.method.size
    params = {"seed": recipe.seed, "jobs": data.jobs, "voxel_mm": voxel_mm, **data.simulate}
    data_dir = simulate_once(out, params, simulate_mm_cohort, log, "T1 + fALFF cohort")
    section = load_data_section(data_dir, MMDataConfig)
    keep = data.model_dump(exclude={"simulate", "manifest", "truth"})
    return MMDataConfig.model_validate({**section, **keep})


def pretrain_settings(recipe: MMDimRecipe) -> PretrainSettings:
    """The training loop's settings from the recipe's ``method`` section."""
    m = recipe.method
    return PretrainSettings(epochs=m.epochs, batch_size=m.batch_size, lr=m.lr, max_lr=m.max_lr, crop_pad=m.crop_pad,
                            flip_p=m.flip_p, latent_dim=m.latent_dim, base_width=m.base_width)


def _checkpoint_key(run_key: str, cohort: PairedCohort, objective: str, fold: int) -> str:
    """Settings, pairs and image files behind one training: a change of any trains afresh."""
    images = cohort.images[["subject", "modality", "path"]].to_csv(index=False)
    blob = f"{run_key}|{objective}|{fold}|{cohort.pairs.to_csv(index=False)}|{images}"
    return hashlib.sha256(blob.encode()).hexdigest()


def run_fold(recipe: MMDimRecipe, cohort: PairedCohort, volumes: dict[int, np.ndarray], plan: FoldPlan,
             checkpoints: Path, run_key: str, log: logging.Logger, figures: Path, first_fold: bool) -> dict[str, Any]:
    """Standardise for the fold, then pretrain and probe every objective; result rows, latents, speed."""
    m, p = recipe.method, recipe.protocol
    pairs = cohort.pairs.iloc[plan.pretrain_pairs]
    fit_ids = set(pairs["row_a"].astype(int)) | set(pairs["row_b"].astype(int))
    inputs = fold_volumes(volumes, cohort.images, fit_ids, m.histogram_standardisation)
    x = (np.stack([inputs[int(i)] for i in pairs["row_a"]]), np.stack([inputs[int(i)] for i in pairs["row_b"]]))
    labels = cohort.groups.loc[pairs["subject"]].to_numpy(int)
    introspected = p.introspected(m.objectives) if first_fold else []
    split_of = plan.split_of()
    subjects = sorted(split_of)
    rows, latents, curves, speed, coefs = [], [], [], {}, {}
    baseline = voxel_pca_latents(cohort, inputs, subjects, plan.probe_train, m.latent_dim)
    outcome = probe_rows(baseline, cohort, plan, recipe.data.modalities, RAW_BASELINE, p.probe_trials, p.probe_folds,
                         recipe.seed)
    rows += outcome.rows
    predictions = [outcome.predictions]
    for name in m.objectives:
        objective = DIMObjective(name, penalty=m.penalty, clip=m.clip, iwae_samples=m.iwae_samples)
        log.info("fold %d, objective %s: pretraining on %d pairs of %d subjects", plan.fold, name, len(pairs),
                 pairs["subject"].nunique())
        trained = pretrain(x, labels, objective, pretrain_settings(recipe), recipe.seed + plan.fold,
                           checkpoints / f"{name}_fold{plan.fold}.pkl",
                           _checkpoint_key(run_key, cohort, name, plan.fold), log)
        z = evaluation_latents(trained.model, cohort, inputs, subjects)
        outcome = probe_rows(z, cohort, plan, recipe.data.modalities, name, p.probe_trials, p.probe_folds, recipe.seed)
        found, coefs[name] = outcome.rows, outcome.coefficients
        rows += found
        predictions.append(outcome.predictions)
        latents.append(latent_table(z, cohort, recipe.data.modalities, name, plan.fold, split_of))
        curves.append(trained.curves.assign(objective=name, fold=plan.fold))
        speed[name] = trained.speed
        if name in introspected:
            introspect_network(trained.model, name, cohort, inputs, plan, coefs[name], recipe, figures)
        for r in found:
            log.info("fold %d, %s, %s: hold-out AUC %.3f", plan.fold, name, r["modality"], r["auc_holdout"])
    return {"rows": rows, "latents": pd.concat(latents, ignore_index=True), "curves": pd.concat(curves), "speed": speed,
            "predictions": pd.concat(predictions, ignore_index=True)}


def introspect_network(model: Any, name: str, cohort: PairedCohort, inputs: dict[int, np.ndarray], plan: FoldPlan,
                       coefficients: dict[str, np.ndarray], recipe: MMDimRecipe, figures: Path) -> None:
    """Saliency-pair and group-difference figures of one network, on (up to ``introspect_subjects``) unseen subjects."""
    pairs = cohort.evaluation.set_index("subject").loc[list(plan.unseen)]
    pairs = pairs.iloc[: recipe.protocol.introspect_subjects]
    volumes = ([inputs[int(i)] for i in pairs["row_a"]], [inputs[int(i)] for i in pairs["row_b"]])
    groups = cohort.groups.loc[pairs.index].to_numpy(int)
    result = introspect(model, volumes, groups, coefficients, recipe.data.modalities, recipe.seed)
    figures.mkdir(exist_ok=True)
    write_figures(name, result, figures, np.mean(volumes[0], axis=0))


def oracle_rows(truth_path: Path | None, modalities: tuple[str, str], seed: int) -> list[dict[str, Any]]:
    """On a simulated cohort, each modality's oracle AUC from the planted truth (the bound of any probe)."""
    if truth_path is None:
        return []
    truth = pd.read_csv(truth_path)
    return [{"objective": "oracle", "modality": mod, "fold": -1, "auc_holdout": oracle_auc(truth, mod, seed)}
            for mod in modalities]


def long_results(probes: pd.DataFrame) -> pd.DataFrame:
    """The run's ``results.csv``: ``method`` (objective), ``task`` (modality), ``metric`` (an AUC), ``fold``, ``value``."""
    metrics = [c for c in ("auc_holdout", "auc_validation", "auc_probe_cv") if c in probes.columns]
    long = probes.melt(id_vars=["objective", "modality", "fold"], value_vars=metrics, var_name="metric")
    long = long.dropna(subset=["value"]).rename(columns={"objective": "method", "modality": "task"})
    return long[["method", "task", "metric", "fold", "value"]]


def _split_table(splits: MMSplits) -> pd.DataFrame:
    rows = [(s, "holdout", -1) for s in splits.holdout]
    rows += [(s, "fold_test", f.index) for f in splits.folds for s in f.test]
    return pd.DataFrame(rows, columns=["subject", "split", "fold"])


def run_mm_dim(recipe: MMDimRecipe, preset: str | None, out: Path) -> Path:
    """Run the ``mm-dim`` recipe and write its run directory.

    Steps: read (or simulate) the paired cohort and check every image; pair the modalities
    closest in days; preprocess every paired image once into the content-keyed cache; split
    subjects into a hold-out set and stratified folds; per fold, standardise intensities with
    landmarks fitted on the fold's pretraining images, then for each objective pretrain (resumable)
    and fit a tuned logistic probe per modality on frozen latents of training subjects, scored on
    hold-out and left-out subjects; write tables, latents, figures and the report.
    """
    log, key = open_run_dir(recipe, preset, out)
    if recipe.protocol.threads:
        torch.set_num_threads(recipe.protocol.threads)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = materialise_data(recipe, out, log)
    cohort = read_paired_cohort(data, log)
    for drop in cohort.drops:
        log.warning("%s", drop)
    cache = Path(os.environ.get("ALIGNOME_CACHE_DIR") or out / "cache")
    volumes = load_volumes(cohort, recipe.method.size, cache, data.jobs, log)
    timings["read_and_preprocess"] = time.perf_counter() - t0

    p = recipe.protocol
    splits = split_subjects(cohort.groups, p.folds, p.holdout_fraction, recipe.seed)
    split_table = _split_table(splits)
    for pattern in ("saliency_*.png", "group_differences_*.png"):  # a rerun's objectives may differ
        for stale in (out / "figures").glob(pattern):
            stale.unlink()
    rows, latents, curves, speed, predictions = [], [], [], {}, []
    t0 = time.perf_counter()
    for fold in splits.folds[: p.run_folds or p.folds]:
        plan = fold_plan(cohort, splits, fold)
        done = run_fold(recipe, cohort, volumes, plan, out / "checkpoints", key, log, out / "figures",
                        fold.index == splits.folds[0].index)
        rows += done["rows"]
        latents.append(done["latents"])
        predictions.append(done["predictions"])
        curves.append(done["curves"])
        speed[f"fold{fold.index}"] = done["speed"]
    timings["pretrain_and_probe"] = time.perf_counter() - t0
    rows += oracle_rows(data.truth, data.modalities, recipe.seed)

    probes = pd.DataFrame(rows)
    probes.to_csv(out / "probes.csv", index=False)
    long_results(probes).to_csv(out / "results.csv", index=False)
    pd.concat(predictions, ignore_index=True).to_csv(out / "predictions.csv", index=False)
    latent_frame = pd.concat(latents, ignore_index=True)
    latent_frame.to_parquet(out / "embeddings.parquet", index=False)
    similarity_table(latent_frame).to_csv(out / "similarity.csv", index=False)
    pd.concat(curves, ignore_index=True).to_csv(out / "training_curves.csv", index=False)
    split_table.to_csv(out / "splits.csv", index=False)
    metrics: dict[str, Any] = {
        "kind": recipe.kind, "recipe": recipe.name, "preset": preset, "seed": recipe.seed,
        "objectives": recipe.method.objectives, "modalities": list(data.modalities),
        "cohort": {"subjects": int(len(cohort.groups)), "images": int(len(cohort.images)),
                   "pretraining_pairs": int(len(cohort.pairs)),
                   "groups": {str(k): int(v) for k, v in cohort.groups.value_counts().items()},
                   "holdout_subjects": len(splits.holdout), "folds": p.folds,
                   "folds_run": p.run_folds or p.folds, "drops": [str(d) for d in cohort.drops]},
        "input_size": recipe.method.size, "epochs": recipe.method.epochs, "batch_size": recipe.method.batch_size,
        "speed": speed, "timings_s": timings,
    }
    return finish_run(out, metrics, log)
