"""No subject's images reach both a fold's fits (standardisation, pretraining) and its own probe score."""

import numpy as np
import pytest

from alignome.recipes.mm_dim import run as run_module
from alignome.recipes.mm_dim.fold_volumes import fold_volumes
from alignome.recipes.mm_dim.schema import MMDimRecipe
from alignome.recipes.mm_dim.splits import fold_plan, split_subjects
from alignome.training.dim_pretrain import pretrain as real_pretrain

from tests.recipes.mm_dim.conftest import SIZE


def _recipe():
    return MMDimRecipe.model_validate({
        "kind": "mm-dim", "name": "t", "data": {"simulate": {}},
        "method": {"objectives": ["S", "supervised"], "size": SIZE, "base_width": 2, "latent_dim": 4, "epochs": 1,
                   "batch_size": 8, "histogram_standardisation": False},
        "protocol": {"folds": 3, "probe_trials": 2, "probe_folds": 2, "introspect": []},
    })


def test_fits_see_only_the_folds_training_subjects_and_scores_only_the_others(paired, monkeypatch, tmp_path):
    cohort, volumes = paired
    recipe = _recipe()
    splits = split_subjects(cohort.groups, 3, 0.15, seed=0)
    subject_of = cohort.images["subject"].astype(str)
    seen = {"standardise": set(), "pretrain": set()}

    def spy_volumes(vols, images, fit_ids, histogram):
        seen["standardise"] |= {subject_of[i] for i in fit_ids}
        return {i: np.full_like(v, float(i)) for i, v in vols.items()}  # each volume carries its image id

    def spy_pretrain(x, labels, *args, **kwargs):
        for modality in x:
            seen["pretrain"] |= {subject_of[int(round(float(v.flat[0])))] for v in modality}
        return real_pretrain(x, labels, *args, **kwargs)

    monkeypatch.setattr(run_module, "fold_volumes", spy_volumes)
    monkeypatch.setattr(run_module, "pretrain", spy_pretrain)
    for fold in splits.folds[:2]:
        plan = fold_plan(cohort, splits, fold)
        seen = {"standardise": set(), "pretrain": set()}
        done = run_module.run_fold(recipe, cohort, volumes, plan, tmp_path / "ckpt", "k", _quiet(), tmp_path, False)
        scored = set(plan.holdout) | set(plan.validation)
        assert scored and seen["pretrain"] and seen["standardise"]
        assert not seen["pretrain"] & scored
        assert not seen["standardise"] & scored
        assert seen["pretrain"] == set(fold.train) & set(cohort.pairs["subject"])  # other diagnoses join pretraining
        assert {r["n_holdout"] for r in done["rows"]} == {len(plan.holdout)}
    assert set(splits.holdout).isdisjoint(set().union(*[set(f.train) | set(f.test) for f in splits.folds]))


def test_standardisation_is_fitted_on_the_given_images_only(paired):
    cohort, volumes = paired
    fit = {i for i in volumes if cohort.images.loc[i, "subject"] < "s20"}
    base = fold_volumes(volumes, cohort.images, fit, histogram=True)
    outside = next(i for i in volumes if i not in fit)
    inside = next(i for i in fit if cohort.images.loc[i, "modality"] == cohort.images.loc[outside, "modality"])
    changed = dict(volumes)
    changed[outside] = volumes[outside] * 3.0 + np.where(volumes[outside] > 0, 5.0, 0.0).astype(np.float32)
    after = fold_volumes(changed, cohort.images, fit, histogram=True)
    assert all(np.array_equal(base[i], after[i]) for i in volumes if i != outside)  # landmarks did not move
    changed = dict(volumes)
    changed[inside] = volumes[inside] ** 2
    after = fold_volumes(changed, cohort.images, fit, histogram=True)
    assert not np.array_equal(base[outside], after[outside])  # a training image does move them


def test_a_plan_refuses_a_scored_subject_in_its_pretraining_pairs(paired):
    cohort, _ = paired
    splits = split_subjects(cohort.groups, 3, 0.15, seed=0)
    fold = splits.folds[0]
    leaky = object.__new__(type(splits))  # a hold-out subject slipped into a fold's training side
    object.__setattr__(leaky, "holdout", splits.holdout)
    object.__setattr__(leaky, "folds", [type(fold)(fold.index, tuple(fold.train) + splits.holdout[:1], fold.test)])
    with pytest.raises(AssertionError, match="scored subject"):
        fold_plan(cohort, leaky, leaky.folds[0])


def _quiet():
    import logging
    return logging.getLogger("test-mm-dim")


def test_the_voxel_pca_baseline_is_fitted_on_the_probe_training_subjects_only(paired):
    from alignome.recipes.mm_dim.probe import voxel_pca_latents

    cohort, volumes = paired
    subjects = sorted(cohort.evaluation["subject"])
    fit = tuple(subjects[:20])
    base = voxel_pca_latents(cohort, volumes, subjects, fit, components=5)
    scored = cohort.evaluation.set_index("subject").loc[subjects[-1]]
    changed = dict(volumes)
    changed[int(scored["row_a"])] = volumes[int(scored["row_a"])] * 4.0
    after = voxel_pca_latents(cohort, changed, subjects, fit, components=5)
    assert np.allclose(base[0].loc[list(fit)], after[0].loc[list(fit)])  # the components did not move
    assert not np.allclose(base[0].loc[subjects[-1]], after[0].loc[subjects[-1]])
