"""No test subject may reach training: folds, transforms, pretraining inputs."""

import numpy as np
import pandas as pd
import pytest

from alignome.cohort.splits import SubjectFold, outer_folds
from alignome.evaluation.fold_inputs import prepare_fold
from tests.helpers.tiny_cohort import tiny_cohort


def test_folds_are_disjoint_and_cover_every_labelled_subject_once():
    cohort, pairs, final = tiny_cohort()
    folds = outer_folds(final.set_index("subject")["diagnosis"], cohort.subject_ids, 5, seed=1)
    tested = [s for f in folds for s in f.test]
    assert sorted(tested) == sorted(final["subject"])
    for f in folds:
        assert not set(f.train) & set(f.test)
        assert set(f.train) | set(f.test) == set(cohort.subject_ids)


def test_a_fold_with_a_subject_on_both_sides_cannot_be_built():
    with pytest.raises(AssertionError, match="both train and test"):
        SubjectFold(0, ("S1", "S2"), ("S2",))


def test_fitted_transforms_see_training_subjects_only():
    cohort, pairs, final = tiny_cohort()
    fold = outer_folds(final.set_index("subject")["diagnosis"], cohort.subject_ids, 4, seed=0)[0]
    before = prepare_fold(cohort, pairs, final, fold)

    # Corrupt every test subject's data wildly: nothing fitted may move.
    test = list(fold.test)
    cohort.genotypes.loc[test] = 2.0
    cohort.scans.loc[cohort.scans["subject"].isin(test), ["r1", "r2"]] = 1e9
    cohort.scans.loc[cohort.scans["subject"].isin(test), "age"] += 40.0
    cohort.subjects.loc[test, "education"] = 99.0
    after = prepare_fold(cohort, pairs, final, fold)

    tb, ta = before.transforms, after.transforms
    np.testing.assert_array_equal(tb.snp_encoder.frequencies_, ta.snp_encoder.frequencies_)
    np.testing.assert_array_equal(tb.volume_scaler.mean_, ta.volume_scaler.mean_)
    np.testing.assert_array_equal(tb.volume_scaler.scale_, ta.volume_scaler.scale_)
    assert (tb.age_mean, tb.age_std, tb.education_mean) == (ta.age_mean, ta.age_std, ta.education_mean)
    assert tb.snp_encoder.n_subjects_seen_ == len([s for s in fold.train if s in set(cohort.genotypes.index)])
    # pretraining inputs hold training subjects' scans only
    assert set(after.pretrain.subject) <= set(fold.train)
    assert not set(after.pretrain.subject) & set(test)
    np.testing.assert_array_equal(before.pretrain.volumes, after.pretrain.volumes)
    # final-visit rows are labelled train/test by the fold, and embeddings come from test subjects only
    split = after.final.set_index("subject")["split"]
    assert set(split[split == "test"].index) == set(test)
    assert set(after.embed_scans["subject"]) == set(test)


def test_changing_a_training_subject_does_move_the_transforms():
    """Guards the test above: the transforms must react to training data."""
    cohort, pairs, final = tiny_cohort()
    fold = outer_folds(final.set_index("subject")["diagnosis"], cohort.subject_ids, 4, seed=0)[0]
    before = prepare_fold(cohort, pairs, final, fold).transforms
    cohort.scans.loc[cohort.scans["subject"] == fold.train[0], "r1"] = 1e9
    after = prepare_fold(cohort, pairs, final, fold).transforms
    assert not np.array_equal(before.volume_scaler.mean_, after.volume_scaler.mean_)


def test_subjects_without_a_diagnosis_pretrain_in_every_fold_and_are_never_tested():
    """Unlabelled subjects cannot be evaluated, but their scans are pretraining data in every fold."""
    cohort, pairs, final = tiny_cohort(n=36, unlabelled=6)
    unlabelled = {f"S{i:03d}" for i in range(30, 36)}
    # a labelled training subject's scan without a diagnosis within the window is pretraining data too
    pairs.loc[pairs["subject"] == "S000", "diagnosis"] = [None, "CN", "CN"]
    assert set(final["subject"]).isdisjoint(unlabelled)
    folds = outer_folds(final.set_index("subject")["diagnosis"], cohort.subject_ids, 3, seed=0)
    for fold in folds:
        assert unlabelled <= set(fold.train) and unlabelled.isdisjoint(fold.test)
        data = prepare_fold(cohort, pairs, final, fold)
        # every scan of every training subject (labelled or not) is a pretraining row, once
        train_side = pairs[pairs["subject"].isin(fold.train)]
        assert sorted(data.pretrain.subject) == sorted(train_side["subject"])
        assert (pd.Series(data.pretrain.subject).value_counts()[sorted(unlabelled)] == 3).all()
        assert data.transforms.snp_encoder.n_subjects_seen_ == len(fold.train)
        # and none of them is a test row anywhere
        split = data.final.set_index("subject")["split"]
        assert unlabelled.isdisjoint(split[split == "test"].index)
        assert unlabelled.isdisjoint(data.embed_scans["subject"])
