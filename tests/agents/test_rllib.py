"""The optional RLlib trainer: runs when Ray RLlib is installed, says how to install it if not."""

from __future__ import annotations

import math
import sys

import pytest

from rantwin.agents.rllib_train import INSTALL_HINT, RllibConfig, main, train_rllib


def test_without_ray_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'rantwin\[rllib\]'") as info:
        train_rllib(RllibConfig(iterations=1))
    assert str(info.value) == INSTALL_HINT


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"iterations": 0}, "iterations must be an integer >= 1, got 0"),
        ({"reward_mode": "team"}, "reward_mode must be 'shared' or 'local', got 'team'"),
        ({"backend": "sim"}, "backend must be 'surrogate' or 'simulator', got 'sim'"),
        ({"minibatch_size": 64, "train_batch_size": 32}, "minibatch_size must be <= train"),
        ({"num_env_runners": -1}, "num_env_runners must be an integer >= 0, got -1"),
    ],
)
def test_config_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RllibConfig(**kwargs)


def test_env_config_is_plain_and_serialisable():
    cfg = RllibConfig(scenario="x.yaml", knobs=["tilt_deg"], episode_steps=3)
    assert cfg.knobs == ("tilt_deg",)
    assert cfg.env_config() == {
        "scenario": "x.yaml",
        "backend": "surrogate",
        "episode_steps": 3,
        "reward_mode": "local",
        "knobs": ["tilt_deg"],
    }


def test_train_rllib_one_iteration(tiny_yaml, tmp_path, capsys):
    pytest.importorskip("ray.rllib")
    argv = ["--scenario", tiny_yaml, "--episode-steps", "2", "--iterations", "1"]
    argv += ["--train-batch-size", "84", "--minibatch-size", "42", "--num-epochs", "1"]
    res = main([*argv, "--out", str(tmp_path / "ckpt")])
    assert res["iterations"] == 1
    assert len(res["returns"]) == 1
    assert all(math.isfinite(r) for r in res["returns"])  # 84 agent steps = 2 full episodes
    assert res["seconds"] > 0
    assert (tmp_path / "ckpt" / "rllib_checkpoint.json").is_file()
    assert "iteration 1: mean episode return" in capsys.readouterr().out
