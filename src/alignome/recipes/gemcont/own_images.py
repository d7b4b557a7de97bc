"""The ``gemcont`` recipe on your own images: one split, held-out embeddings, their multi-trait GWAS.

Subjects with an image, genotypes and the panel (:func:`alignome.cohort.image_manifest.load_image_manifest`)
are split once at random; each method trains on the training subjects (panel genotypes
mean-imputed with the training subjects' means), embeds the held-out ones, and those
embeddings (top-D PCs, rank-INT) are scanned genome-wide on the PLINK fileset by
:func:`alignome.gwas.run.scan_gwas` with the training subjects excluded and the manifest's
numeric covariates adjusted for. Methods that need a
known latent trait (``supervised``) are skipped: real data have none.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignome.cohort.image_manifest import load_image_manifest
from alignome.genetics.encoding import AdditiveEncoder
from alignome.genetics.panel import panel_effects
from alignome.gwas.phenotypes import embedding_phenotypes
from alignome.gwas.run import scan_gwas
from alignome.gwas.significance import lambda_gc
from alignome.recipes.gemcont.embedding_table import embedding_table, write_embedding_table
from alignome.recipes.gemcont.methods import METHODS, base_settings, method_settings
from alignome.training.image_embedders import EmbedderSettings, fit_embedder

#: Methods that train on a known latent trait; real data have none.
NEEDS_TRAIT = ("supervised",)


def _split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    if not 2 <= n_test <= n - 2:
        raise ValueError(f"{n} subjects cannot be split {test_fraction:g} held out with two on each side")
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def run_own_images(recipe: Any, preset: str | None, out: Path, log: logging.Logger,
                   base: EmbedderSettings | None = None) -> dict[str, Any]:
    """Train, embed, write and scan; return the run's metrics (``results.csv`` and the tables are written)."""
    own, p = recipe.data.manifest, recipe.protocol
    base = base or base_settings(recipe)
    t0 = time.perf_counter()
    data = load_image_manifest(own.path, own.bfile, own.panel, size=own.size, channels=own.channels,
                               columns=own.columns or None, projector_init=base.projector_init)
    train, test = _split(len(data.subjects), own.test_fraction, recipe.seed)
    genotypes = AdditiveEncoder().fit(data.genotypes[train]).transform(data.genotypes)  # training means fill gaps
    effects = panel_effects(data.panel)
    ids = np.asarray(data.subjects, dtype=str)
    (out / "trained_subjects.txt").write_text("\n".join(ids[train]) + "\n")
    pd.DataFrame({"subject": ids, "split": np.where(np.isin(np.arange(len(ids)), test), "test", "train")}).to_csv(
        out / "splits.csv", index=False)
    log.info("own images: %d subjects (%d train, %d held out), %d panel variants, images %s",
             len(ids), len(train), len(test), genotypes.shape[1], data.images.shape[1:])
    timings = {"read": time.perf_counter() - t0}
    methods = [m for m in p.methods if METHODS[m][0] not in NEEDS_TRAIT]
    for m in set(p.methods) - set(methods):
        log.warning("method %s skipped: it trains on a known latent trait, which real data lack", m)
    emb_dir = out / "embeddings"
    emb_dir.mkdir(exist_ok=True)
    covar = None  # the manifest's numeric covariates, adjusted for in every scan
    if data.covariates.shape[1]:
        covar = data.covariates.set_axis(pd.Index(ids, name="IID"), axis=0).iloc[test]
        log.info("GWAS covariates from the manifest: %s", ", ".join(map(str, covar.columns)))
    rows, speed = [], {}
    for method in methods:
        t0 = time.perf_counter()
        fitted = fit_embedder(method_settings(base, method, recipe.seed), data.images, train, genotypes=genotypes,
                              effects=effects, progress=True)
        emb = embedding_table(fitted.embed(data.images, test), ids[test])
        write_embedding_table(emb, emb_dir / f"{method}.tsv")
        scan = scan_gwas(data.bfile.with_suffix(""), embedding_phenotypes(emb, p.gwas_pcs), covar, out=out / "gwas" / method,
                         mode="multi", trained_on=list(ids[train]), exclude_trained=True)
        pvals = scan.p["multi"]
        for metric, value in (("lambda_gc", lambda_gc(pvals)), ("significant_variants", float(np.sum(pvals < p.threshold))),
                              ("gwas_samples", float(scan.samples.used))):
            rows.append({"method": method, "task": "own images", "metric": metric, "fold": 0, "value": value})
        speed[method] = {"train_images_per_s": fitted.images_per_s, "data_share": fitted.data_share}
        timings[method] = time.perf_counter() - t0
        log.info("%s: %s", method, scan.trained.describe() if scan.trained else "no training IDs given")
    pd.DataFrame(rows).to_csv(out / "results.csv", index=False)
    return {
        "kind": recipe.kind, "recipe": recipe.name, "preset": preset, "seed": recipe.seed,
        "contrastive_form": recipe.method.contrastive_form, "images": f"own ({own.path})",
        "cohort": {"subjects": len(ids), "train": len(train), "test": len(test), "panel_variants": int(genotypes.shape[1]),
                   "image_shape": list(data.images.shape[1:]), "drops": [str(d) for d in data.drops]},
        "embeddings_written": {"methods": methods, "condition": "own images", "split": 0,
                               "test_subjects": len(test), "training_subjects": len(train)},
        "speed": speed, "timings_s": timings,
    }
