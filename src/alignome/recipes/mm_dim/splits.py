"""Subject-wise splits of paper 001: a stratified hold-out set, stratified folds of the rest, and what each fold feeds.

Per fold the encoders are pretrained on the pairs of the fold's training subjects (every class,
``other`` included); the probe is fitted on the training subjects' evaluation pairs (HC and AD) and
scored on the hold-out subjects and, for cross-validation, on the fold's left-out subjects: neither
ever reaches a pretraining fit or a standardisation fit of that fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from alignome.cohort.splits import SubjectFold, outer_folds
from alignome.errors import DataError
from alignome.recipes.mm_dim.cohort import GROUP_NAMES, OTHER, PairedCohort


@dataclass(frozen=True)
class MMSplits:
    """The hold-out subjects and the folds over the others (``train``: pretraining and probe fit; ``test``: CV score)."""

    holdout: tuple[str, ...]
    folds: list[SubjectFold]

    def __post_init__(self) -> None:
        for fold in self.folds:
            if set(self.holdout) & (set(fold.train) | set(fold.test)):
                raise AssertionError(f"fold {fold.index}: hold-out subjects inside the fold")


def split_subjects(groups: pd.Series, folds: int, holdout_fraction: float, seed: int) -> MMSplits:
    """Hold out ``holdout_fraction`` of subjects, then ``folds`` folds of the rest, both stratified by class."""
    subjects = np.array(sorted(groups.index.astype(str)))
    labels = groups.reindex(subjects).map(GROUP_NAMES).to_numpy()
    counts = pd.Series(labels).value_counts()
    if (counts < folds + 2).any():
        raise DataError(f"too few subjects per class for {folds} folds and a hold-out set ({counts.to_dict()})",
                        field="protocol.folds", fix="add subjects or lower protocol.folds")
    rest, holdout = train_test_split(subjects, test_size=holdout_fraction, stratify=labels, random_state=seed)
    rest_labels = pd.Series(labels, index=subjects).loc[np.sort(rest)]
    return MMSplits(holdout=tuple(sorted(holdout)), folds=outer_folds(rest_labels, list(rest_labels.index), folds, seed))


@dataclass(frozen=True)
class FoldPlan:
    """What one fold feeds: pretraining pairs (rows of ``cohort.pairs``), probe-fit and probe-score subjects."""

    fold: int
    pretrain_pairs: np.ndarray
    probe_train: tuple[str, ...]
    holdout: tuple[str, ...]
    validation: tuple[str, ...]
    holdout_all: tuple[str, ...]
    left_out: tuple[str, ...]

    @property
    def unseen(self) -> tuple[str, ...]:
        """Hold-out and left-out subjects of every class: never in the fold's pretraining."""
        return tuple(sorted({*self.holdout_all, *self.left_out}))

    def split_of(self) -> dict[str, str]:
        """Each embedded subject's part: ``train`` (probe fit), ``holdout`` or ``fold_test`` (never pretrained on)."""
        parts = {s: "fold_test" for s in self.left_out}
        parts.update({s: "holdout" for s in self.holdout_all})
        parts.update({s: "train" for s in self.probe_train})
        return parts


def fold_plan(cohort: PairedCohort, splits: MMSplits, fold: SubjectFold) -> FoldPlan:
    """The pairs and subjects of one fold; labelled (HC/AD) subjects only on the probe side.

    ``unseen`` (hold-out and the fold's left-out subjects, any class) are embedded for the
    similarity and saliency analyses; none of them is in a pretraining pair of the fold.
    """
    labelled = set(cohort.groups.index[cohort.groups != OTHER].astype(str))
    train = set(fold.train)
    rows = np.flatnonzero(cohort.pairs["subject"].astype(str).isin(train).to_numpy())
    plan = FoldPlan(
        fold=fold.index, pretrain_pairs=rows,
        probe_train=tuple(sorted(train & labelled)),
        holdout=tuple(sorted(set(splits.holdout) & labelled)),
        validation=tuple(sorted(set(fold.test) & labelled)),
        holdout_all=tuple(sorted(splits.holdout)), left_out=tuple(sorted(fold.test)),
    )
    seen = set(cohort.pairs["subject"].iloc[rows].astype(str))
    if seen & set(plan.unseen):
        raise AssertionError(f"fold {fold.index}: a scored subject is in its pretraining pairs")
    return plan
