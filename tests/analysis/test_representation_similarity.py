"""Tests of linear CKA and SVCCA (alignome.analysis.representation_similarity) against slow references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import eigh
from scipy.stats import ortho_group

from alignome.analysis.representation_similarity import (linear_cka, similarity_by_group, svcca,
                                                         svcca_direction_cap, svcca_with_directions)
from alignome.errors import DataError


def _hsic(k: np.ndarray, l: np.ndarray) -> float:
    n = len(k)
    h = np.eye(n) - np.ones((n, n)) / n  # explicit centring matrix
    return float(np.trace(k @ h @ l @ h)) / (n - 1) ** 2


def _cka_reference(x: np.ndarray, y: np.ndarray) -> float:
    k, l = x @ x.T, y @ y.T
    return _hsic(k, l) / np.sqrt(_hsic(k, k) * _hsic(l, l))


def _svcca_reference(x: np.ndarray, y: np.ndarray, keep: float) -> float:
    """PCA by eigendecomposition of each covariance, then CCA by the eigenvalues of Σxx⁻¹ΣxyΣyy⁻¹Σyx."""
    def reduce(a: np.ndarray) -> np.ndarray:
        a = a - a.mean(0)
        w, v = eigh(a.T @ a)
        w, v = w[::-1], v[:, ::-1]
        k = int(np.argmax(np.cumsum(w) / w.sum() >= keep - 1e-12)) + 1
        return a @ v[:, :k]

    rx, ry = reduce(x), reduce(y)
    sxx, syy, sxy = rx.T @ rx, ry.T @ ry, rx.T @ ry
    m = np.linalg.solve(sxx, sxy) @ np.linalg.solve(syy, sxy.T)
    rho2 = np.sort(np.linalg.eigvals(m).real)[::-1][: min(rx.shape[1], ry.shape[1])]
    return float(np.sqrt(np.clip(rho2, 0, 1)).mean())


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    shared = rng.standard_normal((80, 3))
    x = shared @ rng.standard_normal((3, 6)) + 0.5 * rng.standard_normal((80, 6))
    y = shared @ rng.standard_normal((3, 5)) + 0.8 * rng.standard_normal((80, 5))
    return x, y


def test_cka_matches_hsic_with_centring_matrices(pair) -> None:
    x, y = pair
    assert linear_cka(x, y) == pytest.approx(_cka_reference(x, y), rel=1e-10)
    assert 0.1 < linear_cka(x, y) < 1.0


def test_cka_is_invariant_to_rotation_and_isotropic_scaling_and_not_to_anisotropic(pair) -> None:
    x, y = pair
    q = ortho_group.rvs(6, random_state=1)
    base = linear_cka(x, y)
    assert linear_cka(3.7 * x @ q + 5.0, y) == pytest.approx(base, rel=1e-10)
    assert linear_cka(x, x) == pytest.approx(1.0)
    stretched = x * np.array([10.0, 1, 1, 1, 1, 0.1])
    assert abs(linear_cka(stretched, y) - base) > 1e-3


def test_svcca_matches_eigendecomposition_cca(pair) -> None:
    x, y = pair
    for keep in (0.99, 0.8):
        assert svcca(x, y, keep) == pytest.approx(_svcca_reference(x, y, keep), rel=1e-8)


def test_svcca_of_a_matrix_with_itself_or_an_invertible_map_of_it_is_one(pair) -> None:
    x, _ = pair
    assert svcca(x, x) == pytest.approx(1.0)
    mixed = x @ np.random.default_rng(2).standard_normal((6, 6))
    assert svcca(x, mixed, keep_variance=1.0) == pytest.approx(1.0)
    noise = np.random.default_rng(3).standard_normal((80, 4))
    assert svcca(x, noise) < 0.4


def test_similarity_by_group_and_errors(pair) -> None:
    x, y = pair
    groups = np.array(["HC"] * 40 + ["AD"] * 39 + ["other"])
    table = similarity_by_group(x, y, groups)
    assert list(table["group"]) == ["HC", "AD", "other"]
    assert table.loc[0, "cka"] == pytest.approx(linear_cka(x[:40], y[:40]))
    assert np.isnan(table.loc[2, "svcca"]) and np.isnan(table.loc[2, "cka"])
    with pytest.raises(DataError, match="do not pair"):
        linear_cka(x, y[:10])
    with pytest.raises(DataError, match="too few"):
        svcca(x[:3], y[:3])
    with pytest.raises(DataError, match="too few"):  # 4 + 4 directions of 9 centred subjects span all 8
        svcca(x[:9], y[:9], keep_variance=1.0, max_directions=4)


def test_svcca_of_small_groups_keeps_at_most_n_minus_2_directions_in_all_and_matches_the_reference() -> None:
    rng = np.random.default_rng(4)
    n = 20  # fewer subjects than the 64 latent dimensions: uncapped, every canonical correlation is 1
    shared = rng.standard_normal((n, 2))
    x = shared @ rng.standard_normal((2, 64)) + rng.standard_normal((n, 64))
    y = shared @ rng.standard_normal((2, 64)) + rng.standard_normal((n, 64))
    value, kx, ky = svcca_with_directions(x, y)
    assert (kx, ky) == (svcca_direction_cap(n),) * 2 == (9, 9)
    assert kx + ky < n - 1
    assert value == pytest.approx(_capped_reference(x, y, kx), rel=1e-8)
    assert value < 0.99  # not the degenerate 1 of too many directions
    assert svcca(x, x) == pytest.approx(1.0)
    table = similarity_by_group(x, y, ["AD"] * n)
    assert table.loc[0, "svcca"] == pytest.approx(value) and table.loc[0, "svcca_directions"] == "9+9"
    assert table.loc[0, "n"] == n


def _capped_reference(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """The first ``k`` principal components of each side, then CCA by eigendecomposition."""
    def reduce(a: np.ndarray) -> np.ndarray:
        a = a - a.mean(0)
        w, v = eigh(a.T @ a)
        return a @ v[:, ::-1][:, :k]

    rx, ry = reduce(x), reduce(y)
    sxx, syy, sxy = rx.T @ rx, ry.T @ ry, rx.T @ ry
    rho2 = np.linalg.eigvals(np.linalg.solve(sxx, sxy) @ np.linalg.solve(syy, sxy.T)).real
    return float(np.sqrt(np.clip(rho2, 0, 1)).mean())
