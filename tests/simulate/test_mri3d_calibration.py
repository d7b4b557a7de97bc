"""The simulated brain against the published figures (alignome.simulate.mri3d_calibration), from truth alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from alignome.cli import app
from alignome.simulate.mri3d_calibration import (
    PUBLISHED_RANGES,
    annual_change,
    mri3d_calibration,
    outside_ranges,
    truth_without_images,
)


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return truth_without_images(1000, seed=0)


def test_calibration_falls_in_the_published_ranges(truth: pd.DataFrame) -> None:
    report = mri3d_calibration(truth)
    assert outside_ranges(report) == [], {k: report[k] for k in PUBLISHED_RANGES}
    # AD is faster than MCI, faster than CN, for every structure (ventricles grow, the rest shrinks)
    change = report["annual change"]
    for shrinking in ("hippocampus", "brain", "entorhinal"):
        assert (change[shrinking].diff().dropna() < 0).all(), shrinking
    assert (change["ventricle"].diff().dropna() > 0).all()


def test_disease_not_head_size_explains_hippocampal_volume(truth: pd.DataFrame) -> None:
    base = truth.sort_values(["subject", "age"]).drop_duplicates("subject")
    y = np.log(base["hippocampus_ml"].to_numpy())

    def r2(x: np.ndarray) -> float:
        return float(np.corrcoef(x, y)[0, 1] ** 2)

    assert r2(base["disease_stage"].to_numpy()) > r2(np.log(base["head_scale"].to_numpy())) + 0.2


def test_annual_change_matches_a_hand_computed_interval() -> None:
    table = pd.DataFrame({"subject": ["a", "a", "b", "b"], "age": [70.0, 72.0, 70.0, 71.0],
                          "diagnosis": ["CN", "CN", "CN", "MCI"],
                          "hippocampus_ml": [7.0, 7.0 * 0.98**2, 6.0, 5.0],
                          "ventricle_ml": [20.0, 20.0 * 1.05**2, 20.0, 30.0],
                          "brain_ml": [1000.0, 1000.0, 1000.0, 900.0],
                          "entorhinal_ml": [3.0, 3.0 * 0.97**2, 3.0, 2.0]})
    change = annual_change(table)
    # subject b's interval changes diagnosis and is left out
    assert change.loc["CN", "hippocampus"] == pytest.approx(-2.0)
    assert change.loc["CN", "ventricle"] == pytest.approx(5.0)
    assert change.loc["CN", "brain"] == pytest.approx(0.0)
    assert change.loc["CN", "entorhinal"] == pytest.approx(-3.0)
    assert change.loc[["MCI", "AD"]].isna().all().all()


def test_cli_prints_the_auc_and_the_table() -> None:
    result = CliRunner().invoke(app, ["simulate", "mri3d-calibration", "--subjects", "200", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "oracle AD-vs-CN AUC" in result.output and "annual change" in result.output
    auc = float(next(line for line in result.output.splitlines() if line.startswith("oracle")).split("|")[1])
    assert auc == pytest.approx(mri3d_calibration(truth_without_images(200, seed=1), seed=1)["oracle AD-vs-CN AUC"], abs=5e-4)
