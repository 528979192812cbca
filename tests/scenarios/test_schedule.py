"""Open-loop action schedules: static, random, random-hold."""

import numpy as np
import pytest

from rantwin.scenarios import load_scenario
from rantwin.scenarios.schedule import load_schedule


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


def test_unknown_schedule_names_the_choices(tmp_path):
    with pytest.raises(FileNotFoundError, match="'random-hold'"):
        load_schedule(str(tmp_path / "nope.yaml"))
