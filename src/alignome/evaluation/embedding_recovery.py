"""What held-out embeddings recover (paper 003 §3.1): the latent trait by ridge, causal variants by multi-trait GWAS.

* :func:`ridge_predictions` — a trait predicted from embeddings by ridge regression on the
  held-out subjects alone, by K-fold cross-fitting: each fold is predicted by a ridge fitted on
  the other folds, whose penalty is chosen by an inner leave-one-out CV (``RidgeCV``) on those
  folds only (nested folds). The pooled out-of-fold predictions give R² (``sklearn.metrics.r2_score``).
* :func:`embedding_gwas` — the project's multi-trait GWAS (:mod:`alignome.gwas`): the
  embeddings' top-D principal components, rank inverse-normal transformed
  (:func:`alignome.gwas.phenotypes.embedding_phenotypes`), tested jointly against each
  variant (:func:`alignome.gwas.multitrait.multitrait_assoc`, the LRT of paper 003).
* :func:`recovered_fraction` — share of causal variants at p below a threshold (5e-8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alignome.gwas.multitrait import multitrait_assoc
from alignome.gwas.phenotypes import embedding_phenotypes
from alignome.gwas.significance import GENOME_WIDE

#: Ridge penalties searched by the inner CV.
ALPHAS = tuple(np.logspace(-3, 4, 15))


def ridge_predictions(embedding: np.ndarray, trait: np.ndarray, seed: int = 0, folds: int = 5) -> np.ndarray:
    """Cross-fitted predictions of ``trait`` from ``embedding`` (both of the same held-out subjects)."""
    x = np.asarray(embedding, dtype=np.float64)
    y = np.asarray(trait, dtype=np.float64)
    pred = np.empty_like(y)
    for fit, held in KFold(folds, shuffle=True, random_state=seed).split(x):
        model = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS)).fit(x[fit], y[fit])
        pred[held] = model.predict(x[held])
    return pred


def embedding_gwas(embedding: np.ndarray, genotypes: np.ndarray, n_pcs: int, covariates: np.ndarray | None = None) -> np.ndarray:
    """P-values of the multi-trait test (top ``n_pcs`` INT-transformed PCs) for each genotype column."""
    traits = embedding_phenotypes(pd.DataFrame(np.asarray(embedding, dtype=np.float64)), n_pcs)
    return multitrait_assoc(traits.to_numpy(), np.asarray(genotypes, dtype=np.float64), covariates).p


def recovered_fraction(p: np.ndarray, causal: np.ndarray, threshold: float = GENOME_WIDE) -> float:
    """Share of the ``causal`` variants (a boolean mask over ``p``) with p < ``threshold``."""
    causal = np.asarray(causal, dtype=bool)
    return float(np.mean(np.asarray(p)[causal] < threshold)) if causal.any() else float("nan")
