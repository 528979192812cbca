"""bench/device_check.sh: the prepared script a session lent a GPU runs (issues #4–#6)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "device_check.sh"


def test_the_device_check_is_valid_bash():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


@pytest.mark.slow
def test_the_device_check_runs_its_steps_on_the_cpu(tmp_path):
    env = {**os.environ, "DEVICE": "cpu", "QUICK": "1", "OUT": str(tmp_path)}
    r = subprocess.run(
        ["bash", str(SCRIPT)], cwd=SCRIPT.parents[1], env=env, capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    log = (tmp_path / "check.log").read_text()
    assert r.returncode == 0, log[-3000:]
    assert "all steps passed" in log and "passed" in log  # the device tests ran
    assert json.loads((tmp_path / "surrogate.json").read_text())["twin_device"] == "cpu"
    envs = json.loads((tmp_path / "envs.json").read_text())
    assert (
        envs["twin_device"] == "cpu" and envs["hex7-uma"]["surrogate B=64"]["env_steps_per_s"] > 0
    )
