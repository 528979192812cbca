"""Per-cell shared policy and the pickle-free policy format."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy

from rantwin.agents.compare import action_map
from rantwin.agents.io import load_policy, save_policy
from rantwin.agents.percell import PerCellPolicy
from rantwin.agents.policy import Policy, default_action
from rantwin.envs import feature_names, make_cell_agents_vec_env, make_sb3_vec_env


def _percell(n_cells, n_feat=19, n_knobs=4, bias=None):
    return PerCellPolicy(
        spaces.Box(-1, 1, (n_cells * n_feat,), np.float32),
        spaces.Box(-1, 1, (n_cells * n_knobs,), np.float32),
        lambda _: 1e-3,
        n_features=n_feat,
        n_knobs=n_knobs,
        hidden=16,
        action_bias=bias,
    )


def test_percell_starts_at_the_bias_and_transfers_across_sizes():
    bias = [1.0, 0.1, 0.0, -1.0]
    small = _percell(3, bias=bias)
    obs = torch.zeros(2, 3 * 19)
    dist = small.get_distribution(obs)
    mean = dist.distribution.mean.reshape(2, 3, 4)
    # the head starts near its bias (orthogonal init with gain 0.01 on the weights)
    assert torch.allclose(mean, torch.tensor(bias).expand(2, 3, 4), atol=0.05)
    assert small.log_std.shape == (4,)
    big = _percell(7, bias=bias)
    big.load_state_dict(small.state_dict())  # no parameter depends on n_cells
    a, v, logp = big(torch.zeros(5, 7 * 19))
    assert a.shape == (5, 28) and v.shape == (5, 1) and logp.shape == (5,)


def test_percell_rejects_inconsistent_spaces():
    with pytest.raises(ValueError, match="n_features=19"):
        PerCellPolicy(
            spaces.Box(-1, 1, (40,), np.float32),
            spaces.Box(-1, 1, (8,), np.float32),
            lambda _: 1e-3,
            n_features=19,
            n_knobs=4,
        )
    with pytest.raises(ValueError, match="action_bias"):
        _percell(3, bias=[0.0])


def test_ppo_trains_a_percell_policy_and_it_round_trips(tiny_yaml, tmp_path):
    venv = make_sb3_vec_env(2, scenario=tiny_yaml, episode_steps=2, backend="surrogate")
    acts = venv.venv.core.actions
    n_cells, n_knobs = acts.shape
    model = PPO(
        PerCellPolicy,
        venv,
        n_steps=4,
        batch_size=8,
        n_epochs=1,
        seed=0,
        device="cpu",
        policy_kwargs={"n_features": len(feature_names(acts)), "n_knobs": n_knobs, "hidden": 8},
    )
    model.learn(8)
    save_policy(model.policy, tmp_path / "p", algo="ppo", actions=acts, extra={"timesteps": 8})
    card = json.loads((tmp_path / "p" / "policy.json").read_text())
    assert card["kind"] == "percell" and card["knobs"] == [k.name for k in acts.knobs]
    pol = load_policy(tmp_path / "p", acts)
    assert isinstance(pol, Policy)
    obs = venv.reset()[0].reshape(n_cells, -1)
    expected, _ = model.predict(obs.reshape(-1), deterministic=True)
    np.testing.assert_allclose(pol.act(obs), np.clip(expected, -1, 1).reshape(n_cells, n_knobs))
    # the same file runs on a bigger network (19 sites, 57 cells)
    big = action_map("hex19-uma")
    out = load_policy(tmp_path / "p", big).act(np.zeros((57, len(feature_names(big))), np.float32))
    assert out.shape == (57, n_knobs)


def test_cell_agent_policy_acts_in_an_env_with_more_knobs(tiny_yaml, tmp_path):
    knobs = ["power_offset_db", "tilt_deg"]
    venv = make_cell_agents_vec_env(
        2, scenario=tiny_yaml, episode_steps=2, backend="surrogate", knobs=knobs
    )
    model = PPO("MlpPolicy", venv, n_steps=2, batch_size=42, n_epochs=1, seed=0, device="cpu")
    model.learn(84)
    sub = venv.venv.core.actions
    save_policy(model.policy, tmp_path / "a", algo="ppo", actions=sub, n_neighbours=6)
    full = action_map(tiny_yaml)  # every knob
    pol = load_policy(tmp_path / "a", full)
    obs_full = np.random.default_rng(0).uniform(-1, 1, (21, len(feature_names(full))))
    act = pol.act(obs_full.astype(np.float32))
    assert act.shape == (21, 4)
    # uncontrolled knobs (cio, sleep) stay at their default, the others follow the subset policy
    np.testing.assert_array_equal(act[:, 2:], default_action(full)[:, 2:])
    cols = [feature_names(full).index(f) for f in feature_names(sub)]
    direct = load_policy(tmp_path / "a", sub).act(obs_full[:, cols].astype(np.float32))
    np.testing.assert_allclose(act[:, :2], direct)


def test_load_policy_errors(tiny_yaml, tmp_path):
    acts = action_map(tiny_yaml)
    with pytest.raises(ValueError, match="policy.json"):
        load_policy(tmp_path, acts)
    net = ActorCriticPolicy(
        spaces.Box(-1, 1, (21 * 19,), np.float32),
        spaces.Box(-1, 1, (21 * 4,), np.float32),
        lambda _: 1e-3,
    )
    save_policy(net, tmp_path / "m", algo="ppo", actions=acts)
    with pytest.raises(ValueError, match="flat mlp policy for 21 cells"):
        load_policy(tmp_path / "m", action_map("hex19-uma"))
    with pytest.raises(ValueError, match="trained with knobs"):
        load_policy(tmp_path / "m", action_map(tiny_yaml, ["tilt_deg"]))
    card = json.loads((tmp_path / "m" / "policy.json").read_text())
    card["format"] = 99
    (tmp_path / "m" / "policy.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match="format 99"):
        load_policy(tmp_path / "m", acts)
    with pytest.raises(ValueError, match="algo"):
        save_policy(net, tmp_path / "x", algo="dqn", actions=acts)


def test_the_committed_demo_policy_still_loads():
    """docs/demo/ppo is the policy of the documented demo run; the format must keep reading it."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "demo" / "ppo"
    for scenario in ("hex7-uma", "hex19-uma"):
        acts = action_map(scenario)
        pol = load_policy(path, acts)
        obs = np.zeros((acts.shape[0], len(feature_names(acts))), np.float32)
        a = pol.act(obs)
        assert a.shape == acts.shape and np.all(np.abs(a) <= 1)
        np.testing.assert_array_equal(a[:, 2:], default_action(acts)[:, 2:])  # cio, sleep
