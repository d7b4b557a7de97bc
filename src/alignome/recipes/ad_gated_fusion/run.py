"""Run the ``ad-gated-fusion`` recipe end to end: cohort → folds → methods → tables → report."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from alignome.cohort.load import load_cohort
from alignome.cohort.pairing import final_visits, pair_scans
from alignome.cohort.sources import DataConfig
from alignome.diagnoses import DIAGNOSES
from alignome.errors import ConfigError
from alignome.recipes.ad_gated_fusion.evaluation import encode_fold, evaluate_task
from alignome.recipes.ad_gated_fusion.schema import Recipe
from alignome.recipes.ad_gated_fusion.work_plan import plan_work, without_genotypes
from alignome.recipes.loading import load_data_section
from alignome.recipes.run_dir import finish_run, open_run_dir, simulate_once
from alignome.recipes.work_units import run_units
from alignome.report.summary import RESULT_COLUMNS


#: Keys of ``data: simulate:`` and what they set in :func:`alignome.simulate.simulate_ad_cohort`.
SIMULATE_KEYS = ("subjects", "seed", "shared_signal")


def _simulate_keys(simulate: dict[str, Any]) -> dict[str, Any]:
    """``simulate`` unchanged, or a ConfigError naming a key the simulator does not take."""
    unknown = sorted(set(simulate) - set(SIMULATE_KEYS))
    if unknown:
        raise ConfigError(
            f"data: simulate: has unknown key(s) {unknown}",
            field=f"data.simulate.{unknown[0]}",
            fix=f"use only {list(SIMULATE_KEYS)}, e.g. 'simulate: {{subjects: 844, shared_signal: 1}}'",
        )
    return dict(simulate)


def materialise_data(recipe: Recipe, out: Path, log: logging.Logger) -> DataConfig:
    """Return the data section to read; for ``simulate:`` write the simulated cohort first."""
    if recipe.data.simulate is None:
        return recipe.data
    from alignome.simulate.ad_cohort import simulate_ad_cohort

    params = {"subjects": 844, "seed": recipe.seed, **_simulate_keys(recipe.data.simulate)}
    data_dir = simulate_once(
        out, params,
        lambda d, subjects, seed, shared_signal=0.0: simulate_ad_cohort(
            d, subjects=int(subjects), seed=int(seed), shared_signal=shared_signal
        ),
        log, "cohort",
    )
    section = load_data_section(data_dir, DataConfig)
    section.update(
        diagnosis_map=recipe.data.diagnosis_map,
        label_window_days=recipe.data.label_window_days,
        allow_missing_modality=recipe.data.allow_missing_modality,
    )
    return DataConfig.model_validate(section)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _whole_numbers_as_integers(table: pd.DataFrame) -> pd.DataFrame:
    """Integer settings stay integers where other methods' rows leave the column empty (no ``32.0``)."""
    out = table.copy()
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_float_dtype(values) and values.notna().any():
            known = values.dropna()
            if (known == known.round()).all() and known.abs().max() < 2**53:
                out[col] = values.astype("Int64")
    return out


def _summary(results: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (method, task, metric), grp in results.groupby(["method", "task", "metric"], sort=False):
        v = grp["value"].astype(float)
        out.setdefault(method, {}).setdefault(task, {})[metric] = {
            "mean": float(v.mean()),
            "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "n": int(v.count()),
        }
    return out


def mri_embeddings_by_subject(embeddings: pd.DataFrame) -> pd.DataFrame:
    """One row per subject (``IID``): the out-of-fold MRI embedding of the subject's latest scan.

    This is the phenotype table for ``alignome gwas``; the SNP embeddings are left
    out on purpose, since a GWAS on genotype-derived traits would be circular.
    """
    cols = [c for c in embeddings.columns if c.startswith("z_mri_")]
    latest = embeddings.dropna(subset=cols).sort_values(["subject", "age"]).groupby("subject").tail(1)
    return latest[["subject", *cols]].rename(columns={"subject": "IID"}).reset_index(drop=True)


def run_gated_fusion(recipe: Recipe, preset: str | None, out: Path) -> Path:
    """Run the ``ad-gated-fusion`` recipe (paper 000): nested CV of all methods, then the report."""
    log, key = open_run_dir(recipe, preset, out)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    data_cfg = materialise_data(recipe, out, log)
    cohort = load_cohort(data_cfg, n_snps=recipe.method.n_snps)
    pairs = pair_scans(cohort, window_days=data_cfg.label_window_days)
    final = final_visits(cohort, pairs)
    timings["load_cohort"] = time.perf_counter() - t0
    for drop in cohort.drops:
        log.warning("%s", drop)
    tally = final["diagnosis"].value_counts()
    counts = {d: int(tally.get(d, 0)) for d in DIAGNOSES}
    log.info(
        "cohort: %d subjects, %d scans (%d with a diagnosis within %g days), %d variants; final visits %s",
        len(cohort.subjects), len(cohort.scans), int(pairs["diagnosis"].notna().sum()),
        data_cfg.label_window_days, cohort.genotypes.shape[1], counts,
    )

    skipped_methods: dict[str, str] = {}
    if cohort.genotypes.shape[1] == 0:
        recipe, skipped_methods = without_genotypes(recipe, log)
    final_dx = final.set_index("subject")["diagnosis"]
    work = plan_work(final_dx, counts, cohort.subject_ids, recipe, log)
    folds, units = work.folds, work.units
    ckpt = out / "checkpoints"
    jobs = recipe.protocol.jobs

    t0 = time.perf_counter()
    encodings = run_units(
        "pretraining (outer folds)",
        {f"fold{f.index}": (encode_fold, (cohort, pairs, final, f, recipe)) for f in folds},
        ckpt, key, jobs, log,
    )
    timings["pretraining"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    evaluated = run_units(
        "fitting methods (fold × task)",
        {
            f"fold{f.index}-{task.replace('/', '_')}": (evaluate_task, (encodings[f"fold{f.index}"], task, recipe))
            for f, task in units
        },
        ckpt, key, jobs, log,
    )
    timings["method_fitting"] = time.perf_counter() - t0

    encs = [encodings[f"fold{f.index}"] for f in folds]
    ordered = [evaluated[f"fold{f.index}-{t.replace('/', '_')}"] for f, t in units]
    results = pd.DataFrame([r for f in ordered for r in f.results], columns=list(RESULT_COLUMNS))
    results.to_csv(out / "results.csv", index=False)
    _concat([p for f in ordered for p in f.predictions]).to_csv(out / "predictions.csv", index=False)
    _concat([g for f in ordered for g in f.gates]).to_csv(out / "gates.csv", index=False)
    _concat([c for e in encs for c in e.curves]).to_csv(out / "training_curves.csv", index=False)
    _whole_numbers_as_integers(pd.DataFrame([p for f in ordered for p in f.best_params])).to_csv(
        out / "best_params.csv", index=False
    )
    _concat(
        [e.choice.trials.assign(fold=e.fold) for e in encs if e.choice is not None and len(e.choice.trials)]
    ).to_csv(out / "pretrain_search.csv", index=False)
    embeddings = _concat([e.embeddings for e in encs])
    if len(embeddings):
        embeddings.to_parquet(out / "embeddings.parquet", index=False)
        mri_embeddings_by_subject(embeddings).to_parquet(out / "mri_embeddings_by_subject.parquet", index=False)
    for stage in ("prepare", "pretrain_search", "pretrain", "fusion_classifiers", "baselines"):
        timings[f"{stage}_cpu"] = sum(u.timings_s.get(stage, 0.0) for u in [*encs, *ordered])

    metrics = {
        "kind": recipe.kind,
        "recipe": recipe.name,
        "preset": preset,
        "seed": recipe.seed,
        "contrastive_form": recipe.method.contrastive_form,
        "summary": _summary(results),
        "skipped_methods": skipped_methods,
        "skipped_tasks": work.plan.skipped,
        "skipped_folds": [{"fold": k, "task": t, "reason": why} for (k, t), why in work.fold_skips.items()],
        "cohort": {
            "subjects": int(len(cohort.subjects)),
            "scans": int(len(cohort.scans)),
            "scans_with_diagnosis": int(pairs["diagnosis"].notna().sum()),
            "variants": int(cohort.genotypes.shape[1]),
            "final_visits": {k: int(v) for k, v in counts.items()},
            "drops": [str(d) for d in cohort.drops],
        },
        "timings_s": timings,
    }
    return finish_run(out, metrics, log)
