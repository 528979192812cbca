import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from rantwin.cli.main import main
from rantwin.datasets import validate_dataset
from rantwin.envs import evaluate
from rantwin.envs.backends.simulator import member_seed
from rantwin.envs.rollout import RolloutArgs, episode_seed, run_rollout
from rantwin.scenarios import scenario_to_dict
from rantwin.simulator import Simulator, report_tables


@pytest.fixture
def sc_file(tmp_path, tiny_sc):
    p = tmp_path / "tiny.yaml"
    p.write_text(yaml.safe_dump(scenario_to_dict(tiny_sc)))
    return str(p)


def test_rollout_cli_writes_valid_dataset_and_resumes(tmp_path, sc_file, capsys):
    out = tmp_path / "ds"
    argv = ["rollout", "--scenario", sc_file, "--actions", "random", "--members", "2"]
    argv += ["--episodes", "2", "--steps", "2", "--seed", "4", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    assert validate_dataset(out) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["shards"]) == [f"w00000-e000{i}" for i in range(4)]
    first = (out / "cells/w00000-e0000.parquet").read_bytes()
    # simulate a crash: drop a shard from the manifest and its file, then resume
    del manifest["shards"]["w00000-e0003"]
    manifest["complete"] = False
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "ues/w00000-e0003.parquet").unlink()
    assert main([*argv, "--resume"]) == 0
    assert validate_dataset(out) == []
    assert (out / "cells/w00000-e0000.parquet").read_bytes() == first
    assert main(argv) == 2  # without --resume an existing dataset is refused
    assert "error" in capsys.readouterr().err
    bad_ckpt = ["--backend", "surrogate", "--checkpoint", str(tmp_path / "no-such-twin")]
    out_s = str(tmp_path / "s")
    assert main(["rollout", "--scenario", sc_file, *bad_ckpt, "--out", out_s, "--no-progress"]) == 2


#: run_config keys of a rollout manifest written before ``--twin-device`` existed.
OLD_MANIFEST_KEYS = {"backend", "scenario", "actions", "members", "episodes", "steps", "seed",
                     "checkpoint", "mode"}  # fmt: skip


def test_rollout_twin_device_cpu_reaches_the_backend_and_old_shards_resume(
    tmp_path, sc_file, monkeypatch
):
    import torch

    import rantwin.envs.rollout as rollout_mod

    built, make_backend = [], rollout_mod.make_backend

    def spy(*args, **kwargs):  # the real make_backend, keeping what it built
        built.append(make_backend(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(rollout_mod, "make_backend", spy)
    out = tmp_path / "ds"
    argv = ["rollout", "--backend", "surrogate", "--scenario", sc_file, "--steps", "1",
            "--episodes", "2", "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0  # written as before the option existed (no --twin-device)
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["run_config"]) == OLD_MANIFEST_KEYS
    del manifest["shards"]["w00000-e0001"]  # interrupted after episode 0
    manifest["complete"] = False
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main([*argv, "--twin-device", "cpu", "--resume"]) == 0
    assert validate_dataset(out) == []
    assert [b.twin.device for b in built] == [torch.device("cpu")] * 2


def test_rollout_manifest_records_a_twin_device_other_than_cpu_by_kind(sc_file):
    args = RolloutArgs("surrogate", sc_file, "static", 1, 1, 1, 0, "o", twin_device="cpu")
    assert "twin_device" not in args.manifest_config()
    for device in ("cuda", "cuda:1"):
        args = RolloutArgs("surrogate", sc_file, "static", 1, 1, 1, 0, "o", twin_device=device)
        assert args.manifest_config()["twin_device"] == "cuda"


def test_rollout_twin_device_needs_the_surrogate(tmp_path, sc_file, capsys):
    out = tmp_path / "s"
    argv = ["rollout", "--scenario", sc_file, "--twin-device", "cuda", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--twin-device is for --backend surrogate, got --backend simulator" in err
    assert not out.exists()


def test_rollout_on_a_missing_cuda_device_is_a_one_line_error(tmp_path, sc_file, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    out = tmp_path / "g"
    argv = ["rollout", "--backend", "surrogate", "--scenario", sc_file, "--steps", "1",
            "--twin-device", "cuda", "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "device='cuda': this machine has no CUDA device" in err and "Traceback" not in err
    assert not out.exists()  # the backend is built before the dataset writer


def test_rollout_rows_equal_direct_simulation(tmp_path, sc_file, tiny_sc):
    args = RolloutArgs("simulator", sc_file, "static", 1, 1, 2, 9, str(tmp_path / "d"))
    out = run_rollout(args, progress=False)
    sim = Simulator(tiny_sc)
    cfg = sim.default_config()
    state = sim.reset(member_seed(episode_seed(9, 0, 0), 0), cfg)
    for step in range(2):
        state, rep = sim.step(state, cfg)
        want = report_tables(rep, 0, 0)
        for name in ("cells", "ues", "ue_tti"):
            table = pq.read_table(out / f"{name}/w00000-e0000.parquet").to_pydict()
            rows = np.asarray(table["step"]) == step
            for col, values in want[name].items():
                assert np.array_equal(np.asarray(table[col])[rows], values), (name, col)


def test_rollout_policy_mode(tmp_path, sc_file):
    args = RolloutArgs("simulator", sc_file, "policy", 1, 1, 2, 0, str(tmp_path / "p"))
    out = run_rollout(args, progress=False, policy=lambda obs: np.zeros((21, 4), np.float32))
    assert validate_dataset(out) == []


def test_evaluate_distribution(env_kwargs):
    res = evaluate("static", env_kwargs, members=2, episodes=2, seed=0)
    assert res.returns.shape == (2, 2)
    s = res.summary["return"]
    assert s.p10 <= s.p50 <= s.p90
    assert s.cvar10 == pytest.approx(res.returns.min())
    assert res.summary["energy_w"].cvar10 == pytest.approx(res.kpis["energy_w"].max())
    again = evaluate("static", env_kwargs, members=2, episodes=2, seed=0)
    assert np.array_equal(again.returns, res.returns)
    rand = evaluate(lambda obs: np.ones((21, 4), np.float32), env_kwargs, episodes=1)
    assert rand.kpis["energy_w"].mean() < res.kpis["energy_w"].mean()  # all but one asleep
