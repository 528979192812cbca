"""Open-loop action schedules: static, random, random-hold, random-default."""

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
