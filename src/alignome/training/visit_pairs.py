"""Per-epoch batches of same-subject visit pairs for longitudinal contrastive training.

Paper 004 (ClinImCL) samples about 25 % of subjects per epoch and uses two
scans of one subject at different timepoints as a positive pair, scans of other
subjects as negatives. :class:`VisitPairBatches` makes that exact:

* eligible subjects have at least two scans (single-visit subjects have no
  positive and are never drawn; they stay in the scan table for evaluation);
* each epoch draws ``max(2, round(fraction * n_eligible))`` subjects (capped
  at ``n_eligible``), and each drawn subject appears **once**, as a pair of two
  distinct scans chosen at random, so no subject is ever its own negative;
* the drawn subjects are sharded disjointly across ranks, every rank gets the
  same number of pairs (the ``n_drawn % world_size`` left-over subjects sit
  the epoch out) and the same batch sizes step by step, so embeddings can be
  all-gathered across processes and still contain each subject at most once;
* every random choice is seeded by ``(seed, epoch)``: the same arguments give
  the same batches on every rank and every run, and different epochs differ.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from alignome.errors import DataError

Pair = tuple[int, int]


class VisitPairBatches:
    """Iterable of batches of ``(row_a, row_b)`` row positions in the scan table.

    Parameters
    ----------
    scans
        The scan table (one row per scan, a ``subject`` column); row position
        ``i`` is volume ``i``.
    batch_size
        Maximum pairs per batch on one rank (a batch holds ``2 * batch_size``
        volumes). An epoch's pairs of a rank are split into
        ``ceil(pairs / batch_size)`` batches of near-equal size.
    fraction
        Fraction of eligible subjects drawn per epoch, in ``(0, 1]``.
    seed
        Seed of every random choice (together with the epoch).
    rank, world_size
        This process and the number of processes; ranks receive disjoint
        subjects.

    Raises
    ------
    DataError
        When the table has no ``subject`` column, fewer than two subjects
        with two or more scans, or fewer drawn subjects than ranks.
    ValueError
        On a bad ``batch_size``, ``fraction``, ``rank`` or ``world_size``.
    """

    def __init__(
        self,
        scans: pd.DataFrame,
        batch_size: int,
        fraction: float = 0.25,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        if "subject" not in scans.columns:
            raise DataError("the scan table has no subject column", field="subject",
                            fix="give one row per scan with a 'subject' column")
        subjects = scans["subject"].astype(str).to_numpy()
        rows_of: dict[str, list[int]] = {}
        for pos, subject in enumerate(subjects):
            rows_of.setdefault(subject, []).append(pos)
        self.eligible_subjects: list[str] = sorted(s for s, r in rows_of.items() if len(r) >= 2)
        self.single_visit_subjects: list[str] = sorted(s for s, r in rows_of.items() if len(r) < 2)
        n_eligible = len(self.eligible_subjects)
        if n_eligible < 2:
            raise DataError(
                f"contrastive training needs at least two subjects with two or more scans, found {n_eligible}",
                field="subject",
                fix="add subjects with repeated visits (single-visit subjects have no positive pair)",
            )
        self._rows = [np.asarray(rows_of[s], dtype=np.int64) for s in self.eligible_subjects]
        self.n_drawn = min(n_eligible, max(2, int(round(fraction * n_eligible))))
        self.pairs_per_rank = self.n_drawn // world_size
        if self.pairs_per_rank < 1:
            raise DataError(
                f"{self.n_drawn} subjects drawn per epoch cannot be shared by {world_size} processes",
                field="fraction",
                fix="raise the fraction of subjects per epoch or use fewer processes",
            )
        self.batch_size = int(batch_size)
        self.fraction = float(fraction)
        self.seed = int(seed)
        self.rank = int(rank)
        self.world_size = int(world_size)
        self.epoch = 0
        self._n_batches = -(-self.pairs_per_rank // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose draw ``__iter__`` yields (as DistributedSampler)."""
        self.epoch = int(epoch)

    def epoch_pairs(self, epoch: int | None = None) -> list[list[Pair]]:
        """Pairs of every rank for one epoch: element ``r`` is rank ``r``'s list of pairs.

        Parameters
        ----------
        epoch
            Epoch to draw (default: the current epoch set by :meth:`set_epoch`).
        """
        epoch = self.epoch if epoch is None else int(epoch)
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self._rows))[: self.pairs_per_rank * self.world_size]
        pairs: list[Pair] = []
        for index in order:
            a, b = rng.choice(self._rows[index], size=2, replace=False)
            pairs.append((int(a), int(b)))
        n = self.pairs_per_rank
        return [pairs[r * n : (r + 1) * n] for r in range(self.world_size)]

    def __iter__(self) -> Iterator[list[Pair]]:
        """Yield this rank's batches (lists of ``(row_a, row_b)``) for the current epoch."""
        mine = self.epoch_pairs()[self.rank]
        for chunk in np.array_split(np.arange(len(mine)), self._n_batches):
            yield [mine[i] for i in chunk]

    def __len__(self) -> int:
        """Number of batches per epoch on this rank (equal on every rank and epoch)."""
        return self._n_batches
