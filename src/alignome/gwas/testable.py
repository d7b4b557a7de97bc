"""Which traits a scan can test: none without values or with one value only.

A trait whose values are all missing, or all equal, has nothing to associate: single mode would print
statistics of rounding noise, and multi mode would count it in D. Such a trait is skipped with a line that
names it (plink2 ``--glm`` writes no result for it either: version 2.00a3.5 stops with "phenotype is
constant"). :func:`empty_traits` and then :func:`constant_traits`, on the samples a scan uses, name them with
the reason (:class:`SkippedTrait`); :func:`check_multi_trait_size` refuses a joint test with more traits than
the samples can carry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignome.errors import DataError


@dataclass(frozen=True)
class SkippedTrait:
    """A phenotype column left out of the scan, and why."""

    name: str
    reason: str

    def describe(self) -> str:
        """One line for logs."""
        return f"skipped phenotype '{self.name}': {self.reason}, nothing to test"


def empty_traits(y: np.ndarray, names: list[str]) -> list[SkippedTrait]:
    """The columns of ``y`` (samples × traits, NaN missing) without a value."""
    some = np.isfinite(y).any(axis=0)
    return [SkippedTrait(name, "no values (missing on every sample)") for name, s in zip(names, some) if not s]


def constant_traits(y: np.ndarray, names: list[str]) -> list[SkippedTrait]:
    """The columns of ``y`` (samples × traits, NaN missing) with one value on every sample that has one."""
    finite = np.isfinite(y)
    skipped = []
    for k, name in enumerate(names):
        values = y[finite[:, k], k]
        if values.size and values.min() == values.max():
            skipped.append(SkippedTrait(name, f"constant (all {values.size} values are {values[0]:g})"))
    return skipped


def check_some_left(names: list[str], skipped: list[SkippedTrait]) -> None:
    """Raise :class:`DataError` when every trait was skipped."""
    if len(skipped) == len(names):
        raise DataError("no phenotype can be tested: " + "; ".join(s.describe() for s in skipped),
                        field=skipped[0].name, fix="give phenotype columns that vary between samples "
                                                   "(check --pheno-cols and the missing values)")


def check_multi_trait_size(n: int, n_covariates: int, n_traits: int) -> None:
    """Raise :class:`DataError` unless ``n`` samples can carry a joint test of ``n_traits`` traits beside the
    intercept and ``n_covariates`` covariates (the residual trait covariance must be invertible, and Wilks' F
    needs n − p − D ≥ 1)."""
    p = 1 + n_covariates
    if n - p - n_traits < 1:
        raise DataError(f"a joint test of {n_traits} traits needs more than {n_traits + p} samples "
                        f"({n_traits} traits + {p} covariate column(s), the intercept included); {n} have complete values",
                        field="pheno",
                        fix=f"test fewer traits: --embedding-pcs D with D ≤ {max(n - p - 1, 1)} (the top D principal "
                            f"components), --pheno-cols, or --mode single (one test per trait)")
