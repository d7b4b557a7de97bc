"""Embedding → PC → inverse-normal phenotypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from alignome.errors import DataError
from alignome.gwas.phenotypes import embedding_phenotypes, inverse_normal


def test_inverse_normal_by_hand():
    x = np.array([3.0, 1.0, 2.0, 2.0, np.nan, 10.0])
    # ranks among the 5 observed values: 3 -> 4, 1 -> 1, the two 2s tie at 2.5, 10 -> 5
    expected = stats.norm.ppf((np.array([4, 1, 2.5, 2.5, 5]) - 0.375) / (5 + 0.25))
    out = inverse_normal(x)
    np.testing.assert_allclose(out[[0, 1, 2, 3, 5]], expected, rtol=1e-14)
    assert np.isnan(out[4]) and out[2] == out[3]


def test_embedding_phenotypes():
    rng = np.random.default_rng(0)
    emb = pd.DataFrame(rng.normal(size=(50, 8)) * np.arange(8, 0, -1), index=[f"s{i}" for i in range(50)])
    emb.iloc[7, 2] = np.nan
    ph = embedding_phenotypes(emb, 3)
    assert list(ph.columns) == ["PC1", "PC2", "PC3"] and len(ph) == 49 and "s7" not in ph.index
    # INT of n distinct values is a fixed set of normal quantiles
    ref = stats.norm.ppf((np.arange(1, 50) - 0.375) / 49.25)
    np.testing.assert_allclose(np.sort(ph["PC1"].to_numpy()), ref, rtol=1e-12)
    raw = embedding_phenotypes(emb, 3, transform=False)
    assert raw["PC1"].var() > raw["PC3"].var()
    with pytest.raises(DataError, match="principal components"):
        embedding_phenotypes(emb, 9)
