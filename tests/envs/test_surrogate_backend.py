"""The surrogate backend: conformance, determinism, batching, ensembles, datasets, errors.

A tiny twin (16 hidden units, 2 training epochs on a 2-step simulated dataset) is trained once
per session; the bundled default twin is never needed.
"""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch

from rantwin.envs import RanControlEnv, RanControlVectorEnv, flatten_env, parallel_env
from rantwin.envs.backend import make_backend
from rantwin.envs.backends import surrogate as sur
from rantwin.envs.backends.simulator import member_seed
from rantwin.scenarios.mobility import walk
from rantwin.simulator import Simulator

from .conftest import EPISODE, tiny_scenario


@pytest.fixture(scope="session")
def ckpt(tmp_path_factory):
    """A tiny trained twin checkpoint directory (no feature ranges: no range warnings)."""
    from rantwin.surrogate.checkpoint import save_checkpoint
    from rantwin.surrogate.data import load_graphs
    from rantwin.surrogate.graph import GraphConfig
    from rantwin.surrogate.model import TwinConfig
    from rantwin.surrogate.slow import fit_slow_head
    from rantwin.surrogate.train import TrainConfig, train_twin
    from tests.conftest import simulate_small

    root = tmp_path_factory.mktemp("surrogate-backend")
    simulate_small(root, tiny_scenario(), episodes=1, steps=2)
    graphs = load_graphs([root / "data"], progress=False)
    res = train_twin(
        graphs[:-1], graphs[-1:],
        TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2, slow=True),
        TrainConfig(epochs=2, physics_epochs=1, batch_size=2), progress=False,
    )  # fmt: skip
    fit_slow_head(res.model.eval(), graphs, graphs, steps=20, progress=False)  # slow state
    save_checkpoint(root / "ckpt", res.model, GraphConfig(), {})
    return str(root / "ckpt")


@pytest.fixture
def kw(tiny_sc, ckpt):
    return {
        "scenario": tiny_sc,
        "episode_steps": EPISODE,
        "backend": "surrogate",
        "backend_kwargs": {"checkpoint": ckpt},
    }


def _actions(n, shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.2, 1.2, size=(n, *shape)).astype(np.float32)


def test_check_env_gymnasium_and_sb3(kw):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    # through gym.make so that the checker can also build the other render modes
    env = gym.make("rantwin/RanControl-v0", **kw, render_mode="rgb_array").unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=False)
        sb3_check_env(flatten_env(RanControlEnv(**kw)), warn=True)


def test_same_seed_is_bitwise_deterministic_and_within_bounds(kw):
    a, b = RanControlEnv(**kw), RanControlEnv(**kw)
    oa, _ = a.reset(seed=7)
    ob, _ = b.reset(seed=7)
    assert oa.tobytes() == ob.tobytes()
    assert a.observation_space.contains(oa)
    for act in _actions(EPISODE - 1, a.action_space.shape):
        ra, rb = a.step(act), b.step(act)
        assert ra[0].tobytes() == rb[0].tobytes() and ra[1] == rb[1]
        assert a.observation_space.contains(ra[0])
    other, _ = RanControlEnv(**kw).reset(seed=8)
    assert other.tobytes() != oa.tobytes()


def test_vector_env_matches_single_envs(kw):
    """B native envs == B single envs (Gymnasium's SyncVectorEnv, autoreset included).

    Tight allclose, not bitwise: the batched backbone's matrix products round differently
    from B separate ones in the last float32 bits; every random draw is per element.
    """
    n_envs = 3
    vec = RanControlVectorEnv(num_envs=n_envs, **kw)
    sync = gym.vector.SyncVectorEnv([lambda: RanControlEnv(**kw) for _ in range(n_envs)])
    vobs, _ = vec.reset(seed=10)
    yobs, _ = sync.reset(seed=10)
    np.testing.assert_allclose(vobs, yobs, rtol=1e-5, atol=1e-5)
    for act in _actions(EPISODE + 2, vec.action_space.shape):  # crosses an autoreset
        v, y = vec.step(act), sync.step(act)
        np.testing.assert_allclose(v[0], y[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(v[1], y[1], rtol=1e-5, atol=1e-5)
        assert np.array_equal(v[2], y[2]) and np.array_equal(v[3], y[3])


def test_backend_batch_independent_and_members(tiny_sc, ckpt):
    be = make_backend("surrogate", tiny_sc, members=3, checkpoint=ckpt)
    cfg = tiny_sc.default_config()
    st, kpi = be.step(be.reset([5, 6]), [cfg, cfg])
    st1, k1 = be.step(be.reset([6]), [cfg])
    # element 1 of a batch of 2 == the same seed alone (its own generators)
    torch.testing.assert_close(k1.ue_sinr_db[0], kpi.ue_sinr_db[1], rtol=1e-5, atol=1e-4)
    assert torch.equal(k1.ue_active[0], kpi.ue_active[1])
    assert torch.equal(st1.ue_xy_m[0], st.ue_xy_m[1])
    # members: same UEs, different draws
    assert kpi.ue_sinr_db.shape == (2, 3, tiny_sc.ues.count)
    assert torch.equal(kpi.ue_x_m[:, 0], kpi.ue_x_m[:, 1])
    assert not torch.equal(kpi.ue_sinr_db[:, 0], kpi.ue_sinr_db[:, 1])
    assert not torch.equal(kpi.ue_throughput_mbps[:, 1], kpi.ue_throughput_mbps[:, 2])
    # cell_n_active counts the sampled-active UEs of each Φ serving cell
    for b in range(2):
        for m in range(3):
            served = kpi.ue_serving[b, m][kpi.ue_active[b, m]]
            counts = torch.bincount(served, minlength=tiny_sc.n_cells).float()
            assert torch.equal(kpi.cell_n_active[b, m], counts)
    # replace(): autoreset of element 0 only
    new = be.reset([9])
    merged = be.replace(st, [0], new)
    assert torch.equal(merged.ue_xy_m[0], new.ue_xy_m[0])
    assert torch.equal(merged.ue_xy_m[1], st.ue_xy_m[1])
    assert merged.step.tolist() == [0, 1]


def test_large_batches_are_sampled_in_chunks_with_the_same_draws(tiny_sc, ckpt):
    """max_ues_per_call splits a batch into calls of whole scenes; no draw changes."""
    from rantwin.scenarios import CellConfig

    n = tiny_sc.ues.count
    one = make_backend("surrogate", tiny_sc, members=2, checkpoint=ckpt, max_ues_per_call=None)
    # 2 scenes per call (the last call has 1), and 1 scene per call (fewer UEs than a scene)
    chunked = [
        make_backend("surrogate", tiny_sc, members=2, checkpoint=ckpt, max_ues_per_call=c)
        for c in (2 * n + 1, 1)
    ]
    calls = []
    real = chunked[0].twin.sample
    chunked[0].twin.sample = lambda graph, *a, **k: (
        calls.append(graph.num_scenes) or real(graph, *a, **k)
    )
    cfgs = [CellConfig.default(tiny_sc)] * 5
    states = [be.reset([1, 2, 3, 4, 5]) for be in (one, *chunked)]
    for step in range(3):  # the slow state is carried through the chunks too
        outs = [be.step(st, cfgs) for be, st in zip((one, *chunked), states, strict=True)]
        states = [o[0] for o in outs]
        ref = outs[0][1]
        for _, kpi in outs[1:]:
            for f in ("ue_rsrp_dbm", "ue_sinr_db", "ue_active", "cell_prb_util",
                      "cell_handovers_out"):  # fmt: skip
                torch.testing.assert_close(getattr(kpi, f), getattr(ref, f), atol=1e-4, rtol=0)
        for st in states[1:]:
            torch.testing.assert_close(st.slow_score, states[0].slow_score, atol=1e-4, rtol=0)
            assert torch.equal(st.rng_twin, states[0].rng_twin)
        assert calls[-3:] == [2, 2, 1], step


def test_ue_drop_is_the_simulators_member_0(tiny_sc, ckpt):
    be = make_backend("surrogate", tiny_sc, checkpoint=ckpt)
    st = be.reset([3])
    s0 = Simulator(tiny_sc).reset(member_seed(3, 0))
    assert torch.equal(st.ue_xy_m[0], s0.ue_xy_m)
    assert torch.equal(st.waypoint_m[0], s0.waypoint_m)
    assert torch.equal(st.indoor[0], s0.statics.indoor)
    assert torch.equal(st.speed_mps[0], s0.statics.speed_mps)


def test_walk_batch_matches_walk_and_is_batch_independent(tiny_sc, ckpt):
    be = make_backend("surrogate", tiny_sc, checkpoint=ckpt)
    st = be.reset([1, 2])
    speed = torch.full_like(st.speed_mps, 1.0)
    # no arrival within 2 s at 1 m/s unless a waypoint is within 2 m: positions == walk()
    far = (st.waypoint_m - st.ue_xy_m).norm(dim=-1) > 5
    xy, _ = sur.walk_batch(
        [torch.Generator().manual_seed(0)] * 2, be.area, st.ue_xy_m, st.waypoint_m, speed, 0.2, 10
    )
    g = torch.Generator().manual_seed(0)
    ref, _ = walk(g, be.area, st.ue_xy_m[0], st.waypoint_m[0], speed[0], 0.2, 10)
    torch.testing.assert_close(xy[0][far[0]], ref[-1][far[0]], rtol=0, atol=1e-9)
    # fast UEs: many arrivals; element 1 alone == element 1 in the batch (bitwise)
    fast = torch.full_like(st.speed_mps, 200.0)
    gens = [torch.Generator().manual_seed(s) for s in (11, 12)]
    xy2, wp2 = sur.walk_batch(gens, be.area, st.ue_xy_m, st.waypoint_m, fast, 0.2, 150)
    xy1, wp1 = sur.walk_batch(
        [torch.Generator().manual_seed(12)], be.area, st.ue_xy_m[1:], st.waypoint_m[1:],
        fast[1:], 0.2, 150,
    )  # fmt: skip
    assert torch.equal(xy1[0], xy2[1]) and torch.equal(wp1[0], wp2[1])
    assert not torch.equal(wp2, st.waypoint_m)  # waypoints were refreshed
    travelled = (xy2 - st.ue_xy_m).norm(dim=-1)
    assert bool((travelled <= 200 * 0.2 * 150 + 1e-6).all())


def test_parallel_api(tiny_sc, ckpt):
    from pettingzoo.test import parallel_api_test

    env = parallel_env(
        scenario=tiny_sc, episode_steps=EPISODE, backend="surrogate",
        backend_kwargs={"checkpoint": ckpt},
    )  # fmt: skip
    parallel_api_test(env, num_cycles=EPISODE + 1)


def test_rollout_cli_writes_a_valid_dataset(tiny_sc, ckpt, tmp_path):
    import yaml

    from rantwin.cli.main import main
    from rantwin.datasets import validate_dataset
    from rantwin.scenarios import scenario_to_dict

    sc_path = tmp_path / "tiny.yaml"
    sc_path.write_text(yaml.safe_dump(scenario_to_dict(tiny_sc)))
    out = tmp_path / "ds"
    code = main(
        ["rollout", "--backend", "surrogate", "--checkpoint", ckpt, "--scenario", str(sc_path),
         "--actions", "random", "--members", "2", "--episodes", "2", "--steps", "2",
         "--out", str(out), "--no-progress"]
    )  # fmt: skip
    assert code == 0
    assert validate_dataset(out) == []
    from rantwin.datasets import open_dataset

    tti = open_dataset(out).table("ue_tti").to_pydict()
    # per-TTI samples at the simulator's recorded TTIs (tti_samples of the scenario)
    assert len(tti["tti"]) == 2 * 2 * 2 * 42 * tiny_sc.timing.tti_samples


def test_bad_checkpoint_errors(tiny_sc, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="no such directory"):
        make_backend("surrogate", tiny_sc, checkpoint=str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="cannot load the twin"):
        make_backend("surrogate", tiny_sc, checkpoint=str(tmp_path))
    with pytest.raises(ValueError, match="only checkpoint=, per_tti=, diffusion_head=, max_ues"):
        make_backend("surrogate", tiny_sc, checkpont="x")
    with pytest.raises(ValueError, match="max_ues_per_call must be an integer >= 1"):
        make_backend("surrogate", tiny_sc, max_ues_per_call=0)
    monkeypatch.setattr(sur, "default_checkpoint", lambda: None)
    with pytest.raises(ValueError, match=r"python -m rantwin\.bench\.default_twin"):
        make_backend("surrogate", tiny_sc)


def test_twin_sees_the_config_change_since_the_last_step(tiny_sc, monkeypatch):
    """Step 0: no change; a CIO change is seen once; holding it again is no change."""
    import numpy as np

    from rantwin.scenarios import CellConfig

    be = make_backend("surrogate", tiny_sc, members=1)
    seen = []
    real = be.twin.graphs

    def spy(scenes):
        seen.append(scenes.delta().clone())
        return real(scenes)

    monkeypatch.setattr(be.twin, "graphs", spy)
    base = CellConfig.default(tiny_sc)
    cio = np.zeros(tiny_sc.n_cells)
    cio[0] = 2.0
    moved = base.replace(tiny_sc, cio_db=cio)
    state = be.reset([1, 2])
    state, _ = be.step(state, [base, base])
    state, _ = be.step(state, [moved, base])
    state, _ = be.step(state, [moved, base])
    assert not seen[0].any()
    assert float(seen[1][0, 0, 2]) == 2.0 and not seen[1][1].any()
    assert not seen[2].any()
    # a partial reset forgets the previous config of the reset element only
    fresh = be.reset([3])
    state = be.replace(state, [1], fresh)
    assert torch.isnan(state.prev_cfg[1]).all() and not torch.isnan(state.prev_cfg[0]).any()


def test_slow_state_is_carried_and_reset(tiny_sc, ckpt):
    """The twin's slow state: NaN at reset, carried by step, NaN again for reset elements."""
    from rantwin.scenarios import CellConfig

    be = sur.SurrogateBackend(tiny_sc, members=2, checkpoint=ckpt)
    assert be.twin.model.cfg.slow
    st = be.reset([1, 2, 3])
    assert st.slow_score.shape == (3, 2, be.scenario.ues.count, 3)
    assert torch.isnan(st.slow_score).all()
    cfgs = [CellConfig.default(be.scenario)] * 3
    st1, _ = be.step(st, cfgs)
    assert torch.isfinite(st1.slow_score).all()
    st2, _ = be.step(st1, cfgs)
    assert not torch.equal(st1.slow_score, st2.slow_score)
    mixed = be.replace(st2, [1], be.reset([9]))
    assert torch.isnan(mixed.slow_score[1]).all() and torch.isfinite(mixed.slow_score[0]).all()
    # an element at its first step gives the same draws as in a fresh batch
    _, k_mixed = be.step(mixed, cfgs)
    _, k_fresh = be.step(be.reset([9]), cfgs[:1])
    torch.testing.assert_close(k_mixed.ue_rsrp_dbm[1], k_fresh.ue_rsrp_dbm[0], atol=1e-4, rtol=0)


def test_the_twin_runs_on_the_named_device_and_the_kpis_come_back_to_the_cpu(tiny_sc, ckpt):
    from rantwin.scenarios import CellConfig

    be = make_backend("surrogate", tiny_sc, members=2, checkpoint=ckpt, device="cpu")
    assert be.twin.device == torch.device("cpu")
    ref = make_backend("surrogate", tiny_sc, members=2, checkpoint=ckpt)
    cfgs = [CellConfig.default(tiny_sc)] * 2
    (_, a), (_, b) = (x.step(x.reset([1, 2]), cfgs) for x in (be, ref))
    assert a.ue_sinr_db.device == torch.device("cpu")
    assert torch.equal(a.ue_sinr_db, b.ue_sinr_db)  # device="cpu" is the default
    # a device the machine lacks is refused by name, before the checkpoint is read
    with pytest.raises(ValueError, match=r"device='cuda:99'"):
        make_backend("surrogate", tiny_sc, checkpoint="/no/such/dir", device="cuda:99")
    with pytest.raises(ValueError, match=r"device='tpu'"):
        RanControlEnv(tiny_sc, "surrogate", backend_kwargs={"checkpoint": ckpt, "device": "tpu"})
