"""Training runs, ensemble evaluation with paired seeds, benchmarks and their reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rantwin.agents.baselines import make_baseline
from rantwin.agents.compare import action_map, resolve_policy, run_benchmark, write_report
from rantwin.agents.evaluation import METRICS, evaluate_policy
from rantwin.agents.io import load_policy
from rantwin.agents.train import TrainConfig, build_model, make_venv, train


def _tiny_train(tiny_yaml, **kw):
    base = dict(
        scenario=tiny_yaml,
        episode_steps=2,
        n_envs=2,
        timesteps=8,
        n_steps=2,
        batch_size=42,
        n_epochs=1,
        hidden=8,
        eval_every=4,
        eval_episodes=2,
    )
    return TrainConfig(**(base | kw))


@pytest.mark.parametrize("policy", ["cell-agents", "percell", "mlp"])
def test_train_writes_a_loadable_policy_a_curve_and_logs(tiny_yaml, tmp_path, policy):
    cfg = _tiny_train(tiny_yaml, policy=policy, batch_size=8 if policy != "cell-agents" else 42)
    res = train(cfg, tmp_path / "run", progress=False)
    assert res.steps >= 8 and not res.interrupted
    for name in ("policy.json", "policy.safetensors", "train_config.json", "progress.csv"):
        assert (tmp_path / "run" / name).is_file(), name
    assert any((tmp_path / "run" / "tb").glob("events.out.tfevents*"))  # TensorBoard
    curve = json.loads((tmp_path / "run" / "curve.json").read_text())
    assert curve["eval_steps"] and len(curve["eval_returns"][0]) == 2
    assert json.loads((tmp_path / "run" / "train_config.json").read_text())["policy"] == policy
    assert (tmp_path / "run" / "learning_curve.png").stat().st_size > 0
    pol = load_policy(tmp_path / "run", action_map(tiny_yaml))
    assert pol.act(np.zeros((21, 19), np.float32)).shape == (21, 4)


def test_train_is_deterministic(tiny_yaml, tmp_path):
    a = train(_tiny_train(tiny_yaml, eval_every=0), tmp_path / "a", progress=False)
    b = train(_tiny_train(tiny_yaml, eval_every=0), tmp_path / "b", progress=False)
    assert a.curve["eval_returns"] == b.curve["eval_returns"]
    wa = (tmp_path / "a" / "policy.safetensors").read_bytes()
    assert wa == (tmp_path / "b" / "policy.safetensors").read_bytes()


@pytest.mark.parametrize(
    ("algo", "policy", "eps"),
    [("ppo", "cell-agents", 1e-5), ("ppo", "percell", 1e-5), ("ppo", "mlp", 1e-5),
     ("sac", "mlp", 1e-8), ("a2c", "mlp", 1e-5)],
)  # fmt: skip
def test_models_keep_sb3_optimizer_defaults_with_a_fused_adam(tiny_yaml, algo, policy, eps):
    cfg = _tiny_train(tiny_yaml, algo=algo, policy=policy, sb3_defaults=algo == "ppo")
    venv = make_venv(cfg)
    try:
        model = build_model(cfg, venv, venv.venv.core.actions)
    finally:
        venv.close()
    if algo == "sac":  # SAC has an actor and a critic optimizer
        opts = [model.actor.optimizer, model.critic.optimizer]
    else:
        opts = [model.policy.optimizer]
    if algo == "ppo" and policy == "cell-agents":  # sb3_defaults: SB3's own policy sizes
        assert model.policy.net_arch == dict(pi=[64, 64], vf=[64, 64])
        assert float(model.policy.log_std.mean()) == 0.0
    for opt in opts:
        assert opt.defaults["eps"] == eps  # SB3's default (PPO: 1e-5, SAC: torch's 1e-8)
        if algo == "a2c":  # RMSprop, as SB3 sets it
            assert isinstance(opt, torch.optim.RMSprop) and opt.defaults["alpha"] == 0.99
        else:
            assert isinstance(opt, torch.optim.Adam) and opt.defaults["fused"] is True
            assert opt.defaults["betas"] == (0.9, 0.999) and opt.defaults["weight_decay"] == 0


def test_train_config_errors():
    with pytest.raises(ValueError, match="algo"):
        TrainConfig(algo="dqn")
    with pytest.raises(ValueError, match="use --policy mlp"):
        TrainConfig(algo="sac", policy="percell")
    with pytest.raises(ValueError, match="n_envs"):
        TrainConfig(n_envs=0)
    with pytest.raises(ValueError, match="local_weight"):
        TrainConfig(local_weight=2.0)


def test_env_kwargs_carry_the_twin_options():
    assert "backend_kwargs" not in TrainConfig().env_kwargs()
    kw = TrainConfig(twin="T", compile_twin=True).env_kwargs()
    assert kw["backend_kwargs"] == {"checkpoint": "T", "compile": True}
    assert "backend_kwargs" not in TrainConfig(backend="simulator", compile_twin=True).env_kwargs()


def test_twin_device_reaches_the_backend_and_is_saved_only_when_not_cpu():
    assert TrainConfig(twin_device="cpu").env_kwargs() == TrainConfig().env_kwargs()
    assert "twin_device" not in TrainConfig().as_json()  # CPU runs save what they saved before
    gpu = TrainConfig(twin="T", twin_device="cuda:1")
    assert gpu.env_kwargs()["backend_kwargs"] == {"checkpoint": "T", "device": "cuda:1"}
    assert gpu.as_json()["twin_device"] == "cuda:1"
    assert TrainConfig(**json.loads(json.dumps(gpu.as_json()))) == gpu
    with pytest.raises(ValueError, match="twin_device='cuda' is for backend='surrogate'"):
        TrainConfig(backend="simulator", twin_device="cuda")
    with pytest.raises(ValueError, match="twin_device must be a device name"):
        TrainConfig(twin_device="")


def test_saved_configs_of_before_the_twin_device_still_load_and_match():
    """docs/demo holds a run saved before ``twin_device`` existed: it loads, and the demo's
    default config writes the same files (``demo --resume`` reuses such a run)."""
    from rantwin.agents.demo import DemoConfig

    docs = Path(__file__).resolve().parents[2] / "docs" / "demo"
    saved = json.loads((docs / "ppo" / "train_config.json").read_text())
    assert "twin_device" not in saved
    assert TrainConfig(**saved).twin_device == "cpu"
    assert DemoConfig().train_config().as_json() == saved
    demo = json.loads((docs / "demo.json").read_text())["config"]
    assert json.loads(json.dumps(DemoConfig().as_json())) == demo


def test_demo_twin_device_goes_to_training_and_the_twin_evaluation():
    from rantwin.agents.demo import DemoConfig

    assert "backend_kwargs" not in DemoConfig().env_kwargs()
    cfg = DemoConfig(twin="T", twin_device="cuda")
    assert cfg.train_config().env_kwargs()["backend_kwargs"] == {
        "checkpoint": "T",
        "device": "cuda",
    }
    assert cfg.env_kwargs()["backend_kwargs"] == {"checkpoint": "T", "device": "cuda"}
    assert cfg.as_json()["twin_device"] == "cuda"


def test_benchmark_never_gives_the_twin_device_to_the_simulator(tiny_yaml):
    kw = {"scenario": tiny_yaml, "episode_steps": 1, "backend_kwargs": {"device": "cuda:7"}}
    bench = run_benchmark(["static"], kw, backends=("simulator",), episodes=1, progress=False)
    assert bench.evals["simulator"]["static"].returns.shape == (1, 1)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_train_on_a_missing_cuda_device_fails_before_writing(tiny_yaml, tmp_path):
    with pytest.raises(ValueError, match="device='cuda': this machine has no CUDA device"):
        train(_tiny_train(tiny_yaml, twin_device="cuda"), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_evaluate_policy_series_and_common_random_numbers(tiny_yaml):
    kw = {"scenario": tiny_yaml, "episode_steps": 2, "backend": "surrogate"}
    static = make_baseline("static", action_map(tiny_yaml))
    a = evaluate_policy(static, kw, members=3, episodes=2, seed=5)
    b = evaluate_policy(static, kw, members=3, episodes=2, seed=5)
    assert a.returns.shape == (2, 3)
    assert set(a.series) == set(METRICS) and a.series["reward"].shape == (2, 3, 2)
    np.testing.assert_array_equal(a.returns, b.returns)  # same seeds, same draws
    assert a.returns.std() > 0  # members differ: the twin ensemble is stochastic
    c = evaluate_policy(static, kw, members=3, episodes=2, seed=6)
    np.testing.assert_array_equal(c.returns[0], a.returns[1])  # episode e has seed seed + e
    s = a.summary()
    assert s["return"].p10 <= s["return"].p50 <= s["return"].p90
    assert a.configs["tilt_deg"].shape == (2, 2, 21)
    with pytest.raises(ValueError, match="members"):
        evaluate_policy(static, kw, members=0)
    with pytest.raises(ValueError, match="must not set 'members'"):
        evaluate_policy(static, {**kw, "members": 2})


def test_benchmark_on_both_backends_and_report(tiny_yaml, tmp_path):
    env_kwargs = {"scenario": tiny_yaml, "episode_steps": 2}
    bench = run_benchmark(
        ["static", "tilt-cco", "sleep"],
        env_kwargs,
        backends=("surrogate", "simulator"),
        members={"surrogate": 4, "simulator": 1},
        episodes=3,
        seed=11,
        progress=False,
    )
    assert set(bench.evals) == {"surrogate", "simulator"}
    assert [c.a for c in bench.comparisons["simulator"]] == ["tilt-cco", "sleep"]
    assert {g.metric for g in bench.gaps["static"]} >= {"return", "energy_kw"}
    path = write_report(bench, tmp_path / "rep")
    text = path.read_text()
    assert "Sim-to-twin gap" in text and "tilt-cco − static" in text
    for png in ("return_fan_surrogate.png", "kpis_simulator.png", "pit_return.png"):
        assert (tmp_path / "rep" / png).stat().st_size > 0
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["reference"] == "static" and "simulator" in report["comparisons"]


def test_resolve_policy_errors(tiny_yaml):
    with pytest.raises(ValueError, match="neither a baseline"):
        resolve_policy("no-such-policy", action_map(tiny_yaml))
    with pytest.raises(ValueError, match="backends"):
        run_benchmark(["static"], {"scenario": tiny_yaml, "backend": "simulator"})


def test_sac_trains_a_flat_policy_and_it_loads(tiny_yaml, tmp_path):
    cfg = _tiny_train(tiny_yaml, algo="sac", policy="mlp", batch_size=4, eval_every=0)
    res = train(cfg, tmp_path / "sac", progress=False)
    card = json.loads((tmp_path / "sac" / "policy.json").read_text())
    assert res.steps >= 8 and card["algo"] == "sac" and card["kind"] == "sac-mlp"
    pol = load_policy(tmp_path / "sac", action_map(tiny_yaml))
    act = pol.act(np.zeros((21, 19), np.float32))
    assert act.shape == (21, 4) and np.all(np.abs(act) <= 1)


def test_ctrl_c_keeps_the_last_policy(tiny_yaml, tmp_path, monkeypatch):
    import importlib

    train_mod = importlib.import_module("rantwin.agents.train")  # the module, not the function

    calls = {"n": 0}
    real = train_mod._Recorder._on_step

    def interrupt_after_a_few_steps(self):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(train_mod._Recorder, "_on_step", interrupt_after_a_few_steps)
    res = train(_tiny_train(tiny_yaml, timesteps=64, eval_every=0), tmp_path / "r", progress=False)
    card = json.loads((tmp_path / "r" / "policy.json").read_text())
    assert res.interrupted and card["interrupted"] is True and 0 < res.steps < 64
    load_policy(tmp_path / "r", action_map(tiny_yaml))  # what was saved is usable
