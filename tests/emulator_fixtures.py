"""Emulator fixtures for every test: ``from emulator_fixtures import *`` in a conftest."""

import pytest
from rodin_emulator import Emulator

__all__ = ["emulator", "emulator_server"]

TEST_SETTINGS = {
    "api_key": "test-key",
    "balance": 100.0,
    "waiting_seconds": 0.1,
    "generating_seconds": 0.2,
    "texture_size": 64,
}


@pytest.fixture(scope="session")
def emulator_server():
    """One emulator for the whole session, with fast timings and small textures."""
    with Emulator(**TEST_SETTINGS) as server:
        yield server


@pytest.fixture
def emulator(emulator_server):
    """The session's emulator, reset to the test settings: no tasks, faults or log."""
    emulator_server.reset()
    return emulator_server
