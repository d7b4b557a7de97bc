"""Atrophy tracking: embeddings built to move exactly as the true volumes changed, or not at all in step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.evaluation.atrophy_tracking import atrophy_tracking


def _cohort(n_subjects: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Scans (2–4 visits) and truth; the subject's true log hippocampal loss first to last is returned too."""
    rng = np.random.default_rng(seed)
    scans, truth, loss = [], [], []
    for s in range(n_subjects):
        visits = int(rng.integers(2, 5))
        rate = rng.uniform(0.005, 0.06)  # yearly fraction lost
        v0, b0 = rng.normal(7.0, 0.5), rng.normal(1100, 80)
        brain_rate = rng.uniform(0.001, 0.02)
        for v in range(visits):
            scans.append({"subject": f"s{s:03d}", "visit": v, "age": 70 + v})
            truth.append({"hippocampus_ml": v0 * (1 - rate) ** v, "brain_ml": b0 * (1 - brain_rate) ** v})
        loss.append(-(visits - 1) * np.log(1 - rate))
    return pd.DataFrame(scans), pd.DataFrame(truth), np.array(loss)


def _embeddings_moving_by(scans: pd.DataFrame, amount: np.ndarray, seed: int) -> np.ndarray:
    """Per subject a random unit start; the last visit rotated by an angle increasing with ``amount``."""
    rng = np.random.default_rng(seed)
    emb = np.zeros((len(scans), 8))
    for k, (subject, rows) in enumerate(scans.groupby("subject", sort=True).groups.items()):
        a, b = np.linalg.qr(rng.normal(size=(8, 2)))[0].T
        for i, row in enumerate(sorted(rows, key=lambda r: scans.loc[r, "visit"])):
            angle = amount[k] * i / max(len(rows) - 1, 1)
            emb[row] = np.cos(angle) * a + np.sin(angle) * b
    return emb


def test_embeddings_that_move_with_the_true_change_have_spearman_one_and_permuted_near_zero():
    scans, truth, loss = _cohort(200, seed=0)
    emb = _embeddings_moving_by(scans, loss * 10, seed=1)
    result = atrophy_tracking(emb, scans, truth)
    assert result.unavailable is None
    assert result.figures["spearman_hippocampus"] == pytest.approx(1.0)
    # the distance is 1 - cos(angle): check the per-subject table against that
    assert result.per_subject["distance"].to_numpy() == pytest.approx(1 - np.cos(loss * 10))
    assert result.per_subject["change_hippocampus"].to_numpy() == pytest.approx(loss)

    shuffled = _embeddings_moving_by(scans, np.random.default_rng(2).permutation(loss) * 10, seed=1)
    permuted = atrophy_tracking(shuffled, scans, truth)
    assert abs(permuted.figures["spearman_hippocampus"]) < 0.2  # SE about 0.07 on 200 subjects


def test_without_truth_the_metric_is_unavailable_with_the_reason():
    scans, truth, loss = _cohort(10, seed=3)
    emb = _embeddings_moving_by(scans, loss, seed=4)
    none = atrophy_tracking(emb, scans, None)
    assert none.figures == {} and "no true volumes" in none.unavailable
    other = atrophy_tracking(emb, scans, pd.DataFrame({"ventricle_ml": np.ones(len(scans))}))
    assert other.figures == {} and "hippocampus_ml" in other.unavailable
    few = atrophy_tracking(emb[:5], scans.iloc[:5], truth.iloc[:5])
    assert few.figures == {} and "needs 3" in few.unavailable
