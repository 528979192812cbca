import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rantwin.envs  # noqa: F401 - registers the ids
from rantwin.envs import RanControlEnv, flatten_env
from rantwin.envs.actions import ActionMap, resolve_knobs
from rantwin.envs.reward import TERMS

from .conftest import EPISODE


def test_gymnasium_check_env_no_warnings(env_kwargs):
    # through gym.make so that the checker can also build the other render modes
    env = gym.make("rantwin/RanControl-v0", **env_kwargs, render_mode="rgb_array").unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=False)


def test_sb3_check_env_on_flattened(env_kwargs):
    from stable_baselines3.common.env_checker import check_env as sb3_check

    env = flatten_env(RanControlEnv(**env_kwargs))
    assert env.action_space.shape == (21 * 4,)
    assert len(env.observation_space.shape) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check(env, warn=True)


def _rollout(env, seed, n):
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [obs]
    rewards = []
    for _ in range(n):
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        out.append(obs)
        rewards.append(r)
        if term or trunc:
            break
    return np.stack(out), np.array(rewards)


def test_same_seed_bitwise_every_registered_id(env_kwargs):
    ids = [k for k in gym.registry if k.startswith("rantwin/")]
    assert "rantwin/RanControl-v0" in ids
    for env_id in ids:
        a = gym.make(env_id, **env_kwargs)
        b = gym.make(env_id, **env_kwargs)
        oa, ra = _rollout(a, 7, EPISODE)
        ob, rb = _rollout(b, 7, EPISODE)
        assert oa.tobytes() == ob.tobytes()
        assert ra.tobytes() == rb.tobytes()
        oc, _ = _rollout(a, 8, EPISODE)
        assert oc.tobytes() != oa.tobytes()


def test_episode_truncates_and_reward_terms_in_info(env_kwargs):
    env = RanControlEnv(**env_kwargs)
    obs, info = env.reset(seed=0)
    for t in range(EPISODE):
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        assert term is False
        assert trunc is (t == EPISODE - 1)
        w = env.scenario.reward
        terms = {k: info[f"reward_{k}"] for k in TERMS}
        expect = (
            w.throughput * terms["throughput"]
            - w.energy * terms["energy"]
            - w.coverage * terms["coverage_holes"]
            - w.handover * terms["handover_rate"]
        )
        assert r == pytest.approx(expect, rel=1e-9, abs=1e-12)
        assert 0 <= terms["coverage_holes"] <= 1
        assert terms["energy"] > 0


def test_observation_always_within_bounds(env_kwargs):
    env = RanControlEnv(**env_kwargs)
    rng = np.random.default_rng(0)
    for seed in range(2):
        obs, _ = env.reset(seed=seed)
        assert env.observation_space.contains(obs)
        for _ in range(EPISODE):
            # extreme actions (out of range, all asleep) still give in-bounds obs
            action = rng.choice([-5.0, 5.0, 0.3], size=env.action_space.shape).astype(np.float32)
            obs, *_ = env.step(action)
            assert obs.dtype == np.float32
            assert env.observation_space.contains(obs)


def test_action_mapping_table(tiny_sc):
    amap = ActionMap(tiny_sc, resolve_knobs(tiny_sc, None))
    n = tiny_sc.n_cells
    a = np.zeros((n, 4), np.float32)
    a[:, 0] = [-1.0, 1.0, 0.0] * (n // 3)  # power_offset_db in [-10, 0]
    a[:, 1] = [-1.0, 1.0, 0.0] * (n // 3)  # tilt_deg in [0, 15]
    a[:, 2] = [-1.0, 1.0, 0.0] * (n // 3)  # cio_db in [-6, 6]
    a[:, 3] = [-0.1, 0.1, 0.0] * (n // 3)  # sleep if > 0
    cfg = amap.to_config(a)
    np.testing.assert_allclose(cfg.power_offset_db[:3], [-10.0, 0.0, -5.0])
    np.testing.assert_allclose(cfg.tilt_deg[:3], [0.0, 15.0, 7.5])
    np.testing.assert_allclose(cfg.cio_db[:3], [-6.0, 6.0, 0.0])
    assert cfg.sleep[:3].tolist() == [False, True, False]
    # out of range is clipped
    cfg = amap.to_config(np.full((n, 4), 3.0))
    assert cfg.tilt_deg.max() == 15.0 and cfg.cio_db.max() == 6.0
    # all cells asleep -> the lowest sleep action stays awake
    s = np.full((n, 4), 0.5)
    s[4, 3] = 0.2
    cfg = amap.to_config(s)
    assert cfg.sleep.sum() == n - 1 and not cfg.sleep[4]
    # inverse map
    back = amap.normalise({k.name: getattr(cfg, k.name) for k in amap.knobs})
    assert back.shape == (n, 4) and np.all(np.abs(back) <= 1)
    assert "| 1 | tilt_deg | 0 | 15 | linear |" in amap.table()


def test_batched_action_mapping_is_the_single_mapping_per_element(tiny_sc):
    amap = ActionMap(tiny_sc, resolve_knobs(tiny_sc, None))
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1.5, 1.5, (5, *amap.shape))
    acts[3, :, 3] = 0.5  # every cell of element 3 would sleep: its lowest stays awake
    acts[3, 7, 3] = 0.1
    cfgs = amap.to_configs(acts)
    assert len(cfgs) == 5
    for a, cfg in zip(acts, cfgs, strict=True):
        one = amap.to_config(a)
        for name in ("power_offset_db", "tilt_deg", "cio_db", "sleep"):
            assert np.array_equal(getattr(cfg, name), getattr(one, name)), name
    assert cfgs[3].sleep.sum() == tiny_sc.n_cells - 1 and not cfgs[3].sleep[7]
    acts[2, 5, 2] = np.nan
    with pytest.raises(ValueError, match=r"env 2, cell 5, knob 'cio_db' must be finite, got nan"):
        amap.to_configs(acts)
    with pytest.raises(ValueError, match=r"expected \(batch, \*\(21, 4\)\)"):
        amap.to_configs(acts[0])


def test_knob_subset_and_errors(tiny_sc):
    env = RanControlEnv(scenario=tiny_sc, knobs=["sleep", "tilt_deg"], episode_steps=2)
    assert env.action_space.shape == (21, 2)
    assert [k.name for k in env.action_map.knobs] == ["tilt_deg", "sleep"]
    with pytest.raises(ValueError, match="unknown knob 'tilt'"):
        RanControlEnv(scenario=tiny_sc, knobs=["tilt"])
    with pytest.raises(ValueError, match="no such directory|not found"):
        RanControlEnv(scenario=tiny_sc, backend="surrogate",
                      backend_kwargs={"checkpoint": "/nonexistent/twin"})  # fmt: skip
    with pytest.raises(ValueError, match="unknown backend"):
        RanControlEnv(scenario=tiny_sc, backend="oracle")
    with pytest.raises(ValueError, match="reward: unknown weight 'enrgy'"):
        RanControlEnv(scenario=tiny_sc, reward={"enrgy": 1.0})


def test_nan_and_shape_errors(env_kwargs):
    env = RanControlEnv(**env_kwargs)
    env.reset(seed=0)
    a = np.zeros(env.action_space.shape, np.float32)
    a[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"cell 5, knob 'cio_db' must be finite, got nan"):
        env.step(a)
    a[5, 2] = np.inf
    with pytest.raises(ValueError, match=r"cell 5, knob 'cio_db'"):
        env.step(a)
    with pytest.raises(ValueError, match=r"expected \(21, 4\)"):
        env.step(np.zeros((21, 3), np.float32))
    with pytest.raises(ValueError, match=r"expected \(21, 4\).*FlattenAction"):
        env.step(np.zeros(84, np.float32))


def test_render_rgb_array(env_kwargs):
    env = RanControlEnv(**env_kwargs, render_mode="rgb_array")
    env.reset(seed=0)
    a = np.full(env.action_space.shape, -1.0, np.float32)
    a[:5, 3] = 1.0  # five sleeping cells
    env.step(a)
    img = env.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape[0] > 100 and img.std() > 0


def test_members_pool_rewards(env_kwargs):
    env = RanControlEnv(**env_kwargs, members=2)
    env.reset(seed=3)
    _, r, _, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    rm = info["reward_members"]
    assert rm.shape == (2,) and rm[0] != rm[1]
    assert r == pytest.approx(rm.mean())


def test_default_backend_is_the_bundled_twin():
    """Out of the box the env runs on the bundled twin checkpoint (issue #5)."""
    from rantwin.envs.backends.surrogate import SurrogateBackend

    env = RanControlEnv(scenario="hex7-uma", episode_steps=2)
    assert isinstance(env.backend, SurrogateBackend)
    obs, _ = env.reset(seed=0)
    obs, reward, *_ = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs) and np.isfinite(reward)


def test_render_links_point_to_the_nearest_wraparound_image():
    from rantwin.envs.render import _nearest_image
    from rantwin.radio.geometry import wraparound_offsets
    from rantwin.scenarios import load_scenario

    sc = load_scenario("hex7-uma")
    dep = sc.deployment
    offs = wraparound_offsets(dep.n_rings, dep.isd_m).double().numpy()
    shift = offs[np.argmax(np.linalg.norm(offs, axis=1))]  # one mirror cluster
    cx, cy = np.array([0.0, 0.0]), np.array([0.0, 0.0])
    ux = np.array([10.0, shift[0] - 10.0])
    uy = np.array([0.0, shift[1]])
    bx, by = _nearest_image(sc, cx, cy, ux, uy)
    np.testing.assert_allclose([bx[0], by[0]], [0.0, 0.0])  # a near UE: the cell itself
    np.testing.assert_allclose([bx[1], by[1]], shift)  # a far UE: the mirrored cell
