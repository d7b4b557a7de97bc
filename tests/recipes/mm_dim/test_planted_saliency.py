"""The introspection path finds the planted fALFF regions: AD-vs-HC saliency differences peak inside them.

Trained encoders on a preset small enough for a test do not learn the regions reliably, so the
encoder here is oracle-like: each latent dimension is a quadratic read-out of the input over one
planted region (``z_k = Σ w_k · x² / 2``, ``w_k`` the region's mask where its smoothed weight is at
least 0.5), whose gradient ``w_k · x`` carries the subject's own fALFF loss. The maps run through
the recipe's own saliency (SmoothGrad, brain mask, rescaling to [0, 1], σ 1.5 smoothing) and group
tests (Mann–Whitney U, rank-biserial correlation on the probe's extreme dimensions).

The peak is sought among the salient voxels (mean saliency ≥ 0.1): ranks ignore scale, so the
far tails of the smoothing, orders of magnitude below the encoder's region, still carry the
region's group difference and can hold an |RBC| as large as the region's own.
"""

from __future__ import annotations

import numpy as np
import torch

from alignome.recipes.mm_dim.introspection import SALIENT_FLOOR, group_difference_maps, saliency_maps
from alignome.simulate.falff3d import mm_grid
from alignome.simulate.falff_map import FalffParams, SubjectFunction, falff_regions, render_falff

REGIONS = ("pcc_precuneus", "hippocampus")
#: Mean saliency a voxel needs to count as one the encoder attends to (the recipe's floor).
SALIENT = SALIENT_FLOOR


class RegionReadout(torch.nn.Module):
    """``z_k = Σ_v w_k(v) · x(v)² / 2`` for one weight map per region."""

    def __init__(self, weights: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("weights", torch.as_tensor(weights, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * torch.einsum("bcxyz,kxyz->bk", x**2, self.weights)


class OracleModel:
    """What ``introspect`` asks of a model: each modality's latent encoder."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        self.encoder = encoder

    def latent_encoder(self, modality: int) -> torch.nn.Module:
        return self.encoder


def _cohort(grid, regions, scores, seed):
    params = FalffParams()
    anatomy = np.full(grid.shape, 0.6)  # grey matter everywhere: the brain mask is the whole field
    rng = np.random.default_rng(seed)
    return [render_falff(anatomy, grid, s, regions, SubjectFunction.draw(rng, params), rng, params) for s in scores]


def test_group_difference_peaks_fall_in_the_planted_regions():
    grid = mm_grid(6.0)  # 32³, the default preset's grid
    regions = falff_regions(grid)
    weights = np.stack([regions[r] >= 0.5 for r in REGIONS]).astype(np.float32)
    groups = np.array([0] * 12 + [1] * 12)
    model = OracleModel(RegionReadout(weights))
    coefficients = np.array([1.0, -1.0])  # +β: PCC/precuneus (dim 0), −β: hippocampus (dim 1)
    # AD subjects carry a strong planted fALFF score (3; the cohort's AD scores spread around 1–3)
    maps = saliency_maps(model, _cohort(grid, regions, np.where(groups == 1, 3.0, 0.0), seed=0), 0, seed=0)
    rbc = group_difference_maps(maps, groups, coefficients)
    null_maps = saliency_maps(model, _cohort(grid, regions, np.zeros(len(groups)), seed=0), 0, seed=0)
    null = group_difference_maps(null_maps, groups, coefficients)  # the negative control: no AD signal
    assert sorted(rbc) == ["+β dim 0", "−β dim 1"]
    near_region = [regions[r] >= 0.25 for r in REGIONS]  # the mask and its edge
    assert max(m.mean() for m in near_region) < 0.05  # a small part of the field
    for dim, (name, effect) in enumerate(rbc.items()):
        salient = maps[:, dim].mean(0) >= SALIENT
        assert not effect[~salient].any()  # the recipe shows no difference where nothing is salient
        peak = np.unravel_index(np.argmax(np.abs(effect)), effect.shape)  # the figure's slice position
        assert near_region[dim][peak], f"{name}: peak |RBC| {np.abs(effect[peak]):.2f} at {peak} is outside its region"
        assert np.abs(effect[peak]) > 0.4
        null_salient = null_maps[:, dim].mean(0) >= SALIENT
        assert np.abs(null[name][null_salient]).max() < np.abs(effect[peak])


def test_a_constant_probe_ranks_no_dimension_and_gets_no_maps():
    maps = np.random.default_rng(0).random((8, 3, 4, 4, 4))
    groups = np.array([0, 1] * 4)
    assert group_difference_maps(maps, groups, np.zeros(3)) == {}
    assert sorted(group_difference_maps(maps, groups, np.array([0.0, 2.0, -1.0]))) == ["+β dim 1", "−β dim 2"]
