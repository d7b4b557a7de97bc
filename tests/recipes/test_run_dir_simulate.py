"""A simulated cohort is reused only while its parameters and the simulator's fingerprint match the stamp."""

from __future__ import annotations

import json
import logging

import pytest

from alignome.recipes import run_dir
from alignome.recipes.run_dir import simulate_once
from alignome.simulate.fingerprint import simulator_fingerprint


class CountingSimulator:
    """A stand-in simulator: writes one file and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data_dir, seed, subjects):
        self.calls += 1
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "cohort.txt").write_text(f"{seed} {subjects} call {self.calls}")


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="test-simulate-once")
    return logging.getLogger("test-simulate-once")


PARAMS = {"seed": 0, "subjects": 8}


def test_same_params_and_simulator_reuse_the_cohort(tmp_path, log):
    simulate = CountingSimulator()
    simulate_once(tmp_path, PARAMS, simulate, log, "cohort")
    simulate_once(tmp_path, dict(PARAMS), simulate, log, "cohort")
    assert simulate.calls == 1
    stamp = json.loads((tmp_path / "data" / "simulate.json").read_text())
    assert stamp["simulator"] == json.loads(json.dumps(simulator_fingerprint()))


def test_changed_params_resimulate(tmp_path, log, caplog):
    simulate = CountingSimulator()
    simulate_once(tmp_path, PARAMS, simulate, log, "cohort")
    simulate_once(tmp_path, {**PARAMS, "subjects": 9}, simulate, log, "cohort")
    assert simulate.calls == 2 and "stale (parameters were" in caplog.text


def test_a_changed_simulator_resimulates(tmp_path, log, caplog, monkeypatch):
    simulate = CountingSimulator()
    simulate_once(tmp_path, PARAMS, simulate, log, "cohort")
    edited = {**simulator_fingerprint(), "simulate_source_sha256": "0" * 64}
    monkeypatch.setattr(run_dir, "simulator_fingerprint", lambda: edited)
    simulate_once(tmp_path, PARAMS, simulate, log, "cohort")
    assert simulate.calls == 2
    assert "the simulator changed since: simulate_source_sha256" in caplog.text
    assert (tmp_path / "data" / "cohort.txt").read_text().endswith("call 2")


def test_a_stamp_without_a_fingerprint_counts_as_stale(tmp_path, log, caplog):
    """A stamp of the params alone, as alignome 0.1.0 before issue 14 wrote it, no longer vouches for the data."""
    simulate = CountingSimulator()
    simulate_once(tmp_path, PARAMS, simulate, log, "cohort")
    (tmp_path / "data" / "simulate.json").write_text(json.dumps(PARAMS))
    simulate_once(tmp_path, PARAMS, simulate, log, "cohort")
    assert simulate.calls == 2 and "no simulator fingerprint" in caplog.text


def test_a_simulation_cut_short_leaves_no_stamp(tmp_path, log):
    simulate_once(tmp_path, PARAMS, CountingSimulator(), log, "cohort")

    def crash(data_dir, **params):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_once(tmp_path, {**PARAMS, "seed": 1}, crash, log, "cohort")
    assert not (tmp_path / "data" / "simulate.json").exists()
