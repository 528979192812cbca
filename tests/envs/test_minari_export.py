"""`rantwin rollout --format minari`: rollouts of RanControlEnv as a Minari dataset."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import yaml

from rantwin.cli.main import main
from rantwin.envs import RanControlEnv
from rantwin.envs.evaluate import KNOB_ATTRS
from rantwin.envs.minari_export import (
    INFO_KEYS,
    INSTALL_HINT,
    check_dataset_id,
    default_dataset_id,
    write_minari,
)
from rantwin.envs.rollout import RolloutArgs, episode_seed, run_rollout
from rantwin.scenarios import scenario_to_dict
from tests.envs.conftest import tiny_scenario

STEPS, EPISODES, SEED = 2, 2, 3


@pytest.fixture
def minari():
    return pytest.importorskip("minari")


@pytest.fixture(scope="module")
def tiny_yaml(tmp_path_factory):
    path = tmp_path_factory.mktemp("minari") / "tiny.yaml"
    path.write_text(yaml.safe_dump(scenario_to_dict(tiny_scenario())))
    return str(path)


def _args(scenario: str, actions: str = "static", backend: str = "simulator", **kw):
    kw = {"out": "unused"} | kw
    return RolloutArgs(backend=backend, scenario=scenario, actions=actions, members=1,
                       episodes=EPISODES, steps=STEPS, seed=SEED, **kw)  # fmt: skip


def _load(minari, monkeypatch, root, dataset_id):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    ds = minari.load_dataset(dataset_id)
    return ds, list(ds.iterate_episodes())


def _replay(scenario, backend, episodes):
    """Rewards of RanControlEnv stepped with each episode's recorded actions and seed."""
    env = RanControlEnv(scenario=scenario, backend=backend, episode_steps=STEPS)
    out = []
    for e, ep in enumerate(episodes):
        obs, _ = env.reset(seed=episode_seed(SEED, 0, e))
        np.testing.assert_array_equal(ep.observations[0], obs)
        out.append([env.step(a)[1] for a in ep.actions])
    return env, np.asarray(out)


def test_static_export_loads_back_with_the_env_rewards(minari, tiny_yaml, tmp_path, monkeypatch):
    before = os.environ.get("MINARI_DATASETS_PATH")
    path = write_minari(_args(tiny_yaml), "rantwin/tiny-static-v0", tmp_path, progress=False)
    assert path == tmp_path.resolve() / "rantwin" / "tiny-static-v0"
    assert os.environ.get("MINARI_DATASETS_PATH") == before  # the root was only borrowed
    ds, eps = _load(minari, monkeypatch, tmp_path, "rantwin/tiny-static-v0")
    assert ds.total_episodes == EPISODES and ds.total_steps == EPISODES * STEPS
    env, rewards = _replay(tiny_yaml, "simulator", eps)
    n_cells, n_features = env.observation_space.shape
    default = env.action_map.normalise({k: getattr(env.core.default_config, k) for k in KNOB_ATTRS})
    for ep in eps:
        assert ep.observations.shape == (STEPS + 1, n_cells, n_features)
        assert ep.actions.shape == (STEPS, *env.action_space.shape)
        np.testing.assert_array_equal(ep.actions, np.broadcast_to(default, ep.actions.shape))
        assert ep.terminations.tolist() == [False] * STEPS
        assert ep.truncations.tolist() == [False] * (STEPS - 1) + [True]
        assert set(ep.infos) == set(INFO_KEYS)
        assert ep.infos["step"].tolist() == list(range(STEPS + 1))
    np.testing.assert_allclose(np.stack([ep.rewards for ep in eps]), rewards, rtol=1e-6)
    seeds = [m["seed"] for m in ds.storage.get_episode_metadata(range(EPISODES))]
    assert seeds == [episode_seed(SEED, 0, e) for e in range(EPISODES)]
    spec = ds.spec.env_spec
    assert spec.id == "rantwin/RanControl-v0" and spec.kwargs["episode_steps"] == STEPS


def test_random_schedule_matches_the_parquet_rollout(minari, tiny_yaml, tmp_path, monkeypatch):
    """Open-loop `random` actions are the normalised configs `rantwin rollout` injects."""
    from rantwin.datasets import open_dataset

    write_minari(_args(tiny_yaml, "random"), "rantwin/tiny-random-v0", tmp_path, progress=False)
    _, eps = _load(minari, monkeypatch, tmp_path, "rantwin/tiny-random-v0")
    pq = run_rollout(_args(tiny_yaml, "random", out=str(tmp_path / "pq")), progress=False)
    cells = open_dataset(pq).table("cells").to_pandas().sort_values(["episode", "step", "cell"])
    env = RanControlEnv(scenario=tiny_yaml, backend="simulator", episode_steps=STEPS)
    for e, ep in enumerate(eps):
        for t, action in enumerate(ep.actions):
            rows = cells[(cells.episode == e) & (cells.step == t)]
            want = env.action_map.normalise({k: rows[k].to_numpy() for k in KNOB_ATTRS})
            np.testing.assert_allclose(action, want, atol=1e-5)
    assert not np.allclose(eps[0].actions, eps[1].actions), "each episode draws its own configs"


def test_closed_loop_policy_on_the_surrogate(minari, tiny_yaml, tmp_path, monkeypatch):
    class Policy:
        name = "half"

        def __init__(self):
            self.resets, self.seen = 0, []

        def reset(self):
            self.resets += 1

        def act(self, obs):
            self.seen.append(obs)
            return np.full(env.action_space.shape, 0.5 * (-1) ** len(self.seen), np.float32)

    env = RanControlEnv(scenario=tiny_yaml, backend="surrogate", episode_steps=STEPS)
    policy = Policy()
    args = _args(tiny_yaml, "policy", backend="surrogate")
    write_minari(args, "rantwin/nested/tiny-policy-v1", tmp_path, policy=policy, progress=False)
    assert policy.resets == EPISODES and len(policy.seen) == EPISODES * STEPS
    ds, eps = _load(minari, monkeypatch, tmp_path, "rantwin/nested/tiny-policy-v1")
    assert "half" in ds.storage.metadata["algorithm_name"]
    for e, ep in enumerate(eps):
        seen = policy.seen[e * STEPS : (e + 1) * STEPS]
        np.testing.assert_array_equal(ep.observations[:-1], seen)
        assert ep.actions[0, 0, 0] == -0.5 and ep.actions[1, 0, 0] == 0.5
    _, rewards = _replay(tiny_yaml, "surrogate", eps)
    np.testing.assert_allclose(np.stack([ep.rewards for ep in eps]), rewards, rtol=1e-5)


def test_bad_requests_are_named(minari, tiny_yaml, tmp_path):
    with pytest.raises(ValueError, match="resume is not supported"):
        write_minari(_args(tiny_yaml, resume=True), "rantwin/x-v0", tmp_path, progress=False)
    with pytest.raises(ValueError, match="needs a policy"):
        write_minari(_args(tiny_yaml, "policy"), "rantwin/x-v0", tmp_path, progress=False)
    (tmp_path / "rantwin" / "x-v0").mkdir(parents=True)
    with pytest.raises(ValueError, match="already exists"):
        write_minari(_args(tiny_yaml), "rantwin/x-v0", tmp_path, progress=False)


@pytest.mark.parametrize("bad", ["tiny-v0", "rantwin/tiny", "rantwin/ti ny-v0", "a/tiny-v0",
                                 "rantwin/tiny-v0.1", "rantwin/-v0"])  # fmt: skip
def test_dataset_id_rule(bad):
    check_dataset_id("rantwin/hex7-uma-simulator-v0")
    check_dataset_id("rantwin/nested/name_1-v12")
    with pytest.raises(ValueError, match="namespace/name-v<version>"):
        check_dataset_id(bad)


def test_default_dataset_id():
    assert default_dataset_id("hex7-uma", "surrogate") == "rantwin/hex7-uma-surrogate-v0"
    assert default_dataset_id("my net.v2", "simulator") == "rantwin/my-net-v2-simulator-v0"
    check_dataset_id(default_dataset_id("my net.v2", "simulator"))


def test_without_minari_the_install_hint(monkeypatch, tiny_yaml, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "minari", None)  # `import minari` raises ImportError
    with pytest.raises(ImportError) as info:
        write_minari(_args(tiny_yaml), "rantwin/x-v0", tmp_path, progress=False)
    assert str(info.value) == INSTALL_HINT
    code = main(["rollout", "--scenario", tiny_yaml, "--format", "minari", "--out",
                 str(tmp_path / "m"), "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and INSTALL_HINT in err and "Traceback" not in err


def test_cli_format_minari(minari, tiny_yaml, tmp_path, monkeypatch, capsys):
    out = tmp_path / "m"
    code = main(["rollout", "--scenario", tiny_yaml, "--format", "minari", "--steps", str(STEPS),
                 "--episodes", "1", "--actions", "sleep", "--out", str(out),
                 "--no-progress"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    dataset_id = "rantwin/hex7-uma-small-simulator-v0"
    stdout = capsys.readouterr().out
    assert dataset_id in stdout and str(out.resolve()) in stdout
    ds, eps = _load(minari, monkeypatch, out, dataset_id)
    assert ds.total_episodes == 1 and eps[0].actions.shape[0] == STEPS
    assert "sleep" in ds.storage.metadata["algorithm_name"]
    for extra, message in [(["--resume"], "--resume is not supported"),
                           (["--dataset-id", "nope"], "namespace/name-v<version>")]:  # fmt: skip
        code = main(["rollout", "--scenario", tiny_yaml, "--format", "minari", "--out",
                     str(out), *extra])  # fmt: skip
        assert code == 2 and message in capsys.readouterr().err
    code = main(["rollout", "--scenario", tiny_yaml, "--dataset-id", "rantwin/a-v0", "--out",
                 str(tmp_path / "pq")])  # fmt: skip
    assert code == 2 and "--dataset-id is for --format minari" in capsys.readouterr().err


def test_env_spec_carries_a_twin_device_other_than_cpu_only(tiny_yaml):
    from rantwin.envs.minari_export import _env_kwargs

    args = RolloutArgs("surrogate", tiny_yaml, "static", 1, 1, STEPS, SEED, "o")
    assert "backend_kwargs" not in _env_kwargs(args, STEPS)  # CPU exports' spec as before
    args = RolloutArgs("surrogate", tiny_yaml, "static", 1, 1, STEPS, SEED, "o", twin_device="cuda")
    assert _env_kwargs(args, STEPS)["backend_kwargs"] == {"device": "cuda"}
