"""Shared fixtures: small scenarios so that simulator tests run in well under a second."""

from __future__ import annotations

import copy

import pytest

from rantwin.scenarios import load_scenario, scenario_from_dict, scenario_to_dict


def small_variant(name: str = "hex7-uma", **overrides) -> object:
    """A built-in scenario with fewer UEs and a shorter window (for fast tests).

    ``overrides`` are dotted paths into the scenario dict, e.g. ``{"ues.count": 42}``.
    """
    d = copy.deepcopy(scenario_to_dict(load_scenario(name)))
    defaults = {
        "name": f"{name}-small",
        "ues.count": 42,
        "timing.ttis_per_superstep": 20,
        "timing.mobility_s_per_superstep": 4.0,
        "timing.tti_samples": 4,
    }
    for path, value in (defaults | overrides).items():
        node = d
        *parents, leaf = path.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    return scenario_from_dict(d)


@pytest.fixture
def tiny():
    """hex7-uma with 42 UEs, 20 TTIs per super-step and 4 s of mobility per super-step."""
    return small_variant()


def simulate_small(
    root, scenario, episodes: int, steps: int, worlds: int = 1, replicas: bool = False
):
    """Write ``scenario`` as ``root/small.yaml`` and a random-action dataset of it to
    ``root/data`` (``rantwin simulate``, seed 0; ``replicas``: episodes replay episode 0's
    scene, ``--replicas``); returns the dataset directory."""
    import yaml

    from rantwin.cli.simulate import SimulateArgs, run_simulation

    sc_path = root / "small.yaml"
    sc_path.write_text(yaml.safe_dump(scenario_to_dict(scenario)))
    out = root / "data"
    run_simulation(
        SimulateArgs(scenario=str(sc_path), family=None, worlds=worlds, episodes=episodes,
                     steps=steps, actions="random", seed=0, out=str(out), replicas=replicas),
        progress=False,
    )  # fmt: skip
    return out


@pytest.fixture(autouse=True, scope="session")
def _sb3_logs_in_a_temp_dir(tmp_path_factory):
    """SB3 gives every ``learn()`` without a logger folder a new ``/tmp/SB3-<time>`` folder;
    the tests' folders go under pytest's temporary directory instead."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SB3_LOGDIR", str(tmp_path_factory.mktemp("sb3")))
    yield
    mp.undo()
