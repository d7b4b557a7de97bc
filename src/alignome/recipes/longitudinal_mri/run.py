"""Run the ``longitudinal-mri`` recipe (paper 004): cohort → cache → pretraining → evaluation → report."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignome.cohort.image_cohort import ImageCohort, read_bids_folder, read_image_manifest
from alignome.cohort.splits import SubjectSplit, train_val_test_subjects
from alignome.imaging.cache import VolumeCache
from alignome.imaging.settings import expected_input
from alignome.io.writable import check_writable
from alignome.recipes.loading import load_data_section
from alignome.recipes.longitudinal_mri.checkpoint_key import checkpoint_dir
from alignome.recipes.longitudinal_mri.evaluate import evaluate_encoders, last_diagnosis
from alignome.recipes.longitudinal_mri.methods import VOXEL_PCA
from alignome.recipes.longitudinal_mri.schema import LongitudinalMRIRecipe, MRIDataConfig
from alignome.recipes.longitudinal_mri.seeds import run_seeds
from alignome.recipes.longitudinal_mri.train import train_encoders
from alignome.recipes.longitudinal_mri.voxel_baseline import voxel_pca_embeddings
from alignome.recipes.run_dir import finish_run, open_run_dir, simulate_once
from alignome.simulate.mri3d import simulate_mri3d

#: Default folder of the preprocessed-volume cache, shared by all runs
#: (``data.cache_dir`` in the recipe or the environment variable ``ALIGNOME_CACHE_DIR`` override it).
DEFAULT_CACHE = Path.home() / ".cache" / "alignome" / "volumes"


def cache_dir(data: MRIDataConfig) -> Path:
    """Folder of the preprocessed-volume cache: recipe, then environment, then the default."""
    if data.cache_dir is not None:
        return data.cache_dir
    return Path(os.environ.get("ALIGNOME_CACHE_DIR") or DEFAULT_CACHE)


def materialise_mri_data(recipe: LongitudinalMRIRecipe, out: Path, log: logging.Logger) -> MRIDataConfig:
    """Return the data section to read; for ``simulate:`` write the simulated 3D cohort first."""
    data = recipe.data
    if data.simulate is None:
        return data
    params = {"seed": recipe.seed, **data.simulate}
    data_dir = simulate_once(out, params, simulate_mri3d, log, "3D MRI cohort")
    section = load_data_section(data_dir, MRIDataConfig)
    keep = data.model_dump(exclude={"simulate", "manifest", "bids", "truth"})
    return MRIDataConfig.model_validate({**section, **keep})


def read_cohort(data: MRIDataConfig, jobs: int) -> ImageCohort:
    """Read and validate the scans of a manifest or a BIDS-like folder."""
    if data.bids is not None:
        return read_bids_folder(data.bids, modality=data.modality, jobs=jobs)
    return read_image_manifest(
        data.manifest.path,
        columns=data.manifest.columns or None,
        modality=data.modality,
        diagnosis_map=data.diagnosis_map,
        jobs=jobs,
        truth=data.truth,
    )


def split_rows(scans: pd.DataFrame, split: SubjectSplit) -> dict[str, np.ndarray]:
    """Row positions of the scan table in each part of a subject-wise split."""
    return {
        part: np.flatnonzero(scans["subject"].isin(getattr(split, part)).to_numpy())
        for part in ("train", "val", "test")
    }


def run_longitudinal(recipe: LongitudinalMRIRecipe, preset: str | None, out: Path) -> Path:
    """Run the ``longitudinal-mri`` recipe into ``out``: once, or once per seed of ``protocol.seeds``
    (:func:`alignome.recipes.longitudinal_mri.seeds.run_seeds`)."""
    if recipe.protocol.seeds is not None:
        return run_seeds(recipe, preset, out, run_single_seed)
    return run_single_seed(recipe, preset, out)


def run_single_seed(recipe: LongitudinalMRIRecipe, preset: str | None, out: Path) -> Path:
    """Run the ``longitudinal-mri`` recipe with its ``seed`` and write its run directory.

    Steps: read and validate the NIfTI cohort; preprocess every volume once into the
    content-keyed cache (both cores); split subjects into train/validation/test;
    pretrain the 3D encoder with longitudinal InfoNCE (checkpoint chosen by the
    validation metric, resumable); embed every scan with it, with the reference
    encoders and with a PCA of the voxels fitted on training subjects; evaluate on test
    subjects (temporal consistency, re-identification, atrophy tracking, probes fitted on
    training subjects, each with a bootstrap interval over test subjects); write tables,
    embeddings and the report.
    """
    check_writable(cache_dir(recipe.data), "volume cache",
                   fix="set ALIGNOME_CACHE_DIR (or data.cache_dir in the recipe) to a folder you can write to")
    log, key = open_run_dir(recipe, preset, out)
    timings: dict[str, float] = {}
    jobs = recipe.protocol.jobs

    t0 = time.perf_counter()
    data = materialise_mri_data(recipe, out, log)
    cohort = read_cohort(data, jobs)
    scans = cohort.scans
    timings["read_and_validate"] = time.perf_counter() - t0
    for drop in cohort.drops:
        log.warning("%s", drop)
    if cohort.single_visit_subjects:
        log.warning(
            "%d subject(s) have one usable scan: kept for evaluation, but they have no positive pair for training",
            len(cohort.single_visit_subjects),
        )
    log.info("cohort: %d subjects, %d scans", scans["subject"].nunique(), len(scans))

    preprocessing = expected_input(recipe.method.preprocess)
    log.info("input: %s; raw-T1 steps: %s", preprocessing["input"],
             ", ".join(preprocessing["steps"]) or "none")
    cache = VolumeCache(cache_dir(data), recipe.method.preprocess)
    t0 = time.perf_counter()
    stats = cache.build(list(scans["path"]), jobs=jobs, progress=True)
    volumes = cache.volumes(list(scans["path"]))  # memory-mapped per scan: RAM does not grow with the cohort
    timings["preprocess_cache"] = time.perf_counter() - t0
    log.info("volume cache %s: %d hit(s), %d built in %.1f s", cache.cache_dir, stats.hits, stats.built, stats.seconds)
    if stats.rebuilt:
        log.warning("volume cache: %d entry(ies) failed their checksum and were rebuilt", stats.rebuilt)

    split = train_val_test_subjects(  # subjects with one scan have no pair: they go to test
        last_diagnosis(scans), recipe.protocol.val_fraction, recipe.protocol.test_fraction, recipe.seed,
        scan_counts=scans["subject"].value_counts(),
    )
    rows = split_rows(scans, split)
    log.info("subjects: %d train, %d validation, %d test", len(split.train), len(split.val), len(split.test))

    # checkpoints of other settings or images live apart: a change trains afresh, the same run resumes
    trained = train_encoders(volumes, scans, rows, recipe, checkpoint_dir(out, key, cache, scans, log), log)
    if not trained.main_process:  # a launched copy of the command: the main process evaluates and reports
        return out
    timings.update(trained.timings_s)
    baselines, voxel_pca = {}, None
    if VOXEL_PCA in recipe.protocol.references:
        t0 = time.perf_counter()
        baselines, voxel_pca = voxel_pca_embeddings(volumes, rows, recipe.method.embedding_dim, log)
        timings["fit_voxel_pca"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    evaluation = evaluate_encoders(trained.models, volumes, scans, rows, recipe.seed, truth=cohort.truth,
                                   baselines=baselines)
    timings["embed_and_evaluate"] = time.perf_counter() - t0
    for note in evaluation.notes:
        log.warning("%s", note)

    evaluation.results.to_csv(out / "results.csv", index=False)
    evaluation.embeddings.to_parquet(out / "embeddings.parquet", index=False)
    trained.curves.to_csv(out / "training_curves.csv", index=False)
    split_table = pd.DataFrame(
        [(s, part) for part in ("train", "val", "test") for s in getattr(split, part)], columns=["subject", "split"]
    )
    split_table.to_csv(out / "splits.csv", index=False)

    metrics: dict[str, Any] = {
        "kind": recipe.kind,
        "recipe": recipe.name,
        "preset": preset,
        "seed": recipe.seed,
        "contrastive_form": recipe.method.contrastive_form,
        "cohort": {
            "subjects": int(scans["subject"].nunique()),
            "scans": int(len(scans)),
            "single_visit_subjects": len(cohort.single_visit_subjects),
            "split_subjects": {p: len(getattr(split, p)) for p in ("train", "val", "test")},
            "drops": [str(d) for d in cohort.drops],
        },
        "cache": {"dir": str(cache.cache_dir), "hits": stats.hits, "built": stats.built, "rebuilt": stats.rebuilt,
                  "seconds": stats.seconds},
        "preprocess": preprocessing,
        "encoder": trained.description,
        "voxel_pca": voxel_pca,
        "speed": {**trained.speed, "inference_volumes_per_s": evaluation.inference_volumes_per_s},
        "unavailable": evaluation.unavailable,
        "probe_penalties": evaluation.penalties,
        "notes": evaluation.notes,
        "timings_s": timings,
    }
    return finish_run(out, metrics, log)
