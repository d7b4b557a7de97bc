"""The train/validation/test split of a longitudinal cohort: pairs where they are needed."""

from __future__ import annotations

import pandas as pd
import pytest

from alignome.cohort.splits import train_val_test_subjects
from alignome.errors import DataError


def _cohort(n_paired: int, n_single: int) -> tuple[pd.Series, pd.Series]:
    paired = [f"p{i:02d}" for i in range(n_paired)]
    single = [f"s{i:02d}" for i in range(n_single)]
    subjects = paired + single
    strata = pd.Series(["CN", "AD"] * (len(subjects) // 2) + ["CN"] * (len(subjects) % 2), index=subjects)
    counts = pd.Series([3] * n_paired + [1] * n_single, index=subjects)
    return strata, counts


@pytest.mark.parametrize("seed", range(5))
def test_single_scan_subjects_are_evaluated_and_every_split_trains_or_checks_on_pairs(seed):
    # the cohort: mostly single-scan subjects and a few with repeated visits
    strata, counts = _cohort(n_paired=6, n_single=14)
    split = train_val_test_subjects(strata, 0.2, 0.2, seed, scan_counts=counts)
    single = set(counts.index[counts == 1])
    assert single <= set(split.test)  # kept for evaluation, never in training or validation
    assert not single & (set(split.train) | set(split.val))
    paired_in = {part: [s for s in getattr(split, part) if s not in single] for part in ("train", "val", "test")}
    assert len(paired_in["train"]) >= 2 and paired_in["val"] and paired_in["test"]
    assert sorted([*split.train, *split.val, *split.test]) == sorted(strata.index)


def test_without_single_scan_subjects_the_split_is_unchanged():
    strata, counts = _cohort(n_paired=20, n_single=0)
    assert train_val_test_subjects(strata, 0.2, 0.25, 3, scan_counts=counts) == train_val_test_subjects(strata, 0.2, 0.25, 3)


def test_too_few_subjects_with_pairs_is_an_error_that_says_so():
    strata, counts = _cohort(n_paired=3, n_single=20)
    with pytest.raises(DataError, match="two or more usable scans"):
        train_val_test_subjects(strata, 0.2, 0.2, 0, scan_counts=counts)
