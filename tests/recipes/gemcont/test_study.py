"""The rotation study's protocol: splits, no leakage into training or scoring, a calibrated null, a working upper bound."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from alignome.recipes.gemcont.study import oracle_scores, score_embeddings, study_conditions, training_rows
from alignome.training.image_embedders import EmbedderSettings, fit_embedder

N_TEST = 1000
TEST = np.arange(N_TEST)
SMALL = EmbedderSettings(widths=(8, 16, 32), embedding_dim=16, batch_size=128, warmup_epochs=0)


def test_splits_are_nested_disjoint_from_test_and_differ() -> None:
    a = training_rows(100, 400, 50, split=0, seed=1)
    b = training_rows(100, 400, 200, split=0, seed=1)
    c = training_rows(100, 400, 50, split=1, seed=1)
    assert set(a) <= set(b) and a.min() >= 100 and b.max() < 500
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError):
        training_rows(100, 40, 50, split=0, seed=1)
    conds = study_conditions(4000, 0.5, 45, [1000, 4000], [0.1], [])
    assert [(c.axis, c.n_train, c.h_g) for c in conds] == [("default", 4000, 0.5), ("n_train", 1000, 0.5), ("h_g", 4000, 0.1)]


def test_scores_read_test_subjects_only(small_cohort) -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(N_TEST, 6)) + small_cohort.z[TEST, None] * np.linspace(0, 1, 6)
    honest = score_embeddings(emb, small_cohort, TEST, 3, 5e-8, 5, 0)
    rows = np.arange(N_TEST, small_cohort.n)  # everything a training split may hold: scrambled
    genotypes = small_cohort.genotypes.copy()
    genotypes[rows] = rng.integers(0, 3, size=genotypes[rows].shape)
    z = small_cohort.z.copy()
    z[rows] = rng.normal(size=len(rows)) * 100
    scrambled = score_embeddings(emb, replace(small_cohort, genotypes=genotypes, z=z), TEST, 3, 5e-8, 5, 0)
    assert scrambled.r2 == honest.r2 and np.array_equal(scrambled.p, honest.p)
    assert honest.r2 > 0.3  # the planted signal is found: the scores are not blind


def test_oracle_r2_is_the_squared_correlation_of_z_and_its_angle(small_cohort) -> None:
    # α = α_max·tanh(c·z): a ridge of z on α can explain corr(z, tanh(c·z))² of var(z), no more
    z = small_cohort.z[TEST]
    analytic = np.corrcoef(z, np.tanh(small_cohort.c * z))[0, 1] ** 2
    oracle = oracle_scores(small_cohort, TEST, 5e-8, 5, 0)
    assert oracle.r2 == pytest.approx(analytic, abs=0.005)
    assert oracle.r2 < analytic + 1e-9  # cross-fitting cannot beat the in-sample fit
    # its GWAS is the 1-df scan of α alone: the strongest causal variant is found, no null one
    assert oracle.recovered > 0 and oracle.null_hits == 0


def test_training_reads_its_rows_only(small_cohort) -> None:
    train = training_rows(N_TEST, small_cohort.n - N_TEST, 200, 0, 0)
    images = np.full_like(small_cohort.images, np.nan)  # any other row read would poison the loss
    images[train] = small_cohort.images[train]
    genotypes = np.full(small_cohort.panel.shape, np.nan, dtype=np.float32)
    genotypes[train] = small_cohort.panel[train]
    z = np.full(small_cohort.n, np.nan)
    z[train] = small_cohort.z[train]
    for kind in ("clip", "simclr", "vae", "supervised", "pixels-pca"):
        fit = fit_embedder(replace(SMALL, kind=kind, epochs=1), images, train, genotypes=genotypes,
                           effects=small_cohort.beta[small_cohort.causal], target=z)
        assert all(np.isfinite(r["train_loss"]) for r in fit.curve), kind
        assert all(np.isfinite(r.get("val_loss", 0.0)) for r in fit.curve), kind
        assert np.isfinite(fit.embed(images, train)).all(), kind


def test_same_seed_same_embeddings(small_cohort) -> None:
    train = training_rows(N_TEST, small_cohort.n - N_TEST, 256, 0, 0)
    settings = replace(SMALL, kind="clip", epochs=1)
    args = dict(genotypes=small_cohort.panel, effects=small_cohort.beta[small_cohort.causal])
    a = fit_embedder(settings, small_cohort.images, train, **args).embed(small_cohort.images, TEST[:50])
    b = fit_embedder(settings, small_cohort.images, train, **args).embed(small_cohort.images, TEST[:50])
    assert np.array_equal(a, b)


def _untrained_scores(cohort):
    train = training_rows(N_TEST, cohort.n - N_TEST, 1000, 0, 0)
    untrained = fit_embedder(replace(SMALL, kind="supervised", epochs=0), cohort.images, train, target=cohort.z)
    return train, score_embeddings(untrained.embed(cohort.images, TEST), cohort, TEST, 5, 5e-8, 5, 0)


def test_untrained_encoder_gives_a_calibrated_null(small_cohort) -> None:
    _, null = _untrained_scores(small_cohort)
    assert 0.8 < null.lambda_gc_null < 1.25 and null.null_hits == 0


@pytest.mark.slow
def test_supervised_upper_bound_finds_causal_variants(small_cohort) -> None:
    train, null = _untrained_scores(small_cohort)
    supervised = fit_embedder(replace(SMALL, kind="supervised", epochs=12, patience=12), small_cohort.images, train,
                              target=small_cohort.z)
    found = score_embeddings(supervised.embed(small_cohort.images, TEST), small_cohort, TEST, 5, 5e-8, 5, 0)
    assert found.r2 > null.r2 + 0.1
    assert found.recovered >= 0.25 and found.null_hits == 0
