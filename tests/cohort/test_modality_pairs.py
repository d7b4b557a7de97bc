"""Tests of cross-modality pairing by days (alignome.cohort.modality_pairs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.cohort.modality_pairs import evaluation_pairs, pair_modalities
from alignome.errors import DataError


def _manifest(rows: list[tuple[str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["subject", "days", "modality"])


def _slow_pairs(manifest: pd.DataFrame, a: str, b: str) -> set[tuple[int, int]]:
    """Reference: for each image, the other modality's closest image of its subject (earlier on ties)."""
    out = set()
    for _, group in manifest.groupby("subject"):
        for mine, other, flip in ((a, b, False), (b, a, True)):
            others = group[group["modality"] == other].sort_values("days", kind="stable")
            for i, row in group[group["modality"] == mine].iterrows():
                if others.empty:
                    continue
                gaps = (others["days"] - row["days"]).abs().to_numpy()
                j = others.index[int(np.flatnonzero(gaps == gaps.min())[0])]
                out.add((j, i) if flip else (i, j))
    return out


def test_docstring_example_pairs_each_visit() -> None:
    man = _manifest([("s1", 0, "T1w"), ("s1", 700, "T1w"), ("s1", 5, "fALFF"), ("s1", 690, "fALFF")])
    pairs = pair_modalities(man)
    assert list(zip(pairs["days_a"], pairs["days_b"])) == [(0, 5), (700, 690)]
    assert list(pairs["gap_days"]) == [5, 10]


def test_matches_a_slow_loop_on_random_manifests() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for s in range(30):
        for modality in ("T1w", "fALFF", "other"):
            for _ in range(int(rng.integers(0, 5))):
                rows.append((f"s{s}", float(rng.integers(0, 2000)), modality))
    man = _manifest(rows).sample(frac=1.0, random_state=1)  # any row order, index labels kept
    pairs = pair_modalities(man)
    assert set(zip(pairs["row_a"], pairs["row_b"])) == _slow_pairs(man, "T1w", "fALFF")
    assert not pairs.duplicated(["row_a", "row_b"]).any()
    assert (man.loc[pairs["row_a"], "modality"] == "T1w").all()
    assert (man.loc[pairs["row_b"], "subject"].to_numpy() == pairs["subject"].to_numpy()).all()


def test_max_gap_drops_far_pairs_and_evaluation_takes_each_subjects_latest() -> None:
    man = _manifest([("a", 0, "T1w"), ("a", 400, "T1w"), ("a", 30, "fALFF"), ("a", 900, "fALFF"),
                     ("b", 10, "T1w"), ("b", 12, "fALFF"), ("c", 3, "T1w")])
    man["diagnosis"] = ["CN", "AD", "CN", "AD", "MCI", "MCI", "CN"]
    pairs = pair_modalities(man)
    assert set(pairs["subject"]) == {"a", "b"}  # c has one modality only
    assert len(pair_modalities(man, max_gap_days=100)) == len(pairs) - 2  # (400, 30) and (400, 900)
    last = evaluation_pairs(pairs)
    assert list(last["subject"]) == ["a", "b"]
    assert list(last["days_a"]) == [400, 10]
    assert list(last["diagnosis"]) == ["AD", "MCI"]


def test_missing_column_and_bad_days_are_data_errors() -> None:
    with pytest.raises(DataError, match="days"):
        pair_modalities(pd.DataFrame({"subject": ["a"], "modality": ["T1w"]}))
    with pytest.raises(DataError, match="not a number"):
        pair_modalities(_manifest([("a", "x", "T1w")]))
