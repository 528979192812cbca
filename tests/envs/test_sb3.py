import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv

from rantwin.envs import (
    SharedPolicyVecEnv,
    make_cell_agents_vec_env,
    make_sb3_vec_env,
    parallel_env,
)

from .conftest import EPISODE


def test_sb3_vecenv_autoreset_and_terminal_obs(env_kwargs):
    venv = make_sb3_vec_env(num_envs=2, **env_kwargs)
    assert isinstance(venv, VecEnv)
    venv.seed(3)
    obs = venv.reset()
    assert obs.shape == (2, venv.observation_space.shape[0])
    for _ in range(EPISODE):
        obs, rew, dones, infos = venv.step(np.zeros((2, venv.action_space.shape[0])))
        assert np.isfinite(rew).all()
    assert dones.all()
    assert infos[0]["terminal_observation"].shape == venv.observation_space.shape
    assert infos[0]["TimeLimit.truncated"] is True
    assert not np.array_equal(obs[0], infos[0]["terminal_observation"])  # reset obs


def test_ppo_learns_through_vecenv_adapter(env_kwargs):
    torch.manual_seed(0)
    venv = make_sb3_vec_env(num_envs=2, **env_kwargs)
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, n_epochs=2, seed=0, device="cpu")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=64)
    buf = model.rollout_buffer
    assert np.isfinite(buf.rewards).all() and np.abs(buf.rewards).sum() > 0
    after = list(model.policy.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before, strict=True))
    action, _ = model.predict(venv.reset(), deterministic=True)
    assert action.shape == (2, venv.action_space.shape[0])


def test_shared_policy_adapter(env_kwargs):
    venv = SharedPolicyVecEnv(parallel_env(**env_kwargs))
    assert venv.num_envs == 21
    obs = venv.reset()
    assert obs.shape == (21, venv.observation_space.shape[0])
    for _ in range(EPISODE):
        obs, rew, dones, infos = venv.step(np.zeros((21, venv.action_space.shape[0])))
    assert dones.all() and "terminal_observation" in infos[0]
    model = PPO("MlpPolicy", venv, n_steps=4, batch_size=42, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=84)
    assert np.isfinite(model.rollout_buffer.rewards).all()


def test_cell_agents_adapter_is_the_pettingzoo_env_batched(env_kwargs):
    """Slot b·C + c of CellAgentsVecEnv sees, and with local_weight=1 earns, what agent
    cell_c of the PettingZoo env with reward_mode="local" sees and earns (same seed)."""
    venv = make_cell_agents_vec_env(2, n_neighbours=4, local_weight=1.0, **env_kwargs)
    n_cells, n_knobs = venv.n_cells, venv.n_knobs
    assert venv.num_envs == 2 * n_cells and venv.action_space.shape == (n_knobs,)
    venv.seed(7)
    obs = venv.reset()
    par = parallel_env(n_neighbours=4, reward_mode="local", **env_kwargs)
    p_obs, _ = par.reset(seed=8)  # env 1 of the vector env has seed 7 + 1
    agents = par.possible_agents
    np.testing.assert_allclose(obs[n_cells:], np.stack([p_obs[a] for a in agents]), atol=1e-6)
    rng = np.random.default_rng(0)
    for t in range(EPISODE):
        act = rng.uniform(-1, 1, (2 * n_cells, n_knobs)).astype(np.float32)
        obs, rew, dones, infos = venv.step(act)
        p_obs, p_rew, *_ = par.step({a: act[n_cells + i] for i, a in enumerate(agents)})
        np.testing.assert_allclose(rew[n_cells:], [p_rew[a] for a in agents], rtol=1e-5)
        if t < EPISODE - 1:
            np.testing.assert_allclose(
                obs[n_cells:], np.stack([p_obs[a] for a in agents]), atol=1e-6
            )
    assert dones.all() and infos[-1]["terminal_observation"].shape == (venv.observation_space.shape)
