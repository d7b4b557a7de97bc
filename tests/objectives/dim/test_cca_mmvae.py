"""CCA correlations against sklearn and the eigen-problem; MMVAE's IWAE bound against closed forms."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.cross_decomposition import CCA

from alignome.models.dim import MultimodalDIM
from alignome.objectives.dim import DIMObjective, cca_correlations, mmvae_iwae_bound


def _correlated(n=400, seed=0):
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(n, 2))
    x = np.c_[shared @ [[1.0, 0.2], [0.0, 1.0]], rng.normal(size=n)] + 0.5 * rng.normal(size=(n, 3))
    y = np.c_[shared[:, 0] * 2 + rng.normal(size=n), shared[:, 1] - rng.normal(size=n)]
    return x, y


def test_cca_correlations_solve_the_eigen_problem_and_match_sklearn():
    x, y = _correlated()
    got = cca_correlations(torch.tensor(x), torch.tensor(y), ridge=0.0).numpy()
    sxx, syy = np.cov(x.T), np.cov(y.T)
    sxy = np.cov(x.T, y.T)[:3, 3:]
    rho2 = np.sort(np.linalg.eigvals(np.linalg.solve(sxx, sxy) @ np.linalg.solve(syy, sxy.T)).real)[::-1][:2]
    assert np.allclose(got, np.sqrt(rho2), atol=1e-8)
    xs, ys = CCA(n_components=1, max_iter=2000, tol=1e-10).fit(x, y).transform(x, y)
    assert got[0] == pytest.approx(abs(np.corrcoef(xs[:, 0], ys[:, 0])[0, 1]), abs=1e-4)


def test_iwae_bound_with_true_posterior_experts_is_the_exact_log_evidence():
    # z ~ N(0, 1), x_n | z ~ N(z, 1) for two 1-d modalities: the posterior is N((x1 + x2)/3, 1/3)
    x1, x2 = torch.tensor([[0.7], [-1.2]], dtype=torch.float64), torch.tensor([[1.5], [0.3]], dtype=torch.float64)
    mean = (x1 + x2) / 3
    logvar = torch.full_like(mean, math.log(1 / 3))
    decode = lambda n, z: z  # noqa: E731
    exact = np.mean([multivariate_normal([0, 0], [[2, 1], [1, 2]]).logpdf([a, b]) for a, b in zip(x1[:, 0], x2[:, 0])])
    for k in (1, 5):
        bound = mmvae_iwae_bound(decode, (mean, mean), (logvar, logvar), (x1, x2), samples=k)
        assert float(bound) == pytest.approx(exact, abs=1e-10)


def test_iwae_bound_with_one_sample_is_the_elbo_estimate_of_that_sample():
    torch.manual_seed(0)
    x = [torch.randn(3, 2, dtype=torch.float64) for _ in range(2)]
    means = [torch.randn(3, 1, dtype=torch.float64) for _ in range(2)]
    logvars = [torch.randn(3, 1, dtype=torch.float64) * 0.3 for _ in range(2)]
    noise = [torch.randn(1, 3, 1, dtype=torch.float64) for _ in range(2)]
    decode = lambda n, z: torch.cat([z * (n + 1), -z], dim=1)  # noqa: E731
    normal = torch.distributions.Normal
    elbos = []
    for m in range(2):
        for b in range(3):
            z = means[m][b] + noise[m][0, b] * (0.5 * logvars[m][b]).exp()
            log_p = normal(0.0, 1.0).log_prob(z).sum() + sum(
                normal(decode(n, z[None])[0], 1.0).log_prob(x[n][b]).sum() for n in range(2))
            q = [normal(means[e][b], (0.5 * logvars[e][b]).exp()).log_prob(z).sum().exp() for e in range(2)]
            elbos.append(float(log_p - torch.log(sum(q) / 2)))
    got = mmvae_iwae_bound(decode, means, logvars, x, samples=1, noise=noise)
    assert float(got) == pytest.approx(np.mean(elbos), rel=1e-10)


def test_every_objective_gives_a_finite_loss_with_gradients_into_both_encoders():
    torch.manual_seed(0)
    x1, x2, y = torch.randn(4, 1, 32, 32, 32), torch.randn(4, 1, 32, 32, 32), torch.tensor([0, 1, -1, 1])
    for name in ("L-CL-CS-S", "DCCAE", "MMVAE", "supervised"):
        objective = DIMObjective(name)
        needs = objective.needs
        model = MultimodalDIM(size=32, latent_dim=8, base_width=2, decoders=needs.decoders,
                              variational=needs.variational, classifier=needs.classifier)
        terms = objective(model, x1, x2, y)
        terms["loss"].backward()
        assert torch.isfinite(terms["loss"])
        for enc in model.encoders:
            assert enc.to_latent.weight.grad.abs().sum() > 0, name
