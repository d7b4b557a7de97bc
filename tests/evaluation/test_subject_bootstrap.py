"""Bootstrap over test subjects: unit weights give every point figure; resamples are by subject and stratified."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.evaluation.atrophy_tracking import atrophy_tracking
from alignome.evaluation.subject_bootstrap import (
    SubjectResamples,
    atrophy_draws,
    consistency_draws,
    probe_draws,
    reidentification_draws,
)
from alignome.evaluation.visit_metrics import reidentification, temporal_consistency
from alignome.evaluation.visit_probes import probe_outcomes


def _cohort(n: int, seed: int) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows, emb, truth = [], [], []
    for s in range(n):
        dx = ("CN", "MCI", "AD")[s % 3]
        centre = rng.normal(size=10) + (s % 3)
        for v in range(2 + s % 3):
            rows.append({"subject": f"s{s:03d}", "visit": v, "age": 65 + s % 20 + v, "diagnosis": dx})
            emb.append(centre + 0.8 * rng.normal(size=10))
            truth.append({"hippocampus_ml": 7 * (1 - 0.01 * (1 + s % 3)) ** v + 0.01 * rng.normal(),
                          "brain_ml": 1100 * (1 - 0.005 * (1 + s % 3)) ** v})
    return np.array(emb), pd.DataFrame(rows), pd.DataFrame(truth)


def _identity(subjects) -> SubjectResamples:
    """One 'resample' that draws every subject once: its figures are the point figures."""
    subjects = np.asarray(sorted(set(map(str, subjects))))
    return SubjectResamples(subjects, np.ones((1, subjects.size)))


def test_unit_weights_reproduce_every_point_figure():
    emb, scans, truth = _cohort(45, seed=0)
    test = scans["subject"].isin(np.random.default_rng(1).permutation(scans["subject"].unique())[:18]).to_numpy()
    sc_te, sc_tr = scans[test].reset_index(drop=True), scans[~test].reset_index(drop=True)
    ident = _identity(sc_te["subject"])

    reid = reidentification(emb[test], sc_te)
    draws = reidentification_draws(reid["per_query"], ident)
    for k in ("top1", "top5", "mean_rank"):
        assert draws[k][0] == pytest.approx(reid[k])
    tc = temporal_consistency(emb[test], sc_te)
    draws = consistency_draws(emb[test], sc_te, tc["per_subject"], ident)
    for k in ("consecutive_distance", "between_subject_distance", "ratio"):
        assert draws[k][0] == pytest.approx(tc[k])
    tracking = atrophy_tracking(emb[test], sc_te, truth[test].reset_index(drop=True))
    for k, v in atrophy_draws(tracking, ident).items():
        assert v[0] == pytest.approx(tracking.figures[k])
    outcomes = probe_outcomes(emb[~test], sc_tr, emb[test], sc_te)
    checked = 0
    for outcome in outcomes:
        draws = probe_draws(outcome, sc_te, ident)
        for row in outcome.rows:
            assert draws[row["metric"]][0] == pytest.approx(row["value"]), (outcome.task, row["metric"])
            checked += 1
    assert checked == 6  # 3-class AUC and accuracy, AD-vs-CN AUC and accuracy, age MAE and R²


def test_resamples_keep_each_strata_size_and_depend_on_the_seed_only():
    strata = pd.Series(["CN"] * 10 + ["AD"] * 6 + [np.nan] * 4, index=[f"s{i:02d}" for i in range(20)])
    r = SubjectResamples.draw(strata, n_boot=200, seed=3)
    assert r.counts.shape == (200, 20)
    assert (r.counts[:, :10].sum(axis=1) == 10).all() and (r.counts[:, 10:16].sum(axis=1) == 6).all()
    assert (r.counts[:, 16:].sum(axis=1) == 4).all()
    assert np.array_equal(r.counts, SubjectResamples.draw(strata, n_boot=200, seed=3).counts)
    assert not np.array_equal(r.counts, SubjectResamples.draw(strata, n_boot=200, seed=4).counts)
    # a scan table's rows take their subject's count
    w = r.weights(np.array(["s03", "s03", "s15"]))
    assert np.array_equal(w[:, 0], r.counts[:, 3]) and np.array_equal(w[:, 1], w[:, 0])


def test_interval_of_a_mean_of_independent_hits_matches_the_binomial_width():
    """400 subjects with one query each, hit rate 0.5: the 95 % interval is about ±1.96·√(.25/400) = ±0.049."""
    rng = np.random.default_rng(5)
    per_query = pd.DataFrame({"subject": [f"s{i:03d}" for i in range(400)], "hit_top1": rng.random(400) < 0.5,
                              "rank": 1.0})
    r = SubjectResamples.draw(pd.Series("CN", index=per_query["subject"]), n_boot=2000, seed=0)
    low, high = r.interval(reidentification_draws(per_query, r)["top1"])
    assert (high - low) / 2 == pytest.approx(1.96 * np.sqrt(0.25 / 400), rel=0.1)
