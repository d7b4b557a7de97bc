"""Deep CCA's objective (Andrew et al. 2013): the sum of canonical correlations of two batches of latents."""

from __future__ import annotations

import torch
from torch import Tensor

#: Ridge added to each covariance's diagonal: a batch smaller than the latent leaves it singular.
RIDGE = 1e-3


def _whiten(cov: Tensor, a: Tensor, left: bool) -> Tensor:
    """``L⁻¹ a`` (``left``) or ``a L⁻ᵀ`` with ``cov = L Lᵀ``.

    Any whitening gives the same singular values as ``Σ^{-1/2}``; Cholesky's gradient stays finite
    where the eigen-decomposition's is not (repeated eigenvalues, e.g. a batch smaller than the latent).
    """
    chol = torch.linalg.cholesky(cov)
    if left:
        return torch.linalg.solve_triangular(chol, a, upper=False)
    return torch.linalg.solve_triangular(chol.T, a, upper=True, left=False)


def cca_correlations(x: Tensor, y: Tensor, ridge: float = RIDGE) -> Tensor:
    """Canonical correlations of ``x`` ``(N, p)`` and ``y`` ``(N, q)``, descending.

    The singular values of ``Σxx^{-1/2} Σxy Σyy^{-1/2}`` (computed with Cholesky factors) with sample
    covariances, ``ridge`` on the diagonals of ``Σxx`` and ``Σyy``.
    """
    if x.shape[0] != y.shape[0] or x.shape[0] < 2:
        raise ValueError(f"x and y need the same number (≥ 2) of rows, got {x.shape[0]} and {y.shape[0]}")
    n = x.shape[0]
    xc, yc = x - x.mean(0), y - y.mean(0)
    sxx = xc.T @ xc / (n - 1) + ridge * torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    syy = yc.T @ yc / (n - 1) + ridge * torch.eye(y.shape[1], dtype=y.dtype, device=y.device)
    sxy = xc.T @ yc / (n - 1)
    return torch.linalg.svdvals(_whiten(syy, _whiten(sxx, sxy, left=True), left=False))


def cca_loss(x: Tensor, y: Tensor, ridge: float = RIDGE) -> Tensor:
    """Negative total canonical correlation (DCCA's loss, all components)."""
    return -cca_correlations(x, y, ridge).sum()
