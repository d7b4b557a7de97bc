"""Study 2's PC1-by-status figure: orientation keeps |Cohen's d|, the figure reads the first split only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignome.evaluation.disease_probe import standardised_difference
from alignome.recipes.gemcont.pc1_figure import oriented, pc1_figure, status_table


def test_oriented_puts_cases_above_controls_and_keeps_the_effect_size() -> None:
    rng = np.random.default_rng(1)
    disease = rng.random(500) < 0.25
    values = 3.0 - 2.0 * disease + rng.normal(size=500) * 1.5  # cases lower, as FEV1/FVC
    z = oriented(values, disease)
    assert z[disease].mean() > z[~disease].mean()
    assert z.mean() == pytest.approx(0, abs=1e-12) and z.std() == pytest.approx(1)
    assert standardised_difference(z, disease) == pytest.approx(abs(standardised_difference(values, disease)))


def test_pc1_figure_draws_the_first_split_and_skips_an_empty_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    disease = rng.random(200) < 0.3
    ids = np.array([f"s{i}" for i in range(200)])
    table = pd.concat([status_table(m, split, ids, disease, rng.normal(size=200) + disease)
                       for split in (0, 1) for m in ("gemcont", "FEV1/FVC")])
    assert set(table.columns) == {"method", "fold", "IID", "disease", "value"} and len(table) == 800
    assert pc1_figure(table, tmp_path / "pc1.png", ["gemcont", "FEV1/FVC"]) == tmp_path / "pc1.png"
    assert (tmp_path / "pc1.png").stat().st_size > 0
    assert pc1_figure(table.iloc[:0], tmp_path / "none.png", ["gemcont"]) is None
    assert pc1_figure(None, tmp_path / "none.png", ["gemcont"]) is None
