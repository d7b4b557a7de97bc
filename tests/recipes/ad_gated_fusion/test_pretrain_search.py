"""Pretraining chosen in the inner loop: no outer-test or inner-validation subject reaches a pretraining that scores it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from alignome.cohort.splits import outer_folds
from alignome.recipes.ad_gated_fusion.evaluation import encode_fold, evaluate_task
from alignome.recipes.ad_gated_fusion.schema import Recipe
from alignome.training.pretrain import ContrastivePretrainer
from tests.helpers.tiny_cohort import tiny_cohort

SMALL = {
    "method": {
        "n_snps": 5, "embedding_dim": 4, "hidden": [8],
        "pretrain": {"epochs": 3, "patience": 2, "batch_size": 32},
        "classifier": {"epochs": 5, "patience": 2, "hidden": 4},
    },
    "protocol": {
        "outer_folds": 4, "inner_folds": 2, "trials": 1, "tasks": ["CN/AD"],
        "methods": ["contrastive+fusion", "only-reconstruction"],
        "pretrain_search": {"trials": 2, "embedding_dim": [4, 6]},
    },
}


def _recipe(**protocol: object) -> Recipe:
    proto = {**SMALL["protocol"], **protocol}
    return Recipe.model_validate({"name": "t", "data": {"simulate": {"subjects": 40}}, "method": SMALL["method"], "protocol": proto})


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def fold_setup():
    cohort, pairs, final = tiny_cohort(seed=3, n=48, unlabelled=3)
    fold = outer_folds(final.set_index("subject")["diagnosis"], cohort.subject_ids, 4, seed=0)[1]
    return cohort, pairs, final, fold


def _record_fits(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    seen: list[set[str]] = []
    original = ContrastivePretrainer.fit

    def fit(self, snps, age, volumes, groups):
        seen.append(set(map(str, groups)))
        return original(self, snps, age, volumes, groups)

    monkeypatch.setattr(ContrastivePretrainer, "fit", fit)
    return seen


def test_no_pretraining_sees_outer_test_or_its_inner_validation_subjects(monkeypatch, fold_setup):
    cohort, pairs, final, fold = fold_setup
    fits = _record_fits(monkeypatch)
    enc = encode_fold(cohort, pairs, final, fold, _recipe())

    outer_train = set(fold.train)
    assert all(not subjects & set(fold.test) for subjects in fits)
    inner = [(set(s.subjects.train), set(s.subjects.test)) for s in enc.inner]
    assert len(inner) == 2
    for train, val in inner:
        assert train | val == outer_train and not train & val
    per_split = [0, 0]
    final_fits = 0
    for subjects in fits:
        owners = [k for k, (train, _) in enumerate(inner) if subjects <= train]
        if owners:
            assert len(owners) == 1 and not subjects & inner[owners[0]][1]
            per_split[owners[0]] += 1
        else:
            assert subjects == outer_train  # the fold's own pretraining, one per variant
            final_fits += 1
    # 2 search trials of "full" + 1 inner pretraining of "reconstruction-only", on each inner split
    assert per_split == [3, 3]
    assert final_fits == 2


def test_inner_split_transforms_and_labels_come_from_its_training_side(fold_setup):
    cohort, pairs, final, fold = fold_setup
    enc = encode_fold(cohort, pairs, final, fold, _recipe())
    for split in enc.inner:
        assert split.data.transforms.train_subjects == frozenset(split.subjects.train)
        rows = split.data.final.set_index("subject")["split"]
        assert set(rows[rows == "test"].index) == set(split.subjects.test)
        assert set(rows.index) <= set(fold.train)
        assert set(split.encoded) == {"full", "reconstruction-only"}


def test_the_best_trial_is_chosen_and_recorded_with_each_method(fold_setup):
    cohort, pairs, final, fold = fold_setup
    recipe = _recipe()
    enc = encode_fold(cohort, pairs, final, fold, recipe)
    trials = enc.choice.trials
    best = trials.loc[trials["inner_score"].idxmax()]
    s = enc.choice.settings
    assert enc.choice.inner_score == pytest.approx(best["inner_score"])
    assert (s.contrastive_weight, s.embedding_dim, s.stop_on) == (best["contrastive_weight"], best["embedding_dim"], best["stop_on"])
    assert s.temperature == pytest.approx(best["temperature"])
    assert enc.encoded["full"][0].shape[1] == s.embedding_dim

    res = evaluate_task(enc, "CN/AD", recipe)
    params = pd.DataFrame(res.best_params).set_index("method")
    assert params.loc["contrastive+fusion", "pretrain_contrastive_weight"] == s.contrastive_weight
    assert params.loc["only-reconstruction", "pretrain_contrastive_weight"] == 0.0
    assert (params["pretrain_inner_score"] == enc.choice.inner_score).all()
    assert set(params["pretrain_stopped_on"]) <= {"total", "reconstruction"}


def test_the_search_is_deterministic(fold_setup):
    cohort, pairs, final, fold = fold_setup
    a = encode_fold(cohort, pairs, final, fold, _recipe())
    b = encode_fold(cohort, pairs, final, fold, _recipe())
    pd.testing.assert_frame_equal(a.choice.trials, b.choice.trials)
    np.testing.assert_array_equal(a.encoded["full"][1], b.encoded["full"][1])


def test_without_any_search_no_inner_pretraining_runs(monkeypatch, fold_setup):
    cohort, pairs, final, fold = fold_setup
    fits = _record_fits(monkeypatch)
    enc = encode_fold(cohort, pairs, final, fold, _recipe(trials=0, pretrain_search={"trials": 0}))
    assert enc.inner == [] and len(fits) == 2
    assert np.isnan(enc.choice.inner_score) and enc.choice.settings.contrastive_weight == 1.0


def test_a_diagnosis_too_rare_for_the_inner_splits_trains_on_every_side():
    cohort, pairs, final = tiny_cohort(seed=4, n=48)
    rare = final.loc[final["diagnosis"] == "MCI", "subject"].iloc[1:]
    keep = ~final["subject"].isin(rare)  # one MCI subject left: too few to stratify 2 inner splits
    final, pairs = final[keep].reset_index(drop=True), pairs[pairs["subject"].isin(set(final.loc[keep, "subject"]))]
    fold = outer_folds(final.set_index("subject")["diagnosis"].where(lambda d: d != "MCI"), cohort.subject_ids, 4, seed=0)[0]
    enc = encode_fold(cohort, pairs, final, fold, _recipe())
    mci = set(final.loc[final["diagnosis"] == "MCI", "subject"])
    for split in enc.inner:
        assert mci <= set(split.subjects.train) and not mci & set(split.subjects.test)
