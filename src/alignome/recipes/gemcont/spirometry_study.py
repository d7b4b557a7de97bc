"""Study 2 of paper 003 (§3.2): simulated flow–volume images and an asthma-like disease.

Random 50/50 splits of the cohort; every method trains on one half and embeds the other.
On the held-out half: disease AUC of an L2 logistic probe on the embeddings (cross-fitted, see
:mod:`alignome.evaluation.disease_probe`), against FEV1/FVC and the PRS as one-feature
baselines; PC1 of the embeddings between cases and controls (Cohen's d, the sign of PC1 is
arbitrary: its size is what counts), with each held-out subject's PC1 in ``pc1_by_status.csv`` for
the report's distributions (the PCs are fitted on the held-out half's embeddings alone, as the
GWAS phenotypes are); and the embedding GWAS on the cohort's PLINK fileset
(training half excluded), counting the disease GWAS's loci it recovers: loci = the simulated
1-Mb segments where the external meta-analysis (the disease GWAS) has p < 5e-8, recovered
when the embedding GWAS has p < 5e-8 in the same segment.

``prs`` is the paper's PRS baseline: GEMCONT with the panel's score as the projector's only input;
``pixels-pca`` the linear baseline (PCA of the raw pixels, fitted on the training half). The
``oracle`` row is the true airway trait of each held-out subject scored by the same code (its
GWAS has one PC: the trait rank-INT): what an image could at best carry. Every AUC has a
bootstrap interval over held-out subjects and the loci share a Wilson interval
(:mod:`alignome.recipes.gemcont.held_out_intervals`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sklearn.metrics import roc_auc_score

from alignome.evaluation.disease_probe import probe_scores, standardised_difference
from alignome.genetics.panel import panel_effects
from alignome.gwas.phenotypes import embedding_phenotypes
from alignome.gwas.run import scan_gwas
from alignome.gwas.significance import GENOME_WIDE
from alignome.recipes.gemcont.embedding_table import embedding_table
from alignome.recipes.gemcont.held_out_intervals import SplitDraws, auc_draws, held_out_resamples, with_intervals
from alignome.recipes.gemcont.methods import ORACLE, base_settings, method_settings
from alignome.recipes.gemcont.pc1_figure import PC1_FILE, status_table
from alignome.simulate.spirometry import SpirometryDials, locus_of, simulate_spirometry_cohort
from alignome.training.image_embedders import fit_embedder

#: The study's task name in ``results.csv``.
TASK = "spirometry"


def split_halves(n: int, split: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng([seed, split]).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


def disease_loci(meta: pd.DataFrame, bim: Path, loci: pd.DataFrame) -> set[str]:
    """Segments where the disease GWAS (the external meta-analysis) reaches p < 5e-8 (positions from ``bim``)."""
    where = pd.read_csv(bim, sep=r"\s+", header=None, usecols=[0, 1, 3], names=["chrom", "variant", "pos"])
    hits = where[where["variant"].isin(meta.loc[pd.to_numeric(meta["p"], errors="coerce") < GENOME_WIDE, "variant"])]
    if hits.empty:
        return set()
    return set(locus_of(hits["chrom"].astype(int).to_numpy(), hits["pos"].astype(int).to_numpy(), loci).dropna())


def run_spirometry(recipe: Any, preset: str | None, out: Path, log: logging.Logger) -> dict[str, Any]:
    """Simulate the spirometry cohort, run every split × method, write ``results.csv``; return the metrics."""
    p = recipe.protocol
    t0 = time.perf_counter()
    cohort = simulate_spirometry_cohort(out / "data", recipe.seed, SpirometryDials(**recipe.data.spirometry))
    timings = {"simulate": time.perf_counter() - t0}
    targets = disease_loci(cohort.meta, Path(f"{cohort.bfile}.bim"), cohort.loci)
    log.info("spirometry: %d subjects, %d cases, panel of %d variants, %d disease GWAS loci", cohort.n,
             int(cohort.disease.sum()), len(cohort.panel), len(targets))
    base = base_settings(recipe)
    beta = panel_effects(cohort.panel)
    panel = cohort.panel_dosage.astype(np.float32)
    prs = np.asarray(cohort.prs, dtype=np.float32)[:, None]
    ids = np.asarray(cohort.subject_ids, dtype=str)
    rows: list[dict[str, Any]] = []
    pc1_tables: list[pd.DataFrame] = []

    draws = SplitDraws()

    def add(method: str, split: int, metric: str, value: float) -> None:
        rows.append({"method": method, "task": TASK, "metric": metric, "fold": split, "value": value})

    for split in range(p.splits):
        train, test = split_halves(cohort.n, split, recipe.seed)
        y = cohort.disease[test]
        resamples = held_out_resamples(y, recipe.seed, TASK, split)

        def probe(method: str, features: np.ndarray) -> None:
            score = probe_scores(features, y, seed=split)
            add(method, split, "auc", float(roc_auc_score(y, score)))
            draws.add(method, TASK, "auc", auc_draws(y, score, resamples))

        def score(method: str, emb: np.ndarray, n_pcs: int) -> None:
            probe(method, emb)
            pcs = embedding_phenotypes(embedding_table(emb, ids[test]), n_pcs)
            status = pd.Series(y, index=ids[test]).loc[pcs.index].to_numpy()
            pc1 = pcs.iloc[:, 0].to_numpy()
            add(method, split, "pc1_cohens_d", abs(standardised_difference(pc1, status)))
            pc1_tables.append(status_table(method, split, pcs.index.to_numpy(), status, pc1))
            scan = scan_gwas(cohort.bfile, pcs, out=out / "gwas" / f"split{split}-{method}", mode="multi",
                             trained_on=list(ids[train]), exclude_trained=True)
            hit = scan.p["multi"] < p.threshold
            found = set(locus_of(np.asarray(scan.variants["#CHROM"])[hit].astype(int),
                                 np.asarray(scan.variants["POS"])[hit].astype(int), cohort.loci).dropna())
            add(method, split, "loci_recovered", len(found & targets) / len(targets) if targets else float("nan"))
            add(method, split, "loci_outside_disease_loci", float(len(found - targets)))
            add(method, split, "gwas_samples", float(scan.samples.used))

        probe("FEV1/FVC", cohort.fev1_fvc[test])
        add("FEV1/FVC", split, "pc1_cohens_d", abs(standardised_difference(cohort.fev1_fvc[test], y)))
        pc1_tables.append(status_table("FEV1/FVC", split, ids[test], y, cohort.fev1_fvc[test]))
        probe("PRS (no image)", cohort.prs[test])
        for method in p.methods:
            is_prs = method == "prs"
            settings = method_settings(base, "gemcont" if is_prs else method, seed=recipe.seed * 1000 + split)
            fitted = fit_embedder(settings, cohort.images, train, genotypes=prs if is_prs else panel,
                                  effects=np.ones(1) if is_prs else beta, target=cohort.trait)
            score(method, fitted.embed(cohort.images, test), p.gwas_pcs)
            log.info("spirometry split %d %s done", split, method)
        score(ORACLE, np.asarray(cohort.trait, dtype=np.float64)[test, None], 1)  # the truth: one PC, 1-df GWAS
    results = with_intervals(pd.DataFrame(rows), draws, {"loci_recovered": len(targets)})
    results.to_csv(out / "results.csv", index=False)
    pd.concat(pc1_tables, ignore_index=True).to_csv(out / PC1_FILE, index=False)
    timings["train_and_score"] = time.perf_counter() - t0 - timings["simulate"]
    return {"kind": recipe.kind, "recipe": recipe.name, "preset": preset, "seed": recipe.seed,
            "contrastive_form": recipe.method.contrastive_form, "images": "simulated flow-volume curves",
            "cohort": {"subjects": cohort.n, "cases": int(cohort.disease.sum()), "panel_variants": len(cohort.panel),
                       "disease_gwas_loci": sorted(targets)},
            "timings_s": timings}
