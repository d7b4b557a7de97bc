"""Subject-wise stratified (nested) cross-validation splits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from alignome.errors import DataError


@dataclass(frozen=True)
class SubjectFold:
    """One outer fold: disjoint sets of subject ids."""

    index: int
    train: tuple[str, ...]
    test: tuple[str, ...]

    def __post_init__(self) -> None:
        overlap = set(self.train) & set(self.test)
        if overlap:
            raise AssertionError(f"fold {self.index}: subjects in both train and test: {sorted(overlap)[:5]}")


def outer_folds(
    final_diagnosis: pd.Series,
    all_subjects: list[str],
    n_splits: int,
    seed: int,
) -> list[SubjectFold]:
    """Stratified K-fold over subjects, stratified by final-visit diagnosis.

    Parameters
    ----------
    final_diagnosis
        Index subject id, value the diagnosis at the subject's final labelled visit.
    all_subjects
        Every subject in the cohort. Subjects without a final diagnosis cannot be
        evaluated; they join the training side of every fold (pretraining data only).
    n_splits, seed
        Number of folds and shuffling seed.
    """
    labelled = final_diagnosis.dropna()
    counts = labelled.value_counts()
    if len(labelled) < n_splits or (counts < n_splits).any():
        raise DataError(
            f"too few labelled subjects for {n_splits}-fold stratified CV (per diagnosis: {counts.to_dict()})",
            field="protocol.outer_folds",
            fix="lower protocol.outer_folds or add subjects",
        )
    subjects = np.array(sorted(labelled.index.astype(str)))
    y = labelled.loc[subjects].to_numpy()
    unlabelled = tuple(sorted(set(map(str, all_subjects)) - set(subjects)))
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    folds = []
    for k, (tr, te) in enumerate(splitter.split(subjects, y)):
        folds.append(SubjectFold(k, tuple(subjects[tr]) + unlabelled, tuple(subjects[te])))
    return folds


def inner_splits(y: np.ndarray, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold over rows that are one subject each (final visits)."""
    counts = np.unique(y, return_counts=True)[1]
    n = int(min(n_splits, counts.min())) if counts.size else 0
    if n < 2:
        raise DataError(
            "too few subjects per class in a training fold for the inner cross-validation",
            field="protocol.inner_folds",
            fix="use more subjects or fewer folds",
        )
    return list(StratifiedKFold(n_splits=n, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


@dataclass(frozen=True)
class SubjectSplit:
    """A subject-wise train/validation/test split: disjoint sets of subject ids."""

    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]

    def __post_init__(self) -> None:
        parts = (set(self.train), set(self.val), set(self.test))
        overlap = (parts[0] & parts[1]) | (parts[0] & parts[2]) | (parts[1] & parts[2])
        if overlap:
            raise AssertionError(f"subjects in more than one split: {sorted(overlap)[:5]}")


def train_val_test_subjects(
    strata: pd.Series, val_fraction: float, test_fraction: float, seed: int, scan_counts: pd.Series | None = None
) -> SubjectSplit:
    """Split subjects three ways, stratified by ``strata`` where every stratum allows it.

    Parameters
    ----------
    strata
        Index subject id, value a label to stratify on (e.g. the last known
        diagnosis; missing values form their own stratum).
    val_fraction, test_fraction
        Shares of subjects in validation and test (each at least one subject).
    seed
        Shuffling seed.
    scan_counts
        Index subject id, value the number of usable scans. When given, only subjects
        with two or more scans are split three ways (training, validation and test each
        need pairs of visits), and subjects with a single scan join the test split:
        they have no positive pair to train on, and are evaluated (probes, distances).
    """
    if scan_counts is not None:
        counts = scan_counts.reindex(strata.index).fillna(0)
        single = sorted(strata.index[counts.to_numpy() < 2].astype(str))
        if single:
            paired = strata.drop(index=[s for s in strata.index if str(s) in set(single)])
            split = _three_ways(paired, val_fraction, test_fraction, seed, "with two or more usable scans ")
            return SubjectSplit(split.train, split.val, tuple(sorted([*split.test, *single])))
    return _three_ways(strata, val_fraction, test_fraction, seed, "")


def _three_ways(strata: pd.Series, val_fraction: float, test_fraction: float, seed: int, which: str) -> SubjectSplit:
    from sklearn.model_selection import train_test_split

    subjects = np.array(sorted(strata.index.astype(str)))
    n = len(subjects)
    n_test, n_val = max(1, round(test_fraction * n)), max(1, round(val_fraction * n))
    if n - n_test - n_val < 2:
        raise DataError(
            f"{n} subject(s) {which}are too few for a train/validation/test split with"
            f" {val_fraction:.0%}/{test_fraction:.0%} held out",
            field="protocol.val_fraction",
            fix="add subjects (with repeated visits) or lower protocol.val_fraction / protocol.test_fraction",
        )
    labels = strata.reindex(subjects).fillna("unknown").astype(str).to_numpy()

    def cut(ids: np.ndarray, y: np.ndarray, size: int, salt: int) -> tuple[np.ndarray, np.ndarray]:
        counts = np.unique(y, return_counts=True)[1]
        stratify = y if counts.min() >= 2 and size >= len(counts) else None
        keep, held = train_test_split(ids, test_size=size, random_state=seed + salt, stratify=stratify)
        return np.sort(keep), np.sort(held)

    rest, test = cut(subjects, labels, n_test, 0)
    rest_labels = strata.reindex(rest).fillna("unknown").astype(str).to_numpy()
    train, val = cut(rest, rest_labels, n_val, 1)
    return SubjectSplit(tuple(train), tuple(val), tuple(test))
