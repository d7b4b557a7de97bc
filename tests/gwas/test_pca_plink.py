"""Streamed randomised genetic PCs against ``plink2 --pca`` run in the test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.helpers.plink_tools import require_plink, run_plink
from tests.gwas.test_pca import structured_bed

from alignome.gwas.pca import genetic_pcs

K = 4


def _plink2_pca(tmp_path, missing: float) -> tuple[pd.DataFrame, np.ndarray]:
    structured_bed(tmp_path / "s.bed", missing=missing)
    run_plink(require_plink("plink2"), ["--bfile", "s", "--pca", str(K), "--out", "p"], cwd=tmp_path)
    vectors = pd.read_csv(tmp_path / "p.eigenvec", sep="\t").set_index("IID")
    values = np.loadtxt(tmp_path / "p.eigenval")
    return vectors[[f"PC{j + 1}" for j in range(K)]], values


@pytest.mark.parametrize("missing", [0.0, 0.01])
def test_pcs_match_plink2(tmp_path, missing):
    vectors, values = _plink2_pca(tmp_path, missing)
    ours = genetic_pcs(tmp_path / "s", K, seed=0, min_maf=0.0)
    assert list(ours.scores.index) == list(vectors.index.astype(str))
    u = ours.scores.to_numpy() / np.sqrt(len(vectors))
    for j in range(K):  # the same axes up to sign (plink2 prints 6 significant digits)
        assert abs(u[:, j] @ vectors.iloc[:, j].to_numpy()) > (0.99999 if missing == 0 else 0.9999)
    if missing == 0:
        # the same GRM (X Xᵀ / m, variance-standardised): the same eigenvalues
        np.testing.assert_allclose(ours.eigenvalues, values, rtol=1e-5)
    else:
        # plink2 weighs missing calls differently from mean imputation: eigenvalues differ by ~2 %
        np.testing.assert_allclose(ours.eigenvalues, values, rtol=0.03)
