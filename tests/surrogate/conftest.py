"""Small simulated datasets and graphs for the twin's tests (built once per session)."""

from __future__ import annotations

import pytest

from rantwin.cli.simulate import SimulateArgs, run_simulation
from tests.conftest import small_variant


@pytest.fixture(scope="session")
def twin_dataset(tmp_path_factory):
    """Two 42-UE hex7 worlds' worth of scenes: 2 episodes x 3 steps, random actions."""
    import yaml

    from rantwin.scenarios import scenario_to_dict

    root = tmp_path_factory.mktemp("twin")
    sc_path = root / "small.yaml"
    sc_path.write_text(yaml.safe_dump(scenario_to_dict(small_variant())))
    out = root / "data"
    run_simulation(
        SimulateArgs(scenario=str(sc_path), family=None, worlds=1, episodes=2, steps=3,
                     actions="random", seed=0, out=str(out)),
        progress=False,
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def twin_graphs(twin_dataset):
    from rantwin.surrogate.data import load_graphs

    return load_graphs([twin_dataset], progress=False)
