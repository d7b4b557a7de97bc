"""No test subject may reach training: folds, transforms, pretraining inputs."""

import numpy as np
import pandas as pd
import pytest

from alignome.cohort.model import Cohort
from alignome.cohort.splits import SubjectFold, outer_folds
from alignome.evaluation.fold_inputs import prepare_fold


def tiny_cohort(seed: int = 0, n: int = 40, visits: int = 3, unlabelled: int = 0) -> tuple[Cohort, pd.DataFrame, pd.DataFrame]:
    """``n`` subjects with ``visits`` scans each; the last ``unlabelled`` subjects never get a diagnosis."""
    rng = np.random.default_rng(seed)
    subjects = [f"S{i:03d}" for i in range(n)]
    dx = np.array(["CN", "MCI", "AD"])[np.arange(n) % 3].astype(object)
    dx[n - unlabelled:] = None
    scans = pd.DataFrame(
        [
            {"subject": s, "age": 70.0 + i + v, "r1": rng.normal(1000, 50), "r2": rng.normal(500, 20)}
            for i, s in enumerate(subjects)
            for v in range(visits)
        ]
    )
    pairs = scans[["subject", "age"]].assign(
        scan_row=np.arange(len(scans)),
        diagnosis=np.repeat(dx, visits),
        mmse=28.0,
        sex=0.0,
        education=16.0,
    )
    final = pairs[pairs["diagnosis"].notna()].groupby("subject").tail(1).reset_index(drop=True)
    cohort = Cohort(
        assessments=pairs[["subject", "age", "diagnosis", "mmse"]].copy(),
        subjects=pd.DataFrame({"sex": rng.integers(0, 2, n).astype(float), "education": rng.normal(15, 3, n)}, index=pd.Index(subjects, name="subject")),
        scans=scans,
        regions=["r1", "r2"],
        genotypes=pd.DataFrame(rng.integers(0, 3, (n, 5)).astype(np.float32), index=subjects, columns=[f"v{j}" for j in range(5)]),
        variants=pd.DataFrame({"chrom": "1", "pos": range(5), "a1": "A", "a2": "G"}, index=[f"v{j}" for j in range(5)]),
    )
    return cohort, pairs, final


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
