"""Small simulated datasets and graphs for the twin's tests (built once per session)."""

from __future__ import annotations

import pytest

from tests.conftest import simulate_small, small_variant


@pytest.fixture(scope="session")
def twin_dataset(tmp_path_factory):
    """Two 42-UE hex7 worlds' worth of scenes: 2 episodes x 3 steps, random actions."""
    return simulate_small(tmp_path_factory.mktemp("twin"), small_variant(), episodes=2, steps=3)


@pytest.fixture(scope="session")
def twin_graphs(twin_dataset):
    from rantwin.surrogate.data import load_graphs

    return load_graphs([twin_dataset], progress=False)
