"""One unit of the study: train one embedder on one split of one condition, then score its held-out embeddings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from alignome.recipes.gemcont.study import score_embeddings
from alignome.simulate.rotation_study import RotationCohort
from alignome.training.image_embedders import EmbedderSettings, fit_embedder


@dataclass
class UnitResult:
    """Scores, training record and held-out embeddings of one unit; ``z_pred``: the ridge's cross-fitted z."""

    scores: dict[str, float]
    curve: list[dict[str, float]]
    speed: dict[str, float]
    embedding: np.ndarray
    timings_s: dict[str, float] = field(default_factory=dict)
    z_pred: np.ndarray | None = None


@dataclass(frozen=True)
class Evaluation:
    """How held-out embeddings are scored."""

    n_pcs: int
    threshold: float
    ridge_folds: int


def fit_and_score(settings: EmbedderSettings, cohort: RotationCohort, train_rows: np.ndarray, test_rows: np.ndarray,
                  evaluation: Evaluation, threads: int, score_input: bool = False) -> UnitResult:
    """Train on ``train_rows`` (panel genotypes, panel effects, z as the supervised target), score on ``test_rows``.

    ``score_input``: the projector sees the panel's polygenic score alone (the PRS baseline).
    """
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    beta = cohort.beta[cohort.causal]
    genotypes, effects = cohort.panel, beta
    if score_input:
        genotypes, effects = (cohort.panel.astype(np.float64) @ beta)[:, None], np.ones(1)
    fitted = fit_embedder(settings, cohort.images, train_rows, genotypes=genotypes, effects=effects, target=cohort.z)
    t1 = time.perf_counter()
    embedding = fitted.embed(cohort.images, test_rows)
    scores = score_embeddings(embedding, cohort, test_rows, evaluation.n_pcs, evaluation.threshold,
                              evaluation.ridge_folds, settings.seed)
    t2 = time.perf_counter()
    record = {"r2": scores.r2, "recovered_fraction": scores.recovered, "lambda_gc_null": scores.lambda_gc_null,
              "null_hits": float(scores.null_hits)}
    if fitted.temperature is not None:
        record["temperature"] = fitted.temperature
    if fitted.best_epoch is not None:
        record["best_epoch"] = float(fitted.best_epoch)
    speed = {"train_images_per_s": fitted.images_per_s, "data_share": fitted.data_share, "train_s": fitted.seconds}
    return UnitResult(scores=record, curve=fitted.curve, speed=speed, embedding=embedding.astype(np.float32),
                      timings_s={"train": t1 - t0, "embed_and_score": t2 - t1}, z_pred=scores.z_pred)
