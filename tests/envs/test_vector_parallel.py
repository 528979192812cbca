import warnings

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

import rantwin.envs  # noqa: F401
from rantwin.envs import RanControlEnv, RanControlVectorEnv, parallel_env

from .conftest import EPISODE

B = 3


def _actions(n_steps, shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.2, 1.2, size=(n_steps, *shape)).astype(np.float32)


@pytest.mark.parametrize("mode", ["next-step", "same-step"])
def test_vector_matches_single_envs(env_kwargs, mode):
    vec = RanControlVectorEnv(num_envs=B, autoreset_mode=mode, **env_kwargs)
    singles = [RanControlEnv(**env_kwargs) for _ in range(B)]
    n = EPISODE + 2  # crosses an episode end: autoreset must match too
    acts = _actions(n, vec.action_space.shape)
    vobs, _ = vec.reset(seed=10)
    sobs = [e.reset(seed=10 + i)[0] for i, e in enumerate(singles)]
    assert vobs.tobytes() == np.stack(sobs).tobytes()
    sync_mode = {"next-step": "NextStep", "same-step": "SameStep"}[mode]
    sync = gym.vector.SyncVectorEnv(
        [lambda: RanControlEnv(**env_kwargs) for _ in range(B)], autoreset_mode=sync_mode
    )
    yobs, _ = sync.reset(seed=10)
    assert yobs.tobytes() == vobs.tobytes()
    for t in range(n):
        v = vec.step(acts[t])
        y = sync.step(acts[t])
        for k in range(4):  # obs, rewards, terminated, truncated: bitwise
            assert np.asarray(v[k]).tobytes() == np.asarray(y[k]).tobytes(), (t, k)
        assert np.array_equal(v[4]["reward_throughput"], y[4]["reward_throughput"])
        if mode == "same-step" and v[3].any():
            for b in range(B):
                assert np.array_equal(v[4]["final_obs"][b], y[4]["final_obs"][b])


def test_next_step_autoreset_ignores_the_pending_envs_action(env_kwargs):
    # in next-step mode the step after an episode end only resets that env: its action is
    # not used, so not even a NaN in it is an error (the other envs' actions still are)
    vec = RanControlVectorEnv(num_envs=2, autoreset_mode="next-step", **env_kwargs)
    vec.reset(seed=0)
    zeros = np.zeros(vec.action_space.shape, np.float32)
    for _ in range(EPISODE):
        out = vec.step(zeros)
    assert out[3].all()  # both truncated: both reset on the next step
    nan = zeros.copy()
    nan[0] = np.nan
    _, reward, _, truncated, _ = vec.step(nan)
    assert reward.tolist() == [0.0, 0.0] and not truncated.any()
    with pytest.raises(ValueError, match=r"env 0, cell 0, knob 'power_offset_db'"):
        vec.step(nan)


def test_make_vec_uses_native_vector_env(env_kwargs):
    vec = gym.make_vec("rantwin/RanControl-v0", num_envs=2, **env_kwargs)
    assert isinstance(vec.unwrapped, RanControlVectorEnv)
    obs, _ = vec.reset(seed=0)
    assert vec.observation_space.contains(obs)


def test_partial_reset_mask(env_kwargs):
    vec = RanControlVectorEnv(num_envs=2, **env_kwargs)
    obs0, _ = vec.reset(seed=1)
    vec.step(np.zeros(vec.action_space.shape, np.float32))
    obs1, info = vec.reset(seed=[None, 2], options={"reset_mask": [False, True]})
    single = RanControlEnv(**env_kwargs)
    assert obs1[1].tobytes() == single.reset(seed=2)[0].tobytes()
    assert info["_step"].tolist() == [False, True]


def test_pettingzoo_api_and_seed(env_kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(parallel_env(**env_kwargs), num_cycles=EPISODE + 2)
        parallel_seed_test(lambda: parallel_env(**env_kwargs), num_cycles=EPISODE + 2)


def test_pettingzoo_local_reward_and_spaces(env_kwargs):
    env = parallel_env(**env_kwargs, reward_mode="local", n_neighbours=3)
    obs, _ = env.reset(seed=0)
    a0 = env.possible_agents[0]
    assert env.observation_space(a0) is env.observation_space(a0)
    n_feat = RanControlEnv(**env_kwargs).observation_space.shape[1]
    assert obs[a0].shape == (3 * n_feat,)
    assert env.neighbours.shape == (21, 3)
    acts = {a: np.zeros(env.action_space(a).shape, np.float32) for a in env.agents}
    _, rew, _, _, info = env.step(acts)
    assert len(set(rew.values())) > 1  # local rewards differ per cell
    assert "local_reward_energy" in info[a0]
    assert env.state().shape == env.state_space.shape
