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


def test_one_hot_against_direct_indicators():
    from alignome.genetics.encoding import OneHotEncoder

    rng = np.random.default_rng(5)
    train = rng.choice([0.0, 1.0, 2.0], size=(40, 4), p=[0.5, 0.3, 0.2])
    train[rng.random(train.shape) < 0.1] = np.nan
    test = rng.choice([0.0, 1.0, 2.0], size=(6, 4))
    test[1, 2] = np.nan
    enc = OneHotEncoder().fit(train)
    out = enc.transform(test)
    assert out.shape == (6, 12)
    for j in range(4):
        called = train[:, j][~np.isnan(train[:, j])]
        freq = [np.mean(called == g) for g in (0, 1, 2)]
        for i in range(6):
            expected = freq if np.isnan(test[i, j]) else [float(test[i, j] == g) for g in (0, 1, 2)]
            np.testing.assert_allclose(out[i, 3 * j:3 * j + 3], expected, rtol=1e-6)
    assert list(enc.get_feature_names_out(["a", "b", "c", "d"])[:3]) == ["a_0", "a_1", "a_2"]


def test_standardised_uses_training_rows_only():
    from alignome.genetics.encoding import StandardisedEncoder

    rng = np.random.default_rng(6)
    train = rng.choice([0.0, 1.0, 2.0], size=(30, 3))
    train[0, 0] = np.nan
    train[:, 2] = 1.0  # monomorphic
    test = rng.choice([0.0, 1.0, 2.0], size=(5, 3)) + 0.0
    test[2, 1] = np.nan
    enc = StandardisedEncoder().fit(train)
    out = enc.transform(test)
    for j in range(2):
        called = train[:, j][~np.isnan(train[:, j])]
        expected = (test[:, j] - called.mean()) / called.std()
        expected[np.isnan(expected)] = 0.0
        np.testing.assert_allclose(out[:, j], expected, rtol=1e-5)
    assert (out[:, 2] == 0).all()
    # Fitting on other rows gives other values: nothing leaks from the test rows.
    assert not np.allclose(StandardisedEncoder().fit(test).transform(test), out)
    with pytest.raises(DataError):
        enc.transform(test[:, :2])


def _nearest_genotype(d: float) -> int:
    """The genotype class of a dosage: the nearest of 0, 1, 2 (dosages here avoid the .5 ties)."""
    return min((0, 1, 2), key=lambda g: abs(d - g))


def test_fractional_dosages_take_the_nearest_genotype_class():
    # 1.6 is genotype 2 and 0.4 genotype 0 (truncating would make them 1 and 0, and 1.6 would never be 2)
    train = np.array([[1.6], [0.4], [0.9], [1.2], [1.9], [2.0], [0.0], [1.7], [0.6]])
    classes = np.array([[_nearest_genotype(d)] for d in train[:, 0]], dtype=float)
    assert classes[:, 0].tolist() == [2, 0, 1, 1, 2, 2, 0, 2, 1]
    test = np.array([[1.6], [0.4], [1.4], [0.6], [np.nan]])
    test_classes = np.array([[np.nan if np.isnan(d) else _nearest_genotype(d)] for d in test[:, 0]])

    enc = PopulationFrequencyEncoder().fit(train)
    np.testing.assert_allclose(enc.frequencies_[0], [2 / 9, 3 / 9, 4 / 9])
    np.testing.assert_allclose(enc.transform(test), slow_encoding(classes, test_classes), rtol=1e-6)

    from alignome.genetics.encoding import OneHotEncoder

    onehot = OneHotEncoder().fit(train).transform(test[:4])
    np.testing.assert_array_equal(onehot, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]])
