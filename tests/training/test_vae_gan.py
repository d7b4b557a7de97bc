"""Ko et al.'s VAE+GAN baseline: learns a shared latent, is deterministic, its losses fall, bad input is an error."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from alignome.errors import DataError
from alignome.genetics.encoding import PopulationFrequencyEncoder
from alignome.training.vae_gan import VaeGanClassifier, focal_loss

SMALL = dict(latent_dim=8, snp_hidden=32, generator_hidden=16, diagnostician_hidden=8, epochs=60, patience=15, batch_size=32)


def _shared_latent_problem(seed: int = 0, n: int = 420, n_snps: int = 40, n_regions: int = 10):
    """A latent u drives 10 SNPs' allele frequencies, 4 regional volumes and the label; the rest is noise."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n)
    freq = np.full((n, n_snps), 0.3)
    freq[:, :10] = 1 / (1 + np.exp(-(u[:, None] * 1.5 - 0.5)))
    genotypes = rng.binomial(2, freq).astype(float)
    volumes = rng.normal(size=(n, n_regions))
    volumes[:, :4] += 1.2 * u[:, None]
    covariates = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n)])
    y = (u + rng.normal(0, 0.5, n) > 0).astype(int)
    mmse = np.clip(0.85 - 0.05 * u + rng.normal(0, 0.02, n), 0, 1)
    train, test = np.arange(300), np.arange(300, n)
    snp = PopulationFrequencyEncoder().fit(genotypes[train]).transform(genotypes)
    return snp, volumes.astype(np.float32), covariates, y, mmse, train, test


def _fit(seed=0, **kw):
    snp, vol, cov, y, mmse, train, test = _shared_latent_problem()
    model = VaeGanClassifier(2, seed=seed, **{**SMALL, **kw}).fit(snp[train], vol[train], cov[train], y[train], mmse[train])
    return model, (snp[test], vol[test], cov[test]), y[test], mmse[test]


def test_beats_chance_clearly_on_a_latent_shared_by_both_modalities():
    # the sigmoid MMSE head needs a few hundred steps to leave 0.5, hence the longer schedule
    model, test_inputs, y, mmse = _fit(epochs=200, patience=30, lr=3e-3)
    assert roc_auc_score(y, model.predict_proba(*test_inputs)[:, 1]) > 0.8
    # MMSE falls with the latent: predictions correlate with the truth
    assert np.corrcoef(model.predict_mmse(*test_inputs), mmse)[0, 1] > 0.5


def test_same_seed_gives_identical_probabilities():
    a, test_inputs, _, _ = _fit(seed=4, epochs=15)
    b, _, _, _ = _fit(seed=4, epochs=15)
    c, _, _, _ = _fit(seed=5, epochs=15)
    np.testing.assert_array_equal(a.predict_proba(*test_inputs), b.predict_proba(*test_inputs))
    np.testing.assert_array_equal(a.predict_mmse(*test_inputs), b.predict_mmse(*test_inputs))
    assert not np.array_equal(a.predict_proba(*test_inputs), c.predict_proba(*test_inputs))


def test_reconstruction_and_diagnosis_losses_decrease():
    # The adversarial pair need not fall (generator and discriminator trade off), so only the other three are checked.
    # The SNP cross-entropy cannot fall below the targets' own entropy (they are frequencies, not 0/1): compare the excess.
    snp, *_, train, _ = _shared_latent_problem()
    x = np.clip(snp[train], 1e-7, 1 - 1e-7)
    floor = 0.7 * np.mean(np.sum(-(x * np.log(x) + (1 - x) * np.log(1 - x)), axis=1))
    model, _, _, _ = _fit(val_fraction=0.0, epochs=40)
    h = model.history_
    assert len(h) == 40
    last = lambda loss: np.mean([r[loss] for r in h[-3:]])  # noqa: E731
    assert last("train_rec") - floor < 0.8 * (h[0]["train_rec"] - floor)
    assert last("train_clf") < 0.8 * h[0]["train_clf"]
    assert last("train_reg") < 0.2 * h[0]["train_reg"]


def test_early_stopping_keeps_the_best_held_out_epoch():
    model, _, _, _ = _fit(epochs=80, patience=5)
    losses = [r["val_loss"] for r in model.history_]
    assert model.best_epoch_ == int(np.argmin(losses))
    assert len(losses) in (model.best_epoch_ + 6, 80)


def test_focal_loss_matches_the_formula():
    # one subject of class 0 with p = (0.9, 0.1): both classes have p_t = 0.9; alpha 0.25 + 0.75 = 1
    got = focal_loss(torch.tensor([[0.9, 0.1]]), torch.tensor([0]))
    assert math.isclose(float(got), (1 - 0.9) ** 2 * -math.log(0.9), rel_tol=1e-5)


def test_a_missing_modality_still_gets_a_prediction_that_ignores_the_absent_values():
    snp, vol, cov, y, mmse, train, test = _shared_latent_problem()
    has_mri = np.ones(len(y), bool)
    has_mri[::7] = False
    has_snp = np.ones(len(y), bool)
    has_snp[::5] = False
    model = VaeGanClassifier(2, seed=0, **SMALL).fit(snp[train], vol[train], cov[train], y[train], mmse[train],
                                                     has_snp[train], has_mri[train])
    junk_vol, junk_snp = vol.copy(), snp.copy()
    junk_vol[~has_mri] = np.nan
    junk_snp[~has_snp] = 1e6
    args = lambda v, s: (s[test], v[test], cov[test], has_snp[test], has_mri[test])  # noqa: E731
    p = model.predict_proba(*args(vol, snp))
    assert np.isfinite(p).all()
    np.testing.assert_array_equal(p, model.predict_proba(*args(junk_vol, junk_snp)))
    assert roc_auc_score(y[test], p[:, 1]) > 0.7


def test_bad_input_is_a_data_error():
    snp, vol, cov, y, mmse, train, _ = _shared_latent_problem()
    model = VaeGanClassifier(2, **{**SMALL, "epochs": 2})
    nan_snp = snp.copy()
    nan_snp[3, 2] = np.nan
    with pytest.raises(DataError, match="snp"):
        model.fit(nan_snp, vol, cov, y, mmse)
    with pytest.raises(DataError, match="one row per subject"):
        model.fit(snp, vol[:-1], cov, y, mmse)
    with pytest.raises(DataError, match="2-D"):
        model.fit(snp[:, 0], vol, cov, y, mmse)
    with pytest.raises(DataError, match="one class"):
        model.fit(snp, vol, cov, np.zeros_like(y), mmse)
    with pytest.raises(DataError, match="not fitted"):
        model.predict_proba(snp, vol, cov)
    model.fit(snp[train], vol[train], cov[train], y[train], mmse[train])
    with pytest.raises(DataError, match="fitted with"):
        model.predict_proba(snp[:, :-1], vol, cov)
