"""Run the ``gemcont`` recipe: glyphs → rotation cohorts → splits × methods → held-out scores → report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignome.imaging.emnist import load_emnist
from alignome.imaging.glyph_set import GlyphSet, stratified_subsample
from alignome.recipes.gemcont.embedding_table import embedding_table, write_embedding_table
from alignome.recipes.gemcont.held_out_intervals import SplitDraws, held_out_resamples, with_intervals
from alignome.recipes.gemcont.methods import ORACLE, base_settings, method_settings
from alignome.recipes.gemcont.own_images import run_own_images
from alignome.recipes.gemcont.schema import GemcontRecipe
from alignome.recipes.gemcont.spirometry_study import run_spirometry
from alignome.recipes.gemcont.study import Condition, Scores, oracle_scores, study_conditions, training_rows
from alignome.recipes.gemcont.units import Evaluation, UnitResult, fit_and_score
from alignome.recipes.run_dir import finish_run, open_run_dir
from alignome.recipes.work_units import run_units
from alignome.report.bootstrap import resampled_r2
from alignome.simulate.glyphs import render_glyphs
from alignome.simulate.rotation_study import RotationCohort, simulate_rotation_cohort, write_plink


def read_glyphs(recipe: GemcontRecipe) -> tuple[GlyphSet, str]:
    """The study's images: real EMNIST when the recipe names its files, else rendered glyphs."""
    d = recipe.data
    n = d.n_test + d.n_pool
    if d.emnist_images is not None:
        return stratified_subsample(load_emnist(d.emnist_images, d.emnist_labels), n, recipe.seed), "EMNIST"
    return render_glyphs(n, recipe.seed, size=d.image_size), "rendered glyphs"


def _unit_name(c: Condition, split: int, method: str) -> str:
    return f"{c.axis}-N{c.n_train}-h{c.h_g:g}-a{c.alpha_max_deg:g}-split{split}-{method}"


def _write_held_out(out: Path, cohort: RotationCohort, test_rows: np.ndarray, train_rows: np.ndarray,
                    results: dict[str, UnitResult]) -> list[str]:
    """PLINK genotypes of every subject, each method's test embeddings as an ``alignome gwas`` table, the training IDs."""
    (out / "data").mkdir(exist_ok=True)
    write_plink(cohort, out / "data" / "genotypes")
    cohort.truth_frame().to_csv(out / "data" / "variants_truth.csv", index=False)
    emb_dir = out / "embeddings"
    emb_dir.mkdir(exist_ok=True)
    ids = cohort.subject_ids[test_rows]
    for method, res in results.items():
        write_embedding_table(embedding_table(res.embedding, ids), emb_dir / f"{method}.tsv")
    (out / "trained_subjects.txt").write_text("\n".join(cohort.subject_ids[train_rows]) + "\n")
    return sorted(results)


def run_gemcont(recipe: GemcontRecipe, preset: str | None, out: Path) -> Path:
    """Run the rotation study of paper 003 and write its run directory.

    Every (condition, split, method) unit trains on its split's training subjects only and is
    scored on the fixed test subjects only; units run on ``jobs`` processes and resume from
    their checkpoints. The default condition's first split writes each method's test
    embeddings as an ``alignome gwas`` phenotype table, the training subjects for
    ``--trained-on``/``--exclude-trained``, and the cohort's PLINK fileset.
    """
    log, key = open_run_dir(recipe, preset, out)
    if recipe.data.manifest is not None:
        return finish_run(out, run_own_images(recipe, preset, out, log), log)
    if recipe.data.spirometry is not None:
        return finish_run(out, run_spirometry(recipe, preset, out, log), log)
    timings: dict[str, float] = {}
    d, p = recipe.data, recipe.protocol
    t0 = time.perf_counter()
    glyphs, source = read_glyphs(recipe)
    conditions = study_conditions(p.n_train, d.h_g, d.alpha_max_deg, p.sweep.n_train, p.sweep.h_g, p.sweep.alpha_max_deg)
    cohorts: dict[tuple[float, float], RotationCohort] = {}
    for c in conditions:
        if (c.h_g, c.alpha_max_deg) not in cohorts:
            cohorts[(c.h_g, c.alpha_max_deg)] = simulate_rotation_cohort(
                glyphs, d.n_variants, c.h_g, c.alpha_max_deg, recipe.seed, maf_range=tuple(d.maf_range),
                n_null_variants=d.n_null_variants)
    timings["simulate"] = time.perf_counter() - t0
    log.info("%d %s; %d cohort(s) for %d condition(s); %d test subjects, pool of %d", len(glyphs), source,
             len(cohorts), len(conditions), d.n_test, d.n_pool)

    test_rows = np.arange(d.n_test)
    base = base_settings(recipe)
    evaluation = Evaluation(n_pcs=p.gwas_pcs, threshold=p.threshold, ridge_folds=p.ridge_folds)
    threads = 1 if recipe.protocol.jobs > 1 else 2
    units: dict[str, tuple[Any, tuple[Any, ...]]] = {}
    meta: dict[str, tuple[Condition, int, str]] = {}
    for c in conditions:
        cohort = cohorts[(c.h_g, c.alpha_max_deg)]
        for split in range(p.splits):
            train = training_rows(d.n_test, d.n_pool, c.n_train, split, recipe.seed)
            for method in p.methods:
                name = _unit_name(c, split, method)
                settings = method_settings(base, method, seed=recipe.seed * 1000 + split)
                units[name] = (fit_and_score, (settings, cohort, train, test_rows, evaluation, threads, method == "prs"))
                meta[name] = (c, split, method)
    t0 = time.perf_counter()
    done = run_units("gemcont study", units, out / "checkpoints", key, recipe.protocol.jobs, log)
    timings["train_and_score"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rows, curves, speeds = [], [], []
    draws = SplitDraws()
    resamples = {c.label: held_out_resamples(np.zeros(d.n_test), recipe.seed, c.label, 0) for c in conditions}

    def record(c: Condition, split: int, method: str, scores: dict[str, float], z_pred: np.ndarray | None) -> None:
        for metric, value in scores.items():
            rows.append({"method": method, "task": c.label, "metric": metric, "fold": split, "value": value,
                         "axis": c.axis, "n_train": c.n_train, "h_g": c.h_g, "alpha_max_deg": c.alpha_max_deg})
        if z_pred is not None:
            y = cohorts[(c.h_g, c.alpha_max_deg)].z[test_rows]
            draws.add(method, c.label, "r2", resampled_r2(y, z_pred, resamples[c.label]))

    for name, (c, split, method) in meta.items():
        res = done[name]
        record(c, split, method, res.scores, res.z_pred)
        curves += [{"method": method, "task": c.label, "fold": split, **r} for r in res.curve]
        speeds.append({"method": method, **res.speed})
    oracles: dict[tuple[float, float], Scores] = {}
    for c in conditions:  # the truth needs no training: one row per condition, split 0's ridge folds
        dials = (c.h_g, c.alpha_max_deg)
        if dials not in oracles:
            oracles[dials] = oracle_scores(cohorts[dials], test_rows, p.threshold, p.ridge_folds, recipe.seed * 1000)
        o = oracles[dials]
        record(c, 0, ORACLE, {"r2": o.r2, "recovered_fraction": o.recovered, "lambda_gc_null": o.lambda_gc_null,
                              "null_hits": float(o.null_hits)}, o.z_pred)
    results = with_intervals(pd.DataFrame(rows), draws, {"recovered_fraction": d.n_variants})
    results.to_csv(out / "results.csv", index=False)
    timings["oracle_and_intervals"] = time.perf_counter() - t0
    pd.DataFrame(curves).to_csv(out / "training_curves.csv", index=False)

    default = conditions[0]
    first = {m: done[_unit_name(default, 0, m)] for m in p.methods}
    cohort = cohorts[(default.h_g, default.alpha_max_deg)]
    written = _write_held_out(out, cohort, test_rows, training_rows(d.n_test, d.n_pool, default.n_train, 0, recipe.seed),
                              first)
    speed = pd.DataFrame(speeds).groupby("method").mean()
    metrics: dict[str, Any] = {
        "kind": recipe.kind, "recipe": recipe.name, "preset": preset, "seed": recipe.seed,
        "contrastive_form": recipe.method.contrastive_form,
        "images": source,
        "cohort": {"subjects": int(len(glyphs)), "test_subjects": int(d.n_test), "training_pool": int(d.n_pool),
                   "causal_variants": int(d.n_variants), "null_variants": int(d.n_null_variants)},
        "conditions": [c.__dict__ for c in conditions],
        "units": len(units),
        "embeddings_written": {"methods": written, "condition": default.label, "split": 0,
                               "test_subjects": int(d.n_test), "training_subjects": int(default.n_train)},
        "speed": {m: {k: float(v) for k, v in row.items()} for m, row in speed.iterrows()},
        "timings_s": timings,
    }
    return finish_run(out, metrics, log)
