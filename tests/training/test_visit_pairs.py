"""Tests of the per-epoch visit-pair sampler."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.errors import DataError
from alignome.training.visit_pairs import VisitPairBatches


def _scans(n_subjects: int = 41, seed: int = 0) -> pd.DataFrame:
    """Scan table with 1 to 4 visits per subject (every fifth subject has one visit)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        visits = 1 if s % 5 == 0 else int(rng.integers(2, 5))
        for v in range(visits):
            rows.append({"scan_id": f"sub{s:03d}_ses{v}", "subject": f"sub{s:03d}", "session": f"ses{v}", "visit": v})
    return pd.DataFrame(rows)


def _all_pairs(batches: VisitPairBatches) -> list[tuple[int, int]]:
    return [pair for batch in batches for pair in batch]


def test_pairs_are_two_distinct_visits_of_one_subject() -> None:
    scans = _scans()
    sampler = VisitPairBatches(scans, batch_size=4, fraction=0.5, seed=1)
    single = set(sampler.single_visit_subjects)
    assert single == {f"sub{s:03d}" for s in range(0, 41, 5)}
    for epoch in range(5):
        sampler.set_epoch(epoch)
        pairs = _all_pairs(sampler)
        subjects = [scans.subject[a] for a, _ in pairs]
        for a, b in pairs:
            assert a != b
            assert scans.subject[a] == scans.subject[b]
            assert scans.visit[a] != scans.visit[b]
        assert len(set(subjects)) == len(subjects)  # each subject once per epoch
        assert not single & set(subjects)  # single-visit subjects are never drawn


def test_fraction_and_batch_sizes() -> None:
    scans = _scans()
    n_eligible = 41 - 9
    for fraction, batch_size in [(0.25, 3), (0.5, 8), (1.0, 5), (0.01, 4)]:
        sampler = VisitPairBatches(scans, batch_size=batch_size, fraction=fraction, seed=0)
        expected = max(2, round(fraction * n_eligible))
        pairs = _all_pairs(sampler)
        assert len(pairs) == expected == sampler.n_drawn
        sizes = [len(b) for b in sampler]
        assert len(sizes) == len(sampler) == -(-expected // batch_size)
        assert max(sizes) <= batch_size and max(sizes) - min(sizes) <= 1
        assert min(sizes) >= 2  # every single-process batch has negatives


def test_ranks_are_disjoint_and_equal() -> None:
    scans = _scans()
    world = 3
    samplers = [VisitPairBatches(scans, batch_size=2, fraction=0.75, seed=4, rank=r, world_size=world) for r in range(world)]
    n_drawn = samplers[0].n_drawn  # round(0.75 * 32) = 24
    assert n_drawn == 24
    for epoch in (0, 1, 2):
        per_rank = []
        for s in samplers:
            s.set_epoch(epoch)
            per_rank.append(list(s))
        # same number of batches and the same batch size step by step (needed by all_gather)
        assert len({len(b) for b in per_rank}) == 1
        assert len({len(s) for s in samplers}) == 1
        for step in zip(*per_rank):
            assert len({len(batch) for batch in step}) == 1
        subjects = [scans.subject[a] for batches in per_rank for batch in batches for a, _ in batch]
        assert len(subjects) == len(set(subjects)) == (n_drawn // world) * world
        assert per_rank[0] != per_rank[1]


def test_remainder_subjects_sit_out_and_ranks_stay_equal() -> None:
    scans = _scans()
    samplers = [VisitPairBatches(scans, batch_size=4, fraction=0.25, seed=0, rank=r, world_size=3) for r in range(3)]
    assert samplers[0].n_drawn == 8
    counts = [len(_all_pairs(s)) for s in samplers]
    assert counts == [2, 2, 2]


def test_deterministic_and_epochs_differ() -> None:
    scans = _scans()
    a = VisitPairBatches(scans, batch_size=4, fraction=0.25, seed=9)
    b = VisitPairBatches(scans, batch_size=4, fraction=0.25, seed=9)
    first = list(a)
    assert first == list(b) == list(a)
    a.set_epoch(1)
    second = list(a)
    assert second != first
    a.set_epoch(0)
    assert list(a) == first
    other_seed = VisitPairBatches(scans, batch_size=4, fraction=0.25, seed=10)
    assert list(other_seed) != first


def test_every_subject_and_visit_is_eventually_used() -> None:
    scans = _scans()
    sampler = VisitPairBatches(scans, batch_size=4, fraction=0.25, seed=0)
    seen_rows: set[int] = set()
    for epoch in range(200):
        sampler.set_epoch(epoch)
        for a, b in _all_pairs(sampler):
            seen_rows.update((a, b))
    multi = scans.groupby("subject")["scan_id"].transform("size") >= 2
    assert seen_rows == set(np.flatnonzero(multi.to_numpy()))


def test_bad_input() -> None:
    scans = _scans()
    one_pair = pd.DataFrame({"subject": ["a", "a", "b"], "visit": [0, 1, 0]})
    with pytest.raises(DataError, match="at least two subjects"):
        VisitPairBatches(one_pair, batch_size=2)
    with pytest.raises(DataError):
        VisitPairBatches(scans.drop(columns="subject"), batch_size=2)
    with pytest.raises(DataError):
        VisitPairBatches(scans, batch_size=2, fraction=0.05, world_size=4)  # 2 drawn subjects, 4 ranks
    with pytest.raises(ValueError):
        VisitPairBatches(scans, batch_size=0)
    with pytest.raises(ValueError):
        VisitPairBatches(scans, batch_size=2, fraction=0.0)
    with pytest.raises(ValueError):
        VisitPairBatches(scans, batch_size=2, rank=2, world_size=2)
