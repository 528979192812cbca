"""`rantwin train-agent`, `rantwin eval-policy` and `rantwin demo` on a tiny scenario."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
import torch
import yaml

from rantwin.cli.main import build_parser, main
from rantwin.scenarios import scenario_to_dict
from tests.conftest import small_variant

HELP = {
    "train-agent": ["--algo", "--policy", "--n-envs", "--timesteps", "--local-weight",
                    "--eval-every", "--sb3-defaults", "--out", "--twin-device"],
    "eval-policy": ["--policy", "--backend", "--members", "--episodes", "--reference",
                    "--margin", "--report", "tilt-cco", "--twin-device"],
    "demo": ["--out", "--train-steps", "--members", "--episodes", "baselines", "--twin-device"],
}  # fmt: skip
#: A CUDA device name is only an error where there is none.
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-agents") / "tiny.yaml"
    path.write_text(yaml.safe_dump(scenario_to_dict(small_variant("hex7-uma"))))
    return str(path)


@pytest.mark.parametrize("verb", list(HELP))
def test_help(capsys, verb):
    assert main([verb, "--help"]) == 0
    out = capsys.readouterr().out
    for option in HELP[verb]:
        assert option in out, f"{option} missing from `rantwin {verb} --help`"


def test_train_then_evaluate_against_baselines(tiny, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train-agent", "--scenario", tiny, "--episode-steps", "2", "--n-envs", "2",
                 "--timesteps", "8", "--n-steps", "2", "--batch-size", "42", "--n-epochs", "1",
                 "--eval-every", "0", "--eval-episodes", "2", "--knobs", "power_offset_db",
                 "--out", str(run), "--no-progress"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "policy in" in capsys.readouterr().out
    rep = tmp_path / "rep"
    code = main(["eval-policy", "--policy", str(run), "--policy", "static", "--policy",
                 "mlb-cio", "--scenario", tiny, "--episode-steps", "2", "--backend", "both",
                 "--members", "3", "--episodes", "2", "--report", str(rep),
                 "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "[simulator] run − static" in out and "[surrogate] mlb-cio − static" in out
    report = json.loads((rep / "report.json").read_text())
    assert set(report["evals"]["surrogate"]) == {"run", "static", "mlb-cio"}
    assert report["evals"]["surrogate"]["run"]["members"] == 3


def test_eval_policy_bad_input_is_one_line(tiny, tmp_path, capsys):
    code = main(["eval-policy", "--policy", "nope", "--scenario", tiny, "--report",
                 str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "neither a baseline" in err and "Traceback" not in err


def test_demo_writes_its_report(tiny, tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--scenario", tiny, "--out", str(out), "--train-steps", "8",
                 "--n-envs", "2", "--members", "2", "--episodes", "2", "--episode-steps", "2",
                 "--no-progress"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = (out / "summary.md").read_text()
    assert "## Headline" in summary and "Sim-to-twin gap" in summary
    for png in ("learning_curve.png", "map_static.png", "map_ppo.png", "return_fan_surrogate.png",
                "kpis_simulator.png", "pit_return.png"):  # fmt: skip
        assert (out / png).stat().st_size > 0, png
    meta = json.loads((out / "demo.json").read_text())
    assert meta["config"]["members"] == 2
    # --resume reuses the finished training run (same settings) and redoes the evaluation
    policy = (out / "ppo" / "policy.safetensors").read_bytes()
    (out / "summary.md").unlink()
    code = main(["demo", "--scenario", tiny, "--out", str(out), "--train-steps", "8",
                 "--n-envs", "2", "--members", "2", "--episodes", "2", "--episode-steps", "2",
                 "--no-progress", "--resume"])  # fmt: skip
    assert code == 0
    assert "training reused with --resume" in (out / "summary.md").read_text()
    assert (out / "ppo" / "policy.safetensors").read_bytes() == policy


def test_rollout_with_a_closed_loop_policy(tiny, tmp_path, capsys):
    from rantwin.datasets import open_dataset

    out = tmp_path / "ds"
    code = main(["rollout", "--backend", "surrogate", "--scenario", tiny, "--actions", "sleep",
                 "--steps", "3", "--episodes", "2", "--out", str(out),
                 "--no-progress"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    ds = open_dataset(out)
    assert ds.complete and len(ds.shard_ids) == 2 and ds.rows("cells") == 2 * 3 * 21
    sleep = ds.table("cells", columns=["sleep"]).column("sleep").to_pylist()
    assert any(sleep), "the sleep rule put some light cell to sleep"
    code = main(["rollout", "--scenario", tiny, "--actions", "policy", "--out",
                 str(tmp_path / "x")])  # fmt: skip
    assert code == 2 and "baseline name or a trained-policy folder" in capsys.readouterr().err


@pytest.mark.parametrize("verb", ["train-agent", "eval-policy", "demo", "rollout"])
def test_twin_device_help_says_what_it_does(capsys, verb):
    assert main([verb, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "--twin-device DEVICE device the twin runs on (cpu, cuda, cuda:1, …)" in out
    assert "so a seed draws the same numbers on any device" in out
    assert "results differ by float rounding only" in out and "(default: cpu)" in out


def _twin_device(kwargs):
    """The device of the twin in a surrogate env built from ``gym.make`` kwargs."""
    env = gym.make("rantwin/RanControl-v0", **kwargs)
    try:
        return env.unwrapped.backend.twin.device
    finally:
        env.close()


def test_train_agent_twin_device_cpu_reaches_the_backend(tiny, tmp_path):
    from rantwin.cli.train_agent import config_from_args

    argv = ["train-agent", "--scenario", tiny, "--episode-steps", "2", "--twin-device", "cpu",
            "--out", str(tmp_path / "run")]  # fmt: skip
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    assert config.twin_device == "cpu" and "twin_device" not in config.as_json()
    assert _twin_device(config.env_kwargs()) == torch.device("cpu")
    args = build_parser().parse_args(["train-agent", "--twin-device", "cuda:1", "--out", "x"])
    assert config_from_args(args).env_kwargs()["backend_kwargs"] == {"device": "cuda:1"}


@NO_CUDA
def test_train_agent_on_a_missing_cuda_device_is_a_one_line_error(tiny, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train-agent", "--scenario", tiny, "--episode-steps", "2", "--n-envs", "2",
                 "--timesteps", "8", "--twin-device", "cuda", "--out", str(run),
                 "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "device='cuda': this machine has no CUDA device" in err
    assert not run.exists()  # the env is built before anything is written


def test_train_agent_twin_device_needs_the_surrogate(tiny, tmp_path, capsys):
    code = main(["train-agent", "--scenario", tiny, "--backend", "simulator", "--twin-device",
                 "cuda", "--out", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "twin_device='cuda' is for backend='surrogate'" in err


def test_eval_policy_twin_device_reaches_the_twin_only(tiny, tmp_path, capsys):
    from rantwin.cli.eval_policy import env_kwargs_from_args

    base = ["eval-policy", "--policy", "static", "--scenario", tiny, "--episode-steps", "2",
            "--report", str(tmp_path / "rep")]  # fmt: skip
    kw = env_kwargs_from_args(build_parser().parse_args([*base, "--twin-device", "cpu"]))
    assert "backend_kwargs" not in kw  # cpu: the env kwargs of before the option
    assert _twin_device({**kw, "backend": "surrogate"}) == torch.device("cpu")
    args = build_parser().parse_args([*base, "--backend", "both", "--twin-device", "cuda:1"])
    assert env_kwargs_from_args(args)["backend_kwargs"]["device"] == "cuda:1"
    code = main([*base, "--backend", "simulator", "--twin-device", "cuda"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--twin-device is for --backend surrogate or both, got --backend simulator" in err


@NO_CUDA
def test_eval_policy_on_a_missing_cuda_device_is_a_one_line_error(tiny, tmp_path, capsys):
    rep = tmp_path / "rep"
    code = main(["eval-policy", "--policy", "static", "--scenario", tiny, "--episode-steps", "2",
                 "--backend", "both", "--members", "2", "--episodes", "1", "--twin-device",
                 "cuda", "--report", str(rep), "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "device='cuda': this machine has no CUDA device" in err
    assert not rep.exists()


def test_demo_twin_device_cpu_reaches_the_twin(tiny, tmp_path):
    from rantwin.cli.demo import config_from_args

    argv = ["demo", "--scenario", tiny, "--episode-steps", "2", "--twin-device", "cpu",
            "--out", str(tmp_path)]  # fmt: skip
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    assert config.twin_device == "cpu" and "twin_device" not in config.as_json()
    assert "backend_kwargs" not in config.env_kwargs()  # the evaluation's env kwargs as before
    assert _twin_device(config.train_config().env_kwargs()) == torch.device("cpu")


@NO_CUDA
def test_demo_on_a_missing_cuda_device_is_a_one_line_error(tiny, tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--scenario", tiny, "--out", str(out), "--train-steps", "8",
                 "--n-envs", "2", "--members", "2", "--episodes", "2", "--episode-steps", "2",
                 "--twin-device", "cuda", "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "device='cuda': this machine has no CUDA device" in err
    assert not (out / "ppo").exists()  # failed before training wrote anything
