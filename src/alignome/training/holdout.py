"""Internal validation splits for early stopping: subject-wise and stratified."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def group_holdout(groups: ArrayLike, fraction: float, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Hold out a fraction of *groups* (subjects), never splitting one.

    Parameters
    ----------
    groups
        Group (subject) id of every row, shape ``(n,)``.
    fraction
        Fraction of distinct groups to hold out. With ``fraction <= 0`` or fewer
        than two groups nothing is held out; otherwise at least one group is
        held out and at least one kept.
    seed
        Seed of the random choice of groups.

    Returns
    -------
    train_idx, val_idx
        Sorted row indices.
    """
    groups = np.asarray(groups)
    uniq = np.unique(groups)
    n_val = int(round(fraction * len(uniq))) if fraction > 0 else 0
    if fraction > 0 and len(uniq) >= 2:
        n_val = min(max(n_val, 1), len(uniq) - 1)
    else:
        n_val = 0
    rng = np.random.default_rng(seed)
    val_groups = rng.permutation(uniq)[:n_val]
    is_val = np.isin(groups, val_groups)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def stratified_holdout(y: ArrayLike, fraction: float, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Hold out a stratified fraction of rows (rows are subjects here).

    Every class with at least two rows gets ``round(fraction * count)`` rows
    (at least one) in the held-out part; a class with one row stays in training.

    Parameters
    ----------
    y
        Class labels, shape ``(n,)``.
    fraction
        Fraction of rows to hold out (``<= 0``: none).
    seed
        Seed of the random choice.

    Returns
    -------
    train_idx, val_idx
        Sorted row indices.
    """
    y = np.asarray(y)
    if fraction <= 0:
        return np.arange(len(y)), np.arange(0)
    rng = np.random.default_rng(seed)
    val: list[NDArray[np.intp]] = []
    for cls in np.unique(y):
        rows = np.flatnonzero(y == cls)
        if len(rows) < 2:
            continue
        k = min(max(int(round(fraction * len(rows))), 1), len(rows) - 1)
        val.append(rng.permutation(rows)[:k])
    val_idx = np.sort(np.concatenate(val)) if val else np.arange(0)
    train_idx = np.setdiff1d(np.arange(len(y)), val_idx)
    return train_idx, val_idx
