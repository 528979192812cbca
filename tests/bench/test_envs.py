import sys

import pytest

from rantwin.bench import envs
from rantwin.envs.backends.surrogate import default_checkpoint


@pytest.mark.skipif(default_checkpoint() is None, reason="no bundled twin")
def test_a_surrogate_row_times_env_steps_on_the_named_device():
    row = envs.run_row("hex7-uma", "surrogate", 2, True, 1, device="cpu")
    assert row["env_steps_per_s"] > 0 and row["timed_steps"] == 1
    assert row["ue_steps_per_s"] == pytest.approx(row["env_steps_per_s"] * 210, rel=1e-3)


def test_an_unknown_device_fails_before_measuring(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["envs", "--device", "gpu0", "--scenario", "hex7-uma"])
    with pytest.raises(ValueError, match="device='gpu0'"):
        envs.main()
