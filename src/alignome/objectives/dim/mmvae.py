"""MMVAE's importance-weighted bound with a mixture-of-experts posterior (Shi et al. 2019).

Each modality ``m`` has a Gaussian expert ``q_m(z | x_m)``; the joint posterior is their uniform
mixture. For each expert ``K`` latents are drawn (reparameterised) and weighted by
``w = p(z) Π_n p(x_n | z) / q_mix(z | x)`` with a standard normal prior and a unit-variance Gaussian
likelihood per voxel; the bound is ``1/M Σ_m mean log(1/K Σ_k w_mk)``. With ``K = 1`` it is the
ELBO's single-sample estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

_LOG_2PI = math.log(2 * math.pi)


def _normal_log_density(x: Tensor, mean: Tensor, logvar: Tensor) -> Tensor:
    """``log N(x; mean, exp(logvar))`` summed over the last dimension."""
    return (-0.5 * (_LOG_2PI + logvar + (x - mean).pow(2) / logvar.exp())).sum(-1)


def mmvae_iwae_bound(decode: Callable[[int, Tensor], Tensor], means: Sequence[Tensor], logvars: Sequence[Tensor],
                     volumes: Sequence[Tensor], samples: int = 1, noise: Sequence[Tensor] | None = None) -> Tensor:
    """The MMVAE IWAE bound, averaged over the batch (higher is better).

    Parameters
    ----------
    decode
        ``decode(n, z)``: modality ``n``'s decoder mean for latents ``(N, d)``, shaped like ``volumes[n]`` rows.
    means, logvars
        Each expert's ``(B, d)`` posterior mean and log-variance.
    volumes
        Each modality's ``(B, ...)`` batch.
    samples
        ``K``, latents per expert and sample.
    noise
        Each expert's standard-normal draws ``(K, B, d)`` (drawn here when None).
    """
    n_mod, (batch, dim) = len(means), means[0].shape
    bounds = []
    for m in range(n_mod):
        eps = noise[m] if noise is not None else torch.randn(samples, batch, dim, dtype=means[m].dtype, device=means[m].device)
        z = means[m] + eps * (0.5 * logvars[m]).exp()  # (K, B, d)
        log_prior = _normal_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
        log_q = torch.stack([_normal_log_density(z, means[e], logvars[e]) for e in range(n_mod)])
        log_mix = torch.logsumexp(log_q, dim=0) - math.log(n_mod)
        flat = z.reshape(-1, dim)
        log_lik = sum(
            _normal_log_density(decode(n, flat).reshape(z.shape[0] * batch, -1),
                                volumes[n].reshape(1, batch, -1).expand(z.shape[0], -1, -1).reshape(z.shape[0] * batch, -1),
                                torch.zeros(1, dtype=z.dtype, device=z.device)).reshape(z.shape[0], batch)
            for n in range(n_mod)
        )
        log_w = log_prior + log_lik - log_mix
        bounds.append(torch.logsumexp(log_w, dim=0) - math.log(z.shape[0]))
    return torch.stack(bounds).mean()
