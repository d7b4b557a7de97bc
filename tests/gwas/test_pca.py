"""Streamed randomised genetic PCs agree with an exact eigendecomposition."""

from __future__ import annotations

import numpy as np
import pytest
from bed_reader import to_bed
from scipy import linalg

from alignome.gwas.pca import genetic_pcs, standardise


def structured_bed(path, n=300, m=1500, seed=0, missing=0.01):
    """Five subpopulations (Balding–Nichols-like frequencies), a little missingness."""
    rng = np.random.default_rng(seed)
    anc = rng.uniform(0.1, 0.9, m)
    pops = rng.integers(0, 5, n)
    freqs = np.clip(anc + rng.normal(0, 0.08, (5, m)), 0.02, 0.98)
    g = rng.binomial(2, freqs[pops]).astype(np.float32)
    g[rng.random(g.shape) < missing] = np.nan
    iids = [f"s{i}" for i in range(n)]
    to_bed(path, g, properties={"iid": iids, "fid": iids, "chromosome": ["1"] * m,
                                "bp_position": np.arange(1, m + 1) * 1000, "sid": [f"v{j}" for j in range(m)]})
    return g.astype(np.float64), iids


def test_randomised_pcs_match_exact(tmp_path):
    g, iids = structured_bed(tmp_path / "s.bed")
    sub = iids[::-1][:250]  # a reordered subset of the samples
    rows = [iids.index(s) for s in sub]
    k = 4
    res = genetic_pcs(tmp_path / "s", k, sub, block_size=128, seed=3)
    x = standardise(g[rows])
    used = int(np.any(x != 0, axis=0).sum())
    vals, vecs = linalg.eigh(x @ x.T)
    exact_u, exact_l = vecs[:, ::-1][:, :k], vals[::-1][:k] / used
    got = res.scores.to_numpy() / np.sqrt(len(sub))
    assert list(res.scores.index) == sub and res.n_variants == used
    np.testing.assert_allclose(res.eigenvalues, exact_l, rtol=1e-4)
    # the k = 4 population PCs match column-wise up to sign; the whole subspace by angle
    for j in range(k):
        assert abs(got[:, j] @ exact_u[:, j]) > 0.9999
    angles = linalg.subspace_angles(got, exact_u)
    assert np.max(angles) < 0.05
    # deterministic given the seed, and the same sketch whatever the block size (blocks not aligned
    # with the 256-variant chunks of Ω included): only the summation grouping differs
    same = genetic_pcs(tmp_path / "s", k, sub, block_size=128, seed=3)
    np.testing.assert_array_equal(same.scores.to_numpy(), res.scores.to_numpy())
    for block_size in (1000, 77):
        other = genetic_pcs(tmp_path / "s", k, sub, block_size=block_size, seed=3)
        np.testing.assert_allclose(other.scores.to_numpy(), res.scores.to_numpy(), rtol=0, atol=1e-8)
        np.testing.assert_allclose(other.eigenvalues, res.eigenvalues, rtol=1e-10)
    assert not np.allclose(genetic_pcs(tmp_path / "s", k, sub, block_size=128, seed=4).scores.to_numpy(),
                           res.scores.to_numpy(), atol=1e-8)  # the seed does matter at this tolerance


def test_too_many_pcs(tmp_path):
    from alignome.errors import DataError

    structured_bed(tmp_path / "s.bed", n=20, m=50)
    with pytest.raises(DataError, match="genetic PCs"):
        genetic_pcs(tmp_path / "s", 30)
