"""Fixtures of the recipe tests: the test-only recipe kind ``toy-mean``."""

import logging

import pytest

from alignome.recipes import registry

from tests.helpers.toy_kind import TOY


@pytest.fixture
def toy_kind():
    """Make the kind ``toy-mean`` known for one test."""
    registry.register(TOY)
    yield TOY
    registry.unregister(TOY.name)
    logging.getLogger("alignome").handlers.clear()
