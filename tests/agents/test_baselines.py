"""Rule baselines: contract, rule directions on hand-built observations, errors, one episode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rantwin.agents.baselines import (
    BASELINES,
    CioLoadBalancing,
    SleepRule,
    StaticPolicy,
    TiltRule,
    make_baseline,
)
from rantwin.agents.policy import ObsView, Policy, default_action
from rantwin.envs import KPI_FEATURES, ActionMap, RanControlEnv, feature_names, resolve_knobs
from rantwin.envs.parallel import neighbours
from rantwin.scenarios import CellConfig, load_scenario
from rantwin.simulator.handover import HandoverState, run_a3

# ------------------------------------------------------------------------------------ helpers

NOMINAL = {  # a healthy, moderately loaded cell, physical units
    "rsrp_p10": -95.0,
    "rsrp_p50": -85.0,
    "rsrp_p90": -75.0,
    "sinr_p10": 5.0,
    "sinr_p50": 12.0,
    "sinr_p90": 20.0,
    "throughput_p10": 5.0,
    "throughput_p50": 20.0,
    "throughput_p90": 50.0,
    "prb_util": 1.0,
    "active_ues": 5.0,
    "handover_rate": 0.1,
    "energy": 600.0,
}


@pytest.fixture(scope="module")
def actions() -> ActionMap:
    sc = load_scenario("hex7-uma")
    return ActionMap(sc, resolve_knobs(sc, None))


def make_obs(actions: ActionMap, asleep=None, **kpis) -> np.ndarray:
    """An observation holding the given physical KPI values (scalars or ``[n_cells]``).

    Inverse of :meth:`ObsView.kpi`: ``z = 2 (f(x) − lo) / (hi − lo) − 1``; knob columns at the
    default config, sleep column from ``asleep``.
    """
    n = actions.scenario.n_cells
    names = feature_names(actions)
    obs = np.zeros((n, len(names)), np.float32)
    values = NOMINAL | kpis
    for f in KPI_FEATURES:
        x = np.broadcast_to(np.asarray(values[f.name], np.float64), (n,))
        v = np.log1p(x) if f.log1p else x
        obs[:, names.index(f.name)] = np.clip(2.0 * (v - f.lo) / (f.hi - f.lo) - 1.0, -1, 1)
    knobs = default_action(actions)
    for j, k in enumerate(actions.knobs):
        obs[:, names.index(f"knob_{k.name}")] = knobs[:, j]
    if asleep is not None:
        obs[:, names.index("knob_sleep")] = np.where(asleep, 1.0, -1.0)
    obs[:, names.index("hour_cos")] = 1.0
    return obs


def per_cell(actions: ActionMap, value: float, **at: float) -> np.ndarray:
    """``[n_cells]`` filled with ``value``; ``at={"c3": 7.0}`` sets cell 3."""
    x = np.full(actions.scenario.n_cells, value, np.float64)
    for key, v in at.items():
        x[int(key[1:])] = v
    return x


def cfg(actions: ActionMap, action: np.ndarray) -> CellConfig:
    return actions.to_config(action)


def test_make_obs_inverts_obsview(actions):
    view = ObsView(actions)
    obs = make_obs(actions, active_ues=per_cell(actions, 3.0, c0=17.0), sinr_p10=-4.0)
    np.testing.assert_allclose(view.kpi(obs, "active_ues")[:2], [17.0, 3.0], rtol=1e-4)
    np.testing.assert_allclose(view.kpi(obs, "sinr_p10"), -4.0, atol=1e-4)


# ----------------------------------------------------------------------------------- contract


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_contract_shape_dtype_range_and_untouched_knobs(actions, name):
    policy = make_baseline(name, actions)
    assert isinstance(policy, Policy)
    assert policy.name == name
    default = default_action(actions)
    needed = set(BASELINES[name].knobs_needed)
    rng = np.random.default_rng(0)
    policy.reset()
    for _ in range(6):
        obs = make_obs(
            actions,
            active_ues=rng.uniform(0, 30, actions.scenario.n_cells),
            rsrp_p10=rng.uniform(-125, -80, actions.scenario.n_cells),
            sinr_p10=rng.uniform(-10, 10, actions.scenario.n_cells),
        )
        a = policy.act(obs)
        assert a.shape == actions.shape and a.dtype == np.float32
        assert np.all(np.abs(a) <= 1.0)
        for j, k in enumerate(actions.knobs):
            if k.name not in needed:
                np.testing.assert_array_equal(a[:, j], default[:, j], err_msg=k.name)


def test_static_is_the_default_config(actions):
    policy = StaticPolicy(actions)
    a = policy.act(make_obs(actions, active_ues=40.0))
    np.testing.assert_array_equal(a, default_action(actions))
    c, d = cfg(actions, a), CellConfig.default(actions.scenario)
    for k in ("power_offset_db", "tilt_deg", "cio_db", "sleep"):
        np.testing.assert_allclose(getattr(c, k), getattr(d, k), atol=1e-5, err_msg=k)


def test_rules_work_with_only_their_knob():
    sc = load_scenario("hex7-uma")
    for name, knob in (("mlb-cio", "cio_db"), ("sleep", "sleep"), ("tilt-cco", "tilt_deg")):
        am = ActionMap(sc, resolve_knobs(sc, [knob]))
        assert make_baseline(name, am).act(make_obs(am)).shape == (sc.n_cells, 1)


# ------------------------------------------------------------------------------ mlb-cio (CIO)


def test_simulator_cio_convention_higher_cio_attracts():
    """A3 in the simulator: equal RSRP, a higher CIO on cell 1 pulls the UE served by cell 0."""

    def serving_after(cio_db):
        state = HandoverState(
            l3_rsrp_dbm=torch.full((2, 1), -90.0, dtype=torch.float64),
            serving=torch.tensor([0]),
            ttt_ms=torch.zeros(1, dtype=torch.float64),
            ttt_target=torch.tensor([-1]),
            previous=torch.tensor([-1]),
            last_ho_s=torch.full((1,), -1e9, dtype=torch.float64),
        )
        rsrp = torch.full((10, 2, 1), -90.0, dtype=torch.float64)
        new, _ = run_a3(
            state,
            rsrp,
            torch.tensor([True, True]),
            torch.tensor(cio_db, dtype=torch.float64),
            hysteresis_db=1.0,
            ttt_ms=40.0,
            period_ms=40.0,
            l3_k=4,
            pingpong_s=1.0,
            start_s=0.0,
        )
        return int(new.serving[0])

    assert serving_after([0.0, 0.0]) == 0
    assert serving_after([0.0, 3.0]) == 1  # neighbour's CIO up: it attracts the UE
    assert serving_after([-3.0, 0.0]) == 1  # serving cell's CIO down: the UE leaves
    assert serving_after([3.0, 3.0]) == 0  # only differences matter


def test_mlb_pushes_overloaded_cell_and_pulls_light_neighbours(actions):
    policy = CioLoadBalancing(actions, n_neighbours=3)
    nb = neighbours(actions.scenario, 3)[0]
    load = per_cell(actions, 6.0, c0=20.0)
    load[nb] = 1.0
    cio = cfg(actions, policy.act(make_obs(actions, active_ues=load))).cio_db
    assert cio[0] == pytest.approx(-1.0, abs=1e-5)  # lower CIO: cell 0's edge UEs hand over
    np.testing.assert_allclose(cio[nb], 1.0, atol=1e-5)  # higher CIO: light cells attract
    # incremental, capped at max_cio_db
    for _ in range(5):
        cio = cfg(actions, policy.act(make_obs(actions, active_ues=load))).cio_db
    assert cio[0] == pytest.approx(-3.0, abs=1e-5)
    np.testing.assert_allclose(cio[nb], 3.0, atol=1e-5)
    # balanced again: relax towards the default CIO by one step
    cio = cfg(actions, policy.act(make_obs(actions, active_ues=6.0))).cio_db
    assert cio[0] == pytest.approx(-2.0, abs=1e-5)
    # reset restores the default
    policy.reset()
    np.testing.assert_allclose(policy.cio_db, CellConfig.default(actions.scenario).cio_db)


def test_mlb_ignores_small_differences_and_sleeping_neighbours(actions):
    policy = CioLoadBalancing(actions, relax=False)
    load = per_cell(actions, 5.0, c0=6.0)  # 1 UE more than its neighbours: below min_diff
    cio = cfg(actions, policy.act(make_obs(actions, active_ues=load))).cio_db
    np.testing.assert_allclose(cio, 0.0, atol=1e-5)
    # a sleeping neighbour (0 UEs) is not a light cell to push load to, and keeps its CIO
    asleep = np.zeros(actions.scenario.n_cells, bool)
    asleep[1] = True
    load = per_cell(actions, 5.0, c1=0.0)
    cio = cfg(actions, policy.act(make_obs(actions, asleep=asleep, active_ues=load))).cio_db
    np.testing.assert_allclose(cio, 0.0, atol=1e-5)


# ------------------------------------------------------------------------------------- sleep


def test_sleep_light_cell_with_light_neighbours_then_wake_on_load(actions):
    policy = SleepRule(actions, hold_steps=1)
    light = per_cell(actions, 3.0, c0=0.5)
    asleep = cfg(actions, policy.act(make_obs(actions, active_ues=light))).sleep
    assert asleep.tolist() == [True] + [False] * (actions.scenario.n_cells - 1)
    # stays asleep while the neighbourhood is fine (its own row now reads 0 UEs)
    light[0] = 0.0
    obs = make_obs(actions, asleep=asleep, active_ues=light)
    assert cfg(actions, policy.act(obs)).sleep[0]
    # neighbours loaded: wake
    busy = per_cell(actions, 10.0, c0=0.0)
    assert not cfg(actions, policy.act(make_obs(actions, asleep=asleep, active_ues=busy))).sleep[0]
    # hold: light again, but it was just woken: awake for hold_steps = 1 more step
    light[0] = 0.5
    assert not cfg(actions, policy.act(make_obs(actions, active_ues=light))).sleep[0]
    assert cfg(actions, policy.act(make_obs(actions, active_ues=light))).sleep[0]


def test_sleep_wakes_on_coverage_holes(actions):
    policy = SleepRule(actions)
    asleep = cfg(
        actions, policy.act(make_obs(actions, active_ues=per_cell(actions, 3, c0=0)))
    ).sleep
    assert asleep[0]
    nb = neighbours(actions.scenario, policy.n_neighbours)[0]
    sinr = per_cell(actions, 5.0)
    sinr[nb] = -10.0  # neighbours' cell-edge SINR collapses
    obs = make_obs(actions, asleep=asleep, active_ues=per_cell(actions, 3, c0=0), sinr_p10=sinr)
    assert not cfg(actions, policy.act(obs)).sleep[0]


def test_sleep_needs_room_in_the_neighbourhood(actions):
    policy = SleepRule(actions, sleep_load_ues=2.0, room_load_ues=2.0, wake_load_ues=4.0)
    obs = make_obs(actions, active_ues=1.9)  # light, but neighbours + own > 2 per cell
    assert not cfg(actions, policy.act(obs)).sleep.any()


def test_sleep_never_sleeps_every_cell(actions):
    n = actions.scenario.n_cells
    policy = SleepRule(
        actions,
        sleep_load_ues=5.0,
        room_load_ues=100.0,
        wake_load_ues=100.0,
        max_asleep_fraction=1.0,
    )
    asleep = np.zeros(n, bool)
    for _ in range(4):
        a = policy.act(make_obs(actions, asleep=asleep, active_ues=np.where(asleep, 0.0, 0.2)))
        asleep = cfg(actions, a).sleep
        assert asleep.sum() < n
        assert (a[:, -1] > 0).sum() < n  # the rule itself, not only the ActionMap, keeps one
    assert asleep.sum() > n // 2  # a cell whose neighbours all sleep has no one to hand to
    # the default neighbourhood limit keeps most cells awake
    default = SleepRule(actions, sleep_load_ues=5.0, room_load_ues=100.0, wake_load_ues=100.0)
    asleep = cfg(actions, default.act(make_obs(actions, active_ues=0.2))).sleep
    assert 0 < asleep.sum() <= n // 2


# -------------------------------------------------------------------------------------- tilt


def test_tilt_uptilts_on_weak_coverage_and_downtilts_on_interference(actions):
    policy = TiltRule(actions)
    planned = CellConfig.default(actions.scenario).tilt_deg
    rsrp = per_cell(actions, -95.0, c0=-120.0)
    sinr = per_cell(actions, 5.0, c1=-5.0, c0=-5.0)  # cell 0: coverage wins
    tilt = cfg(actions, policy.act(make_obs(actions, rsrp_p10=rsrp, sinr_p10=sinr))).tilt_deg
    assert tilt[0] == pytest.approx(planned[0] - 1.0, abs=1e-5)  # uptilt
    assert tilt[1] == pytest.approx(planned[1] + 1.0, abs=1e-5)  # downtilt
    np.testing.assert_allclose(tilt[2:], planned[2:], atol=1e-5)
    for _ in range(10):  # capped at max_delta_deg from the planned tilt
        tilt = cfg(actions, policy.act(make_obs(actions, rsrp_p10=rsrp, sinr_p10=sinr))).tilt_deg
    assert tilt[0] == pytest.approx(planned[0] - 4.0, abs=1e-5)
    assert tilt[1] == pytest.approx(planned[1] + 4.0, abs=1e-5)
    policy.reset()
    np.testing.assert_allclose(policy.tilt_deg, planned)


def test_tilt_leaves_cells_without_ues_alone(actions):
    policy = TiltRule(actions)
    empty = per_cell(actions, -95.0, c0=-140.0)  # no served UEs: every RSRP quantile at -140
    obs = make_obs(
        actions,
        rsrp_p10=empty,
        rsrp_p50=empty,
        rsrp_p90=per_cell(actions, -75.0, c0=-140.0),
        active_ues=per_cell(actions, 5.0, c0=0.0),
        sinr_p10=per_cell(actions, 5.0, c0=-20.0),
    )
    tilt = cfg(actions, policy.act(obs)).tilt_deg
    np.testing.assert_allclose(tilt, CellConfig.default(actions.scenario).tilt_deg, atol=1e-5)


# ------------------------------------------------------------------------------------- reset


@pytest.mark.parametrize("name", ["mlb-cio", "sleep", "tilt-cco"])
def test_reset_restores_the_initial_state(actions, name):
    stress = make_obs(
        actions,
        active_ues=per_cell(actions, 0.3, c0=30.0),
        rsrp_p10=per_cell(actions, -120.0),
        sinr_p10=per_cell(actions, 5.0),
    )
    neutral = make_obs(actions)
    fresh = make_baseline(name, actions).act(neutral)
    policy = make_baseline(name, actions)
    for _ in range(3):
        moved = policy.act(stress)
    assert not np.array_equal(moved, fresh)
    policy.reset()
    np.testing.assert_array_equal(policy.act(neutral), fresh)


# ------------------------------------------------------------------------------------ errors


def test_unknown_baseline_lists_the_valid_names(actions):
    with pytest.raises(
        ValueError,
        match="unknown baseline 'ppo'; valid baselines: static, mlb-cio, sleep, tilt-cco",
    ):
        make_baseline("ppo", actions)


def test_unknown_parameter_is_named(actions):
    with pytest.raises(ValueError, match="'mlb-cio' has no parameter 'stepdb'.*step_db"):
        make_baseline("mlb-cio", actions, stepdb=0.5)
    with pytest.raises(ValueError, match="'static' has no parameter 'k'"):
        make_baseline("static", actions, k=1)


@pytest.mark.parametrize(
    ("name", "knob"), [("mlb-cio", "cio_db"), ("sleep", "sleep"), ("tilt-cco", "tilt_deg")]
)
def test_missing_knob_names_rule_knob_and_available(name, knob):
    sc = load_scenario("hex7-uma")
    other = "power_offset_db"
    am = ActionMap(sc, resolve_knobs(sc, [other]))
    with pytest.raises(ValueError, match=rf"'{name}' needs knob '{knob}'.*controlled.*{other}"):
        make_baseline(name, am)


@pytest.mark.parametrize(
    ("name", "params", "param"),
    [
        ("mlb-cio", {"step_db": 0.0}, "step_db"),
        ("mlb-cio", {"step_db": float("nan")}, "step_db"),
        ("mlb-cio", {"margin": 1.0}, "margin"),
        ("mlb-cio", {"n_neighbours": 0}, "n_neighbours"),
        ("mlb-cio", {"n_neighbours": 2.5}, "n_neighbours"),
        ("mlb-cio", {"relax": "yes"}, "relax"),
        ("sleep", {"room_load_ues": 6.0, "wake_load_ues": 5.0}, "wake_load_ues"),
        ("sleep", {"max_asleep_fraction": 0.0}, "max_asleep_fraction"),
        ("sleep", {"hold_steps": -1}, "hold_steps"),
        ("sleep", {"sleep_load_ues": True}, "sleep_load_ues"),
        ("tilt-cco", {"rsrp_p10_min_dbm": -30.0}, "rsrp_p10_min_dbm"),
        ("tilt-cco", {"max_delta_deg": -1.0}, "max_delta_deg"),
    ],
)
def test_bad_parameter_names_param_value_and_rule(actions, name, params, param):
    with pytest.raises(ValueError, match=rf"baseline '{name}': {param} must be .*, got"):
        make_baseline(name, actions, **params)


def test_wrong_observation_shape(actions):
    policy = TiltRule(actions)
    with pytest.raises(ValueError, match=r"expected \(21, 19\)"):
        policy.act(make_obs(actions)[None])


# ---------------------------------------------------------------------------- real episodes


def test_each_baseline_runs_a_simulator_episode():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        env = RanControlEnv(backend="simulator", scenario="hex7-uma", episode_steps=2)
        for name in BASELINES:
            policy = make_baseline(name, env.action_map)
            obs, _ = env.reset(seed=0)
            policy.reset()
            truncated, steps = False, 0
            while not truncated:
                action = policy.act(obs)
                assert env.action_space.contains(action), name
                obs, reward, terminated, truncated, _ = env.step(action)
                assert np.isfinite(reward) and not terminated
                steps += 1
            assert steps == 2
        env.close()
    finally:
        torch.set_num_threads(n)
