"""Population-frequency SNP encoding (Ko et al., paper 000) against a direct count."""

import numpy as np
import pytest

from alignome.errors import DataError
from alignome.genetics.encoding import AdditiveEncoder, PopulationFrequencyEncoder


def slow_encoding(train: np.ndarray, X: np.ndarray) -> np.ndarray:
    out = np.zeros(X.shape)
    for j in range(X.shape[1]):
        called = [g for g in train[:, j] if not np.isnan(g)]
        freq = {g: sum(1 for c in called if c == g) / len(called) for g in (0, 1, 2)}
        for i in range(X.shape[0]):
            g = X[i, j]
            out[i, j] = sum(f * f for f in freq.values()) if np.isnan(g) else freq[int(g)]
    return out


def test_matches_direct_genotype_frequencies():
    rng = np.random.default_rng(3)
    train = rng.choice([0.0, 1.0, 2.0], size=(50, 7), p=[0.5, 0.3, 0.2])
    train[rng.random(train.shape) < 0.05] = np.nan
    test = rng.choice([0.0, 1.0, 2.0], size=(9, 7))
    test[0, 0] = np.nan
    enc = PopulationFrequencyEncoder().fit(train)
    np.testing.assert_allclose(enc.transform(test), slow_encoding(train, test), rtol=1e-6)
    assert enc.n_subjects_seen_ == 50


def test_uses_only_fitting_rows():
    train = np.array([[0.0], [0.0], [0.0], [1.0]])
    enc = PopulationFrequencyEncoder().fit(train)
    # a genotype never seen in training encodes as 0, whatever the test data hold
    assert enc.transform(np.array([[2.0], [2.0]])).tolist() == [[0.0], [0.0]]
    assert enc.transform(np.array([[0.0]]))[0, 0] == pytest.approx(0.75)


def test_out_of_range_genotype_is_a_clear_error():
    with pytest.raises(DataError, match="genotype values must lie in"):
        PopulationFrequencyEncoder().fit(np.array([[0.0], [3.0]]))


def test_additive_encoder_imputes_training_mean():
    enc = AdditiveEncoder().fit(np.array([[0.0, 2.0], [2.0, np.nan]]))
    np.testing.assert_allclose(enc.transform(np.array([[np.nan, np.nan]])), [[1.0, 2.0]])
