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


def test_each_finished_row_is_printed_on_stderr_at_once(tmp_path, capsys):
    from tests.cli.conftest import write_small_yaml

    small = str(write_small_yaml(tmp_path / "small.yaml"))  # 42 UEs, 20 TTIs
    out = envs.bench(small, 1, progress=True)
    err = capsys.readouterr().err
    for key, row in out.items():  # an interrupted run keeps what it measured
        if isinstance(row, dict):
            assert f"{small} {key}: " in err
    assert "simulator single" in out and "surrogate B=64" in out
