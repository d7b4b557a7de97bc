"""The rank guard: only the main process of a multi-process launch evaluates and writes results."""

from __future__ import annotations

import pytest

from alignome.errors import ConfigError
from alignome.training.ranks import RANK_VARIABLES, is_main_process, launched_rank


@pytest.fixture
def no_rank(monkeypatch):
    for name in RANK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_plain_process_is_the_main_one(no_rank):
    assert launched_rank() == 0 and is_main_process()


@pytest.mark.parametrize("name", RANK_VARIABLES)
def test_a_non_zero_rank_from_any_launcher_variable_is_not_the_main_process(no_rank, name):
    no_rank.setenv(name, "0")
    assert is_main_process()
    no_rank.setenv(name, "1")
    assert launched_rank() == 1 and not is_main_process()


def test_node_one_local_rank_zero_is_not_the_main_process(no_rank):
    no_rank.setenv("LOCAL_RANK", "0")
    no_rank.setenv("NODE_RANK", "1")
    assert not is_main_process()


def test_the_trainer_rank_counts_too(no_rank):
    assert not is_main_process(trainer_rank=1)


def test_a_garbled_rank_is_a_config_error_naming_the_variable(no_rank):
    no_rank.setenv("RANK", "one")
    with pytest.raises(ConfigError) as err:
        launched_rank()
    assert err.value.field == "RANK" and "RANK" in str(err.value)
