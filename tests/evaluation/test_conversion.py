"""MCI-to-AD conversion: labels against the simulator's truth, a probe on planted signal and on noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.evaluation.conversion import conversion_labels, conversion_probe
from alignome.simulate.mri3d_calibration import truth_without_images


def test_labels_agree_with_the_simulators_recorded_conversion():
    truth = truth_without_images(subjects=300, seed=1)
    labels = conversion_labels(truth).set_index("subject")
    per_subject = truth.sort_values(["subject", "age"]).groupby("subject").agg(
        first=("diagnosis", "first"), visits=("diagnosis", "size"), converts=("converts_to_ad", "first"))
    at_risk = per_subject[(per_subject["first"] == "MCI") & (per_subject["visits"] >= 2)]
    assert sorted(labels.index) == sorted(at_risk.index)
    assert labels["converts"].sum() > 5 and (~labels["converts"]).sum() > 5  # both classes occur
    assert (labels["converts"] == at_risk["converts"].astype(bool).reindex(labels.index)).all()
    # the position is the subject's first visit
    first_age = truth.groupby("subject")["age"].min()
    assert (truth.loc[labels["position"], "age"].to_numpy() == first_age.reindex(labels.index).to_numpy()).all()


def _cohort(n: int, seed: int, signal: float) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows, emb = [], []
    direction = rng.normal(size=16)
    direction /= np.linalg.norm(direction)
    for s in range(n):
        converts = s % 3 == 0
        dx = ["MCI", "AD" if converts else "MCI"] if s % 4 else ["CN", "CN"]
        for v, d in enumerate(dx):
            rows.append({"subject": f"s{s:03d}", "visit": v, "diagnosis": d})
            emb.append(rng.normal(size=16) + signal * converts * direction)
    return np.array(emb), pd.DataFrame(rows)


def _split(emb, scans, test_share=0.4):
    subjects = scans["subject"].unique()
    test = scans["subject"].isin(subjects[: int(len(subjects) * test_share)]).to_numpy()
    return emb[~test], scans[~test].reset_index(drop=True), emb[test], scans[test].reset_index(drop=True)


def test_probe_finds_planted_conversion_signal_and_is_at_chance_on_noise():
    signal = conversion_probe(*_split(*_cohort(160, seed=0, signal=3.0)))
    assert not signal.skipped and signal.rows[0]["value"] > 0.9
    noise = conversion_probe(*_split(*_cohort(160, seed=1, signal=0.0)))
    assert abs(noise.rows[0]["value"] - 0.5) < 0.2
    # one prediction per test subject at risk, on its baseline scan
    _, _, _, scans_test = _split(*_cohort(160, seed=0, signal=3.0))
    assert (scans_test.loc[signal.positions, "visit"] == 0).all()
    assert len(signal.positions) == len(conversion_labels(scans_test))


def test_probe_is_skipped_with_the_reason_when_training_holds_no_converter():
    emb, scans = _cohort(60, seed=2, signal=1.0)
    scans.loc[scans["diagnosis"] == "AD", "diagnosis"] = "MCI"
    out = conversion_probe(*_split(emb, scans))
    assert out.skipped and "0 converter" in out.rows[0]["note"]


def test_a_subject_in_both_sets_is_refused():
    emb_tr, sc_tr, emb_te, sc_te = _split(*_cohort(40, seed=3, signal=1.0))
    with pytest.raises(ValueError, match="share"):
        conversion_probe(emb_tr, sc_tr, np.vstack([emb_te, emb_tr[:1]]), pd.concat([sc_te, sc_tr.iloc[:1]]))
