"""`rantwin train-agent`, `rantwin eval-policy` and `rantwin demo` on a tiny scenario."""

from __future__ import annotations

import json

import pytest
import yaml

from rantwin.cli.main import main
from rantwin.scenarios import scenario_to_dict
from tests.conftest import small_variant

HELP = {
    "train-agent": ["--algo", "--policy", "--n-envs", "--timesteps", "--local-weight",
                    "--eval-every", "--sb3-defaults", "--out"],
    "eval-policy": ["--policy", "--backend", "--members", "--episodes", "--reference",
                    "--margin", "--report", "tilt-cco"],
    "demo": ["--out", "--train-steps", "--members", "--episodes", "baselines"],
}  # fmt: skip


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
