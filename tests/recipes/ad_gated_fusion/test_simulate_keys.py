"""The recipe's ``data: simulate:`` keys reach the simulator; a key it does not take is an error."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from alignome.errors import ConfigError
from alignome.recipes.ad_gated_fusion.run import SIMULATE_KEYS, materialise_data
from alignome.recipes.registry import load_recipe
from alignome.simulate.genotypes import APOE_ID
from alignome.simulate.shared_signal import SharedSignalParams

from tests.helpers.paths import RECIPES

RECIPE = RECIPES / "ad-gated-fusion.yaml"
LOG = logging.getLogger("test-simulate-keys")


def _recipe(simulate: dict):
    return load_recipe(RECIPE, preset="quick", overrides={"data": {"simulate": simulate}})


def test_shared_signal_reaches_the_simulator(tmp_path: Path) -> None:
    data = materialise_data(_recipe({"subjects": 40, "shared_signal": 1.5}), tmp_path, LOG)
    causal = pd.read_csv(tmp_path / "data" / "causal_variants.csv").set_index("variant")
    expected = -1.5 * SharedSignalParams().level_per_allele
    assert causal.loc[APOE_ID, "shared_effect_on_volume"] == pytest.approx(expected)
    assert pd.read_csv(data.visits.path)["subject"].nunique() == 40


def test_recipe_default_is_the_negative_control(tmp_path: Path) -> None:
    recipe = load_recipe(RECIPE)
    assert "shared_signal" not in recipe.data.simulate  # S = 0 unless a run asks for more
    materialise_data(_recipe({"subjects": 30}), tmp_path, LOG)
    assert "shared_effect_on_volume" not in pd.read_csv(tmp_path / "data" / "causal_variants.csv").columns


def test_unknown_simulate_key_names_the_key_and_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        materialise_data(_recipe({"shared_signl": 1}), tmp_path, LOG)
    assert err.value.field == "data.simulate.shared_signl"
    assert all(key in err.value.fix for key in SIMULATE_KEYS)
    assert not (tmp_path / "data").exists()
