"""The rotation study of paper 003 (§3.1, Fig. 2): conditions, training splits, and scoring held-out embeddings.

A *condition* fixes N_train, h_g and α_max; the defaults form one condition and each swept
axis adds the others, one axis at a time (Fig. 2 a–c). The test set is fixed: the first
``n_test`` subjects of every cohort. Split k draws its training subjects from the remaining
pool as the first N_train of a permutation seeded by (seed, k), so a smaller N_train is a
subset of a larger one. Only training subjects reach the embedder; only test subjects reach
the ridge probe and the GWAS (:func:`score_embeddings` indexes them itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import r2_score

from alignome.evaluation.embedding_recovery import embedding_gwas, recovered_fraction, ridge_predictions
from alignome.gwas.significance import lambda_gc
from alignome.simulate.rotation_study import RotationCohort


@dataclass(frozen=True)
class Condition:
    """One point of Fig. 2: the axis it varies (``default`` for the starred defaults) and the three dials."""

    axis: str
    n_train: int
    h_g: float
    alpha_max_deg: float

    @property
    def label(self) -> str:
        """Short text, e.g. ``N=4000 h_g=0.5 α_max=45``."""
        return f"N={self.n_train} h_g={self.h_g:g} α_max={self.alpha_max_deg:g}"


def study_conditions(n_train: int, h_g: float, alpha_max_deg: float, sweep_n: list[int], sweep_h: list[float],
                     sweep_alpha: list[float]) -> list[Condition]:
    """The default condition, then each swept value that differs from its default, axis by axis."""
    out = [Condition("default", n_train, h_g, alpha_max_deg)]
    out += [Condition("n_train", v, h_g, alpha_max_deg) for v in sweep_n if v != n_train]
    out += [Condition("h_g", n_train, v, alpha_max_deg) for v in sweep_h if v != h_g]
    out += [Condition("alpha_max_deg", n_train, h_g, v) for v in sweep_alpha if v != alpha_max_deg]
    return out


def training_rows(n_test: int, n_pool: int, n_train: int, split: int, seed: int) -> np.ndarray:
    """Sorted rows of split ``split``'s training subjects: the first ``n_train`` of a seeded permutation of the pool."""
    if n_train > n_pool:
        raise ValueError(f"n_train {n_train} exceeds the training pool of {n_pool}")
    order = np.random.default_rng([seed, split]).permutation(n_pool)
    return np.sort(n_test + order[:n_train])


@dataclass(frozen=True)
class Scores:
    """What held-out embeddings recover; ``z_pred``: the ridge's cross-fitted z of each test subject."""

    r2: float
    recovered: float
    lambda_gc_null: float
    null_hits: int
    p: np.ndarray
    z_pred: np.ndarray


def score_embeddings(embedding: np.ndarray, cohort: RotationCohort, test_rows: np.ndarray, n_pcs: int,
                     threshold: float, ridge_folds: int, seed: int) -> Scores:
    """R² of z (ridge, nested folds on the test subjects), causal variants found and λGC on null variants.

    ``embedding`` holds the rows ``test_rows`` of the cohort, in that order; z and the genotypes
    are taken at ``test_rows`` only.
    """
    test_rows = np.asarray(test_rows)
    if len(embedding) != len(test_rows):
        raise ValueError(f"{len(embedding)} embeddings for {len(test_rows)} test subjects")
    z_pred = ridge_predictions(embedding, cohort.z[test_rows], seed=seed, folds=ridge_folds)
    p = embedding_gwas(embedding, cohort.genotypes[test_rows], n_pcs)
    null = ~cohort.causal
    return Scores(r2=float(r2_score(cohort.z[test_rows], z_pred)),
                  recovered=recovered_fraction(p, cohort.causal, threshold),
                  lambda_gc_null=lambda_gc(p[null]), null_hits=int(np.sum(p[null] < threshold)), p=p, z_pred=z_pred)


def oracle_scores(cohort: RotationCohort, test_rows: np.ndarray, threshold: float, ridge_folds: int,
                  seed: int) -> Scores:
    """The scores of the true rotation angle α of each test image, used as a 1-d embedding.

    No image embedding can carry more of z than α does (the images are glyphs turned by α),
    so its R² bounds the others'; its GWAS (the same multi-trait test with one PC: α
    rank-INT, one degree of freedom) is the power limit of the test set for the causal variants.
    """
    return score_embeddings(cohort.alpha_deg[np.asarray(test_rows), None], cohort, test_rows, 1, threshold,
                            ridge_folds, seed)
