"""The ``paper`` preset (a GPU's work) validates and plans: the paper's splits, schedule and networks at 64³.

Nothing here trains; a few objectives run one forward and backward pass of two pairs at 64³, so a
mistake that only shows at the paper's size (the side-8 layer, the decoders' output) fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from alignome.objectives.dim import DIMObjective
from alignome.recipes.mm_dim.cohort import OTHER, subject_groups
from alignome.recipes.mm_dim.run import pretrain_settings
from alignome.recipes.mm_dim.splits import split_subjects
from alignome.recipes.registry import load_recipe
from alignome.simulate.falff3d import mm_truth_without_images
from alignome.training.dim_pretrain import build_model

from tests.helpers.paths import RECIPES


@pytest.fixture(scope="module")
def paper():
    return load_recipe(RECIPES / "mm-dim.yaml", preset="paper")


def test_paper_preset_has_the_papers_schedule_and_five_trained_folds(paper):
    m, p = paper.method, paper.protocol
    assert (m.size, m.latent_dim, m.batch_size, m.epochs, m.lr, m.max_lr) == (64, 64, 64, 200, 4e-4, 0.01)
    assert (m.penalty, m.clip) == (4e-2, 20.0)
    assert (p.folds, p.run_folds, p.probe_trials, p.probe_folds) == (5, 5, 500, 5)
    truth = mm_truth_without_images(paper.data.simulate["subjects"], paper.seed)
    groups = subject_groups(truth)
    splits = split_subjects(groups, p.folds, p.holdout_fraction, paper.seed)
    assert len(groups) == 826 and len(splits.folds) == 5
    assert len(splits.holdout) == pytest.approx(0.12 * 826, abs=2)  # the paper: 100 hold-out subjects
    rest = len(groups) - len(splits.holdout)
    for fold in splits.folds:  # every non-hold-out subject is left out by exactly one fold
        assert len(fold.test) == pytest.approx(rest / 5, abs=2) and len(fold.train) + len(fold.test) == rest
    assert sorted(s for f in splits.folds for s in f.test) == sorted(set(groups.index) - set(splits.holdout))
    assert (groups.loc[list(splits.holdout)] != OTHER).sum() > 0


@pytest.mark.parametrize("name", ["L-CL-CS-S", "DCCAE", "MMVAE", "supervised"])
def test_paper_networks_run_at_64_cubed(paper, name):
    m = paper.method
    assert name in m.objectives
    objective = DIMObjective(name, penalty=m.penalty, clip=m.clip, iwae_samples=m.iwae_samples)
    torch.manual_seed(0)
    model = build_model(objective, m.size, pretrain_settings(paper))
    x1, x2 = torch.randn(2, 1, 64, 64, 64), torch.randn(2, 1, 64, 64, 64)
    a, _ = model(x1, x2)
    assert a.latent.shape == (2, 64) and a.locations.shape == (2, 8**3, 64)  # the side-8 layer at 64³
    terms = objective(model, x1, x2, torch.tensor([0, 1]))
    terms["loss"].backward()
    assert math.isfinite(float(terms["loss"].detach()))
    grads = [p.grad for p in model.encoders[0].parameters()]
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)


def test_every_paper_objective_builds(paper):
    m = paper.method
    for name in m.objectives:
        model = build_model(DIMObjective(name, iwae_samples=m.iwae_samples), m.size, pretrain_settings(paper))
        assert model.size == 64
