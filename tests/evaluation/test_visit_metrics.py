"""Longitudinal evaluation (temporal consistency, re-identification, probes) and
trajectory / distance figures, on synthetic embeddings of known structure."""

from __future__ import annotations

from itertools import combinations

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from alignome.errors import DataError
from alignome.evaluation.visit_metrics import (
    distance_distributions,
    reidentification,
    subject_trajectories,
    temporal_consistency,
)
from alignome.evaluation.visit_probes import linear_probes


def _table(n_subjects: int, seed: int, visits: tuple[int, int] = (2, 4), single: int = 0,
           diagnoses: tuple[str, ...] = ("CN", "MCI", "AD")) -> pd.DataFrame:
    """Scan table: subjects with 2–4 visits (plus ``single`` one-visit subjects)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects + single):
        nv = 1 if s >= n_subjects else int(rng.integers(visits[0], visits[1] + 1))
        age0 = rng.uniform(60, 85)
        dx = diagnoses[s % len(diagnoses)]
        for v in range(nv):
            rows.append({"scan_id": f"s{s:03d}_v{v}", "subject": f"s{s:03d}", "session": f"v{v}",
                         "visit": v, "age": age0 + 1.2 * v + rng.uniform(0, 0.3), "diagnosis": dx})
    return pd.DataFrame(rows)


def _structured(scans: pd.DataFrame, d: int = 32, noise: float = 0.1, seed: int = 0) -> np.ndarray:
    """Each subject a random centre plus small per-visit noise."""
    rng = np.random.default_rng(seed)
    centres = {s: rng.normal(size=d) for s in pd.unique(scans["subject"])}
    return np.stack([centres[s] + noise * rng.normal(size=d) for s in scans["subject"]])


def _shuffle(emb: np.ndarray, scans: pd.DataFrame, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    perm = np.random.default_rng(seed).permutation(len(scans))
    return emb[perm], scans.iloc[perm].reset_index(drop=True)


def _cosdist(a: np.ndarray, b: np.ndarray) -> float:
    return 1.0 - float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---------------------------------------------------------------- temporal consistency


def _slow_consistency(emb, scans):
    per_subject = []
    for subject in sorted(set(scans["subject"])):
        rows = scans[scans["subject"] == subject].sort_values("visit")
        idx = list(rows.index)
        if len(idx) < 2:
            continue
        d = [_cosdist(emb[idx[t]], emb[idx[t + 1]]) for t in range(len(idx) - 1)]
        per_subject.append(sum(d) / len(d))
    between = []
    subj = scans["subject"].to_numpy()
    for i, j in combinations(range(len(scans)), 2):
        if subj[i] != subj[j]:
            between.append(_cosdist(emb[i], emb[j]))
    return float(np.mean(per_subject)), float(np.mean(between))


def test_temporal_consistency_equals_explicit_loop_on_shuffled_table():
    scans = _table(12, seed=1, single=2)
    emb = np.random.default_rng(2).normal(size=(len(scans), 8))
    emb, scans = _shuffle(emb, scans, seed=3)  # rows no longer in visit order
    out = temporal_consistency(emb, scans)
    consecutive, between = _slow_consistency(emb, scans)
    assert out["consecutive_distance"] == pytest.approx(consecutive, rel=1e-10)
    assert out["between_subject_distance"] == pytest.approx(between, rel=1e-10)
    assert out["ratio"] == pytest.approx(consecutive / between, rel=1e-10)
    assert out["n_subjects"] == 12  # the two one-visit subjects have no consecutive pair
    per = out["per_subject"]
    assert list(per.columns) == ["subject", "n_visits", "mean_consecutive_distance"]
    assert per["n_visits"].sum() == len(scans) - 2
    assert out["n_consecutive_pairs"] == len(scans) - 2 - 12


def test_structure_gives_low_ratio_and_noise_ratio_one():
    scans = _table(60, seed=4)
    good = temporal_consistency(_structured(scans, noise=0.1), scans)
    assert good["ratio"] < 0.05
    noise = temporal_consistency(np.random.default_rng(5).normal(size=(len(scans), 32)), scans)
    assert noise["ratio"] == pytest.approx(1.0, abs=0.06)
    assert noise["between_subject_distance"] == pytest.approx(1.0, abs=0.03)


def test_collapsed_encoder_has_undefined_ratio():
    scans = _table(5, seed=6)
    out = temporal_consistency(np.ones((len(scans), 4)), scans)
    assert out["consecutive_distance"] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(out["ratio"])


def test_subject_trajectories_follow_visit_not_row_order():
    scans = pd.DataFrame({"subject": ["b", "a", "b", "a", "b"], "visit": [2, 1, 0, 0, 1]})
    traj = subject_trajectories(scans)
    assert list(traj) == ["b", "a"]
    assert traj["b"].tolist() == [2, 4, 0]
    assert traj["a"].tolist() == [3, 1]


def test_bad_embeddings_raise_data_error():
    scans = _table(3, seed=0)
    with pytest.raises(DataError, match="rows but the scan table has"):
        temporal_consistency(np.zeros((len(scans) + 1, 4)) + 1, scans)
    emb = np.ones((len(scans), 4))
    emb[1, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
        reidentification(emb, scans)
    emb[1] = 0.0
    with pytest.raises(DataError, match="all-zero"):
        temporal_consistency(emb, scans)


# ---------------------------------------------------------------- re-identification


def _slow_reid(emb, scans, ks):
    subj = scans["subject"].to_numpy()
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    hits = {k: [] for k in ks}
    for q in range(len(scans)):
        if (subj == subj[q]).sum() < 2:
            continue
        gallery = [j for j in range(len(scans)) if j != q]
        order = sorted(gallery, key=lambda j: -float(unit[q] @ unit[j]))
        for k in ks:
            hits[k].append(any(subj[j] == subj[q] for j in order[:k]))
    return {k: float(np.mean(v)) for k, v in hits.items()}, len(hits[ks[0]])


def test_reidentification_equals_brute_force():
    scans = _table(10, seed=7, single=3)
    emb = np.random.default_rng(8).normal(size=(len(scans), 3))  # low d: many mistakes
    out = reidentification(emb, scans, ks=(1, 3, 5))
    slow, n_queries = _slow_reid(emb, scans, (1, 3, 5))
    assert out["queries"] == n_queries == len(scans) - 3
    for k in (1, 3, 5):
        assert out[f"top{k}"] == pytest.approx(slow[k], abs=1e-12)
    assert 0.0 < out["top1"] < out["top5"] < 1.0  # the case is not degenerate
    # chance top-1: a random gallery scan is the subject's with probability m / (N - 1)
    subj = scans["subject"]
    m = subj.map(subj.value_counts()) - 1
    assert out["chance_top1"] == pytest.approx(float((m[m > 0] / (len(scans) - 1)).mean()))


def test_reidentification_structured_near_one_and_noise_near_chance():
    scans = _table(80, seed=9)
    good = reidentification(_structured(scans, noise=0.1), scans)
    assert good["top1"] >= 0.99 and good["top5"] == 1.0
    noise = reidentification(np.random.default_rng(10).normal(size=(len(scans), 32)), scans)
    assert noise["chance_top1"] < 0.02
    assert noise["top1"] < noise["chance_top1"] + 0.05
    assert noise["top5"] < noise["chance_top5"] + 0.08
    assert noise["mean_rank"] > 20 * good["mean_rank"]


def test_collapsed_encoder_scores_exactly_chance():
    scans = _table(8, seed=11)
    out = reidentification(np.ones((len(scans), 4)), scans, ks=(1, 5))
    assert out["top1"] == pytest.approx(out["chance_top1"], abs=1e-12)
    assert out["top5"] == pytest.approx(out["chance_top5"], abs=1e-12)
    assert out["top1"] < 0.2


# ---------------------------------------------------------------- linear probes


def _planted(n_subjects: int, seed: int, signal: bool, diagnoses=("CN", "AD"), d: int = 24):
    scans = _table(n_subjects, seed=seed, diagnoses=diagnoses)
    rng = np.random.default_rng(seed + 100)
    emb = rng.normal(size=(len(scans), d))
    if signal:  # unit directions: a moderate signal in d = 24 unit-variance noise dimensions
        codes = scans["diagnosis"].map({c: i for i, c in enumerate(diagnoses)}).to_numpy()
        class_dirs = rng.normal(size=(len(diagnoses), d))
        class_dirs /= np.linalg.norm(class_dirs, axis=1, keepdims=True)
        age_dir = rng.normal(size=d)
        age_dir /= np.linalg.norm(age_dir)
        age_z = (scans["age"].to_numpy() - 72.5) / 7.0
        emb = emb + 2.5 * class_dirs[codes] + 4.0 * age_z[:, None] * age_dir
    return emb, scans


def _split(emb, scans, seed: int = 0):
    """Subject-wise split, a quarter of the subjects in test."""
    subjects = pd.unique(scans["subject"])
    test_subjects = set(np.random.default_rng(seed).permutation(subjects)[: len(subjects) // 4])
    test = scans["subject"].isin(test_subjects).to_numpy()
    return (emb[~test], scans[~test].reset_index(drop=True), emb[test], scans[test].reset_index(drop=True))


def _value(rows, task_prefix, metric):
    sel = [r for r in rows if r["task"].startswith(task_prefix) and r["metric"] == metric]
    assert len(sel) == 1, rows
    return sel[0]["value"]


def test_probes_recover_planted_signal_and_are_at_chance_on_noise():
    rows = linear_probes(*_split(*_planted(120, seed=12, signal=True)))
    assert _value(rows, "diagnosis", "auc") > 0.9
    assert _value(rows, "diagnosis", "balanced_accuracy") > 0.8
    assert _value(rows, "age", "r2") > 0.8
    assert all({"task", "metric", "value", "n_train", "n_test"} <= set(r) for r in rows)
    n_test = [r["n_test"] for r in rows if r["task"] == "age"][0]
    assert n_test == len(_split(*_planted(120, seed=12, signal=True))[3])

    noise = linear_probes(*_split(*_planted(120, seed=13, signal=False)))
    assert abs(_value(noise, "diagnosis", "auc") - 0.5) < 0.15
    assert abs(_value(noise, "diagnosis", "balanced_accuracy") - 0.5) < 0.15
    assert _value(noise, "age", "r2") < 0.1


def test_three_class_probe_reports_macro_ovr_auc():
    rows = linear_probes(*_split(*_planted(90, seed=14, signal=True, diagnoses=("CN", "MCI", "AD"))))
    assert _value(rows, "diagnosis", "auc_macro_ovr") > 0.9
    assert _value(rows, "diagnosis", "balanced_accuracy") > 0.8  # chance 1/3
    assert not [r for r in rows if r["task"] == "diagnosis" and r["metric"] == "auc"]
    assert _value(rows, "AD vs CN", "auc") > 0.9  # the binary probe on CN and AD scans alone


def test_probe_skips_with_reason_when_a_class_is_missing_in_training():
    emb_tr, sc_tr, emb_te, sc_te = _split(*_planted(60, seed=15, signal=True))
    sc_te = sc_te.copy()
    sc_te.loc[0, "diagnosis"] = "MCI"  # a class training never saw
    rows = linear_probes(emb_tr, sc_tr, emb_te, sc_te)
    diag = [r for r in rows if r["task"].startswith("diagnosis")]
    assert len(diag) == 1 and diag[0]["metric"] == "skipped" and np.isnan(diag[0]["value"])
    assert "MCI" in diag[0]["note"] and "not in training" in diag[0]["note"]
    assert _value(rows, "age", "r2") > 0.8  # the age probe still runs


def test_probe_refuses_a_subject_in_train_and_test():
    emb, scans = _planted(20, seed=16, signal=True)
    emb_tr, sc_tr, emb_te, sc_te = _split(emb, scans)
    leaked = sc_tr.iloc[[0]]
    with pytest.raises(ValueError, match=leaked["subject"].iloc[0]):
        linear_probes(emb_tr, sc_tr, np.vstack([emb_te, emb_tr[:1]]),
                      pd.concat([sc_te, leaked], ignore_index=True))


# ---------------------------------------------------------------- distances and figures


def test_distance_distributions_all_pairs_and_sample():
    scans = _table(15, seed=17)
    emb = _structured(scans, noise=0.3, seed=18)
    cons, betw = distance_distributions(emb, scans, max_pairs=10**6)
    tc = temporal_consistency(emb, scans)
    assert cons.size == tc["n_consecutive_pairs"] and betw.size == tc["n_between_pairs"]
    assert betw.mean() == pytest.approx(tc["between_subject_distance"], rel=1e-10)
    _, sample = distance_distributions(emb, scans, max_pairs=50, seed=1)
    _, again = distance_distributions(emb, scans, max_pairs=50, seed=1)
    assert sample.size == 50 and np.array_equal(sample, again)
    assert sample.min() > cons.max()  # every sampled pair is of two different subjects


def test_trajectory_figure_draws_one_line_per_subject_in_visit_order(tmp_path):
    from alignome.analysis.trajectories import build_trajectory_figure, project_2d, trajectory_figure

    scans = _table(9, seed=19, single=2)
    emb, scans = _shuffle(_structured(scans, noise=0.2, seed=20), scans, seed=21)
    path = trajectory_figure(emb, scans, tmp_path / "traj.png", seed=0, title="test")
    image = mpimg.imread(path)
    assert path.stat().st_size > 20_000 and image.shape[1] > 2 * image.shape[0]

    fig = build_trajectory_figure(emb, scans, seed=0)
    assert "UMAP" in fig.get_suptitle()
    axes = fig.get_axes()
    assert len(axes) == 4  # three panels + the age colourbar
    lines = {ln.get_gid().split(":", 1)[1]: ln for ln in axes[0].get_lines()
             if (ln.get_gid() or "").startswith("trajectory:")}
    traj = subject_trajectories(scans)
    assert set(lines) == {s for s, p in traj.items() if p.size >= 2} and len(lines) == 9
    coords, _ = project_2d(emb, seed=0)
    for subject, line in lines.items():
        np.testing.assert_allclose(line.get_xydata(), coords[traj[subject]])
    # every scan is drawn once in the diagnosis panel
    assert sum(len(c.get_offsets()) for c in axes[1].collections) == len(scans)


def test_small_cohort_falls_back_to_pca(tmp_path):
    from alignome.analysis.trajectories import build_trajectory_figure

    scans = _table(3, seed=22, visits=(2, 2))
    fig = build_trajectory_figure(_structured(scans, seed=23), scans)
    assert "PCA" in fig.get_suptitle() and "too few for UMAP" in fig.get_suptitle()
    assert sum((ln.get_gid() or "").startswith("trajectory:") for ln in fig.get_axes()[0].get_lines()) == 3


def test_distance_figure_has_one_panel_per_method(tmp_path):
    from alignome.analysis.trajectories import build_distance_figure, distance_figure

    scans = _table(20, seed=24)
    good = distance_distributions(_structured(scans, noise=0.1), scans)
    bad = distance_distributions(np.random.default_rng(25).normal(size=(len(scans), 16)), scans)
    methods = {"contrastive": good, "untrained": bad, "supervised": bad, "pixels": good}
    path = distance_figure(methods, tmp_path / "dist.png")
    assert path.stat().st_size > 20_000
    fig = build_distance_figure(methods)
    visible = [ax for ax in fig.get_axes() if ax.get_visible()]
    assert [ax.get_title().split("\n")[0] for ax in visible] == list(methods)
    ratio = good[0].mean() / good[1].mean()
    assert f"ratio {ratio:.2f}" in visible[0].get_title()
    # two filled + two outline histograms per panel, 40 bins each
    assert all(len(ax.patches) == 2 * 40 + 2 for ax in visible)
