"""Open-loop action schedules: static, random, random-hold, random-default, random-knobwise."""

import numpy as np
import pytest

from rantwin.scenarios import CellConfig, load_scenario
from rantwin.scenarios.schedule import SCHEDULE_KEYWORDS, load_schedule


def _same(a, b):
    return all(
        np.array_equal(np.asarray(getattr(a, k)), np.asarray(getattr(b, k)))
        for k in ("power_offset_db", "tilt_deg", "cio_db", "sleep")
    )


def test_random_hold_holds_and_changes():
    sc = load_scenario("hex7-uma")
    cfgs = load_schedule("random-hold").configs(sc, 400, np.random.default_rng(0))
    held = np.array([_same(a, b) for a, b in zip(cfgs[:-1], cfgs[1:], strict=True)])
    assert len(cfgs) == 400
    assert 0.4 < held.mean() < 0.6  # HOLD_CHANGE_PROBABILITY = 0.5
    again = load_schedule("random-hold").configs(sc, 400, np.random.default_rng(0))
    assert all(_same(a, b) for a, b in zip(cfgs, again, strict=True))  # reproducible
    rand = load_schedule("random").configs(sc, 50, np.random.default_rng(0))
    assert not any(_same(a, b) for a, b in zip(rand[:-1], rand[1:], strict=True))


def test_random_default_mixes_the_default_config_in():
    sc = load_scenario("hex7-uma")
    default = CellConfig.default(sc)
    cfgs = load_schedule("random-default").configs(sc, 800, np.random.default_rng(1))
    is_default = np.array([_same(c, default) for c in cfgs])
    held = np.array([_same(a, b) for a, b in zip(cfgs[:-1], cfgs[1:], strict=True)])
    # a step is the default when its last fresh draw was: P = DEFAULT_PROBABILITY = 1/4
    assert 0.18 < is_default.mean() < 0.32
    assert 0.4 < held[~is_default[1:] | ~is_default[:-1]].mean() < 0.6
    # the default is left and re-entered, not only held: both transitions occur
    assert (is_default[:-1] & ~is_default[1:]).any() and (~is_default[:-1] & is_default[1:]).any()
    again = load_schedule("random-default").configs(sc, 800, np.random.default_rng(1))
    assert all(_same(a, b) for a, b in zip(cfgs, again, strict=True))  # reproducible
    # random-hold never draws the default coin: its draws are what they were before
    hold = load_schedule("random-hold").configs(sc, 800, np.random.default_rng(1))
    assert not any(_same(c, default) for c in hold)


def test_random_knobwise_keeps_single_knobs_at_default():
    """Each knob alone sits at its default next to other random knobs, about half the time."""
    sc = load_scenario("hex7-uma")
    default = CellConfig.default(sc)
    cfgs = load_schedule("random-knobwise").configs(sc, 2000, np.random.default_rng(2))
    knobs = ("power_offset_db", "tilt_deg", "cio_db", "sleep")
    at_default = np.array(
        [[np.array_equal(getattr(c, k), getattr(default, k)) for k in knobs] for c in cfgs]
    )  # [steps, knobs]
    whole = at_default.all(axis=1)
    # whole default: 1/4 of the fresh configs, plus the 1/16 of the others with 4 kept knobs
    assert 0.24 < whole.mean() < 0.36
    partial = at_default[~whole, :3]  # (a random sleep draw is often all awake: left out)
    # among the rest, a knob is at its default with probability (1/2 - 1/16) / (1 - 1/16)
    assert np.all((partial.mean(axis=0) > 0.37) & (partial.mean(axis=0) < 0.57))
    # CIOs at 0 next to random power offsets: the configs random-default never makes
    cio0_power = at_default[:, 2] & ~at_default[:, 0]
    assert cio0_power.mean() > 0.15
    again = load_schedule("random-knobwise").configs(sc, 2000, np.random.default_rng(2))
    assert all(_same(a, b) for a, b in zip(cfgs, again, strict=True))  # reproducible


#: random-default's step-4 power offsets of cells 0-2 at seed 5, before random-knobwise existed.
PINNED_DEFAULT_POWER = [-0.033793, -1.024107, -2.011842]


def test_random_default_draws_as_before():
    """random-default draws no knob coins: its datasets (the bundled twin's) still resume."""
    sc = load_scenario("hex7-uma")
    cfgs = load_schedule("random-default").configs(sc, 5, np.random.default_rng(5))
    assert np.round(cfgs[4].power_offset_db[:3], 6).tolist() == PINNED_DEFAULT_POWER


#: random-hold's step-2 power offsets of cells 0-2 at seed 5, before random-default existed.
PINNED_HOLD_POWER = [-4.473866, -3.276132, -8.088872]


def test_random_hold_draws_as_before():
    """Datasets made with random-hold before random-default existed still resume."""
    sc = load_scenario("hex7-uma")
    cfgs = load_schedule("random-hold").configs(sc, 3, np.random.default_rng(5))
    assert np.round(cfgs[2].power_offset_db[:3], 6).tolist() == PINNED_HOLD_POWER


def test_unknown_schedule_names_the_choices(tmp_path):
    for word in SCHEDULE_KEYWORDS:
        with pytest.raises(FileNotFoundError, match=repr(word)):
            load_schedule(str(tmp_path / "nope.yaml"))
