import dataclasses

import numpy as np
import pytest
import torch

from rantwin.simulator import Simulator, report_tables
from tests.conftest import small_variant


def _reports_equal(a, b):
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), f.name
        else:
            assert x == y, f.name


def _run(sim, seed, configs):
    state = sim.reset(seed)
    out = []
    for cfg in configs:
        state, rep = sim.step(state, cfg)
        out.append(rep)
    return state, out


def test_same_seed_bitwise_identical(tiny):
    sim = Simulator(tiny)
    cfg = sim.default_config()
    _, a = _run(sim, 7, [cfg] * 3)
    _, b = _run(Simulator(tiny), 7, [cfg] * 3)
    for ra, rb in zip(a, b, strict=True):
        _reports_equal(ra, rb)


def test_different_seeds_differ(tiny):
    sim = Simulator(tiny)
    cfg = sim.default_config()
    _, a = _run(sim, 1, [cfg])
    _, b = _run(sim, 2, [cfg])
    assert not np.array_equal(a[0].x_m, b[0].x_m)


def test_step_is_pure_and_branchable(tiny):
    sim = Simulator(tiny)
    cfg = sim.default_config()
    state = sim.reset(3)
    before = state.ue_xy_m.clone()
    _, r1 = sim.step(state, cfg)
    _, r2 = sim.step(state, cfg)
    assert torch.equal(state.ue_xy_m, before)
    _reports_equal(r1, r2)


def test_common_random_numbers_across_configs(tiny):
    """Mobility and traffic do not depend on the config: paired runs share them."""
    sim = Simulator(tiny)
    base = sim.default_config()
    n = sim.n_cells
    other = base.replace(tiny, tilt_deg=np.full(n, 12.0), cio_db=np.full(n, 3.0))
    _, a = _run(sim, 5, [base] * 2)
    _, b = _run(sim, 5, [other] * 2)
    for ra, rb in zip(a, b, strict=True):
        assert np.array_equal(ra.x_m, rb.x_m) and np.array_equal(ra.y_m, rb.y_m)
        assert np.array_equal(ra.indoor, rb.indoor)
    assert not np.array_equal(a[0].coupling_loss_db, b[0].coupling_loss_db)


def test_sleeping_cell_serves_nobody_and_draws_sleep_power(tiny):
    sim = Simulator(tiny)
    cfg = sim.default_config()
    sleep = np.zeros(sim.n_cells, bool)
    sleep[[0, 4]] = True
    _, reps = _run(sim, 0, [cfg, cfg.replace(tiny, sleep=sleep)])
    before, after = reps
    assert before.n_served[[0, 4]].sum() > 0
    assert after.n_served[[0, 4]].sum() == 0
    assert not np.isin(after.serving_cell, [0, 4]).any()
    assert np.all(after.prb_util[[0, 4]] == 0)
    # EARTH sleep power of a 2-TRX macro sector: 2 x 75 W
    np.testing.assert_allclose(after.energy_w[[0, 4]], 150.0)
    assert np.all(after.energy_w[~sleep] > 150.0)
    # UEs of sleeping cells were handed over, and counted
    moved = np.isin(before.serving_cell, [0, 4])
    assert after.handovers[moved].min() >= 1
    assert after.handovers_out[[0, 4]].sum() >= moved.sum()


def test_all_cells_asleep_is_an_error(tiny):
    sim = Simulator(tiny)
    cfg = sim.default_config().replace(tiny, sleep=np.ones(sim.n_cells, bool))
    with pytest.raises(ValueError, match="at least one cell must stay awake"):
        sim.step(sim.reset(0), cfg)


def test_power_offset_shifts_rsrp_exactly(tiny):
    sc = small_variant(**{"ues.mobility": "static"})
    sim = Simulator(sc)
    cfg = sim.default_config()
    low = cfg.replace(sc, power_offset_db=np.full(sim.n_cells, -6.0))
    _, a = _run(sim, 2, [cfg])
    _, b = _run(sim, 2, [low])
    same = a[0].serving_cell == b[0].serving_cell
    np.testing.assert_allclose(b[0].rsrp_dbm[same], a[0].rsrp_dbm[same] - 6.0, atol=1e-3)
    np.testing.assert_allclose(b[0].tx_power_dbm, a[0].tx_power_dbm - 6.0)


def test_cio_attracts_users():
    """A large CIO on one cell pulls UEs into it through A3 handovers."""
    sc = small_variant(**{"ues.count": 120, "timing.mobility_s_per_superstep": 10.0})
    sim = Simulator(sc)
    cfg = sim.default_config()
    cio = np.zeros(sim.n_cells)
    cio[0] = 6.0
    cio[[1, 2]] = -6.0
    _, a = _run(sim, 4, [cfg] * 2)
    _, b = _run(sim, 4, [cfg.replace(sc, cio_db=cio)] * 2)
    assert b[-1].n_served[0] > a[-1].n_served[0]
    assert b[0].handovers.sum() > a[0].handovers.sum()


def test_full_buffer_activity_follows_the_load_envelope(tiny):
    sc = small_variant(**{"ues.count": 400, "timing.ttis_per_superstep": 5})
    sim = Simulator(sc)
    state = sim.reset(0)
    cfg = sim.default_config()
    fractions, loads = [], []
    for _ in range(3):
        state, rep = sim.step(state, cfg)
        fractions.append(rep.active.mean())
        loads.append(rep.load_factor)
    np.testing.assert_allclose(fractions, loads, atol=0.08)


def test_ftp3_load_gives_partial_prb_utilisation():
    sc = small_variant(
        **{
            "ues.traffic": {"model": "ftp3", "file_size_mbit": 0.5, "arrival_rate_per_s": 2.0},
            "timing.ttis_per_superstep": 100,
        }
    )
    sim = Simulator(sc)
    _, reps = _run(sim, 0, [sim.default_config()] * 2)
    util = reps[-1].prb_util
    assert 0.0 <= util.min() and util.max() <= 1.0
    assert util.mean() < 0.9
    assert reps[-1].throughput_mbps.sum() > 0


def test_report_ranges_and_tables(tiny):
    sim = Simulator(tiny)
    _, reps = _run(sim, 0, [sim.default_config()] * 2)
    r = reps[-1]
    assert r.n_cells == 21 and r.n_ues == 42
    assert np.all((r.prb_util >= 0) & (r.prb_util <= 1))
    assert np.all(np.isfinite(r.sinr_db)) and np.all(r.sinr_db > -40) and np.all(r.sinr_db < 60)
    assert np.all(r.throughput_mbps >= 0)
    assert np.all(r.coupling_loss_db > 40)
    assert np.all((r.serving_cell >= 0) & (r.serving_cell < 21))
    assert r.tti_sinr_db.shape == (4, 42)
    assert r.n_served.sum() == 42
    np.testing.assert_allclose(r.cell_throughput_mbps.sum(), r.throughput_mbps.sum(), rtol=1e-4)
    t = report_tables(r, world=3, episode=1)
    assert len(t["cells"]["cell"]) == 21 and len(t["ues"]["ue"]) == 42
    assert len(t["ue_tti"]["tti"]) == 4 * 42
    assert set(t["ues"]["world"]) == {3}


def test_report_records_where_each_walk_started(tiny):
    """x_start_m / y_start_m: the drop position at the first step, then the previous end."""
    sim = Simulator(tiny)
    state = sim.reset(3)
    drop = state.ue_xy_m.numpy().astype(np.float32)  # [n_ues, 2]
    _, reps = _run(sim, 3, [sim.default_config()] * 3)
    assert np.array_equal(np.stack([reps[0].x_start_m, reps[0].y_start_m], -1), drop)
    for before, now in zip(reps, reps[1:], strict=False):
        assert np.array_equal(now.x_start_m, before.x_m)
        assert np.array_equal(now.y_start_m, before.y_m)
    assert not np.array_equal(reps[1].x_start_m, reps[1].x_m)  # the UEs of tiny walk
    t = report_tables(reps[1], world=0, episode=0)["ues"]
    assert np.array_equal(t["x_start_m"], reps[1].x_start_m)


def test_config_for_other_scenario_rejected(tiny):
    sim = Simulator(tiny)
    other = Simulator(small_variant("hex19-uma"))
    with pytest.raises(ValueError, match="cells"):
        sim.step(sim.reset(0), other.default_config())


def test_scene_replicas_share_ues_but_not_shadowing(tiny):
    """Same scene_seed: same UE positions and paths; different seed: other radio draws."""
    sim = Simulator(tiny)
    cfg = sim.default_config()
    a = sim.step(sim.reset(1, scene_seed=9), cfg)[1]
    b = sim.step(sim.reset(2, scene_seed=9), cfg)[1]
    assert np.array_equal(a.x_m, b.x_m) and np.array_equal(a.indoor, b.indoor)
    assert not np.array_equal(a.coupling_loss_db, b.coupling_loss_db)


def _state_equal(a, b):
    for name in ("ue_xy_m", "waypoint_m", "buffer_bits", "avg_rate", "rng_mobility",
                 "rng_traffic", "rng_fading"):  # fmt: skip
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    for f in dataclasses.fields(a.handover):
        assert torch.equal(getattr(a.handover, f.name), getattr(b.handover, f.name)), f.name
    assert (a.step, a.time_s) == (b.step, b.time_s)


@pytest.mark.parametrize("traffic", ["full-buffer", "ftp3"])
def test_step_many_is_bitwise_the_episodes_one_at_a_time(traffic):
    """Batched episodes share the TTI loop only: each gives exactly what it gives alone,
    whatever the other episodes' seeds and configs are."""
    extra = {"ues.traffic": {"model": "ftp3", "file_size_mbit": 0.5, "arrival_rate_per_s": 2.0}}
    sim = Simulator(small_variant(**(extra if traffic == "ftp3" else {})))
    base = sim.default_config()
    sleep = np.zeros(sim.n_cells, bool)
    sleep[1] = True
    other = dataclasses.replace(base, sleep=sleep, cio_db=np.full(sim.n_cells, 3.0))
    seeds, configs = [4, 5, 4], [base, other, other]
    alone = [_run(sim, s, [c, c]) for s, c in zip(seeds, configs, strict=True)]
    states = [sim.reset(s) for s in seeds]
    for t in range(2):
        out = sim.step_many(states, configs)
        states = [s for s, _ in out]
        for b, (_, rep) in enumerate(out):
            _reports_equal(rep, alone[b][1][t])
    for b, s in enumerate(states):
        _state_equal(s, alone[b][0])
    # the same seed under another config diverges: the batch did not mix the episodes
    assert not np.array_equal(alone[0][1][1].sinr_db, alone[2][1][1].sinr_db)


def test_step_many_checks_its_arguments(tiny):
    sim = Simulator(tiny)
    state = sim.reset(0)
    with pytest.raises(ValueError, match="2 configs for 1 states"):
        sim.step_many([state], [sim.default_config()] * 2)
    with pytest.raises(ValueError, match="at least one episode"):
        sim.step_many([], [])


def test_step_many_splits_large_batches_into_equal_chunks(tiny, monkeypatch):
    from rantwin.simulator import engine

    sim = Simulator(tiny)
    cfg = sim.default_config()
    seeds = [1, 2, 3]
    alone = [sim.step(sim.reset(s), cfg)[1] for s in seeds]
    calls = []
    run_window = engine.run_window
    monkeypatch.setattr(engine, "MAX_WINDOW_LINKS", 2 * sim.n_cells * sim.n_ues * 4)
    monkeypatch.setattr(
        engine,
        "run_window",
        lambda inp, *a: calls.append(inp.rx_mw.shape[0]) or run_window(inp, *a),
    )
    out = sim.step_many([sim.reset(s) for s in seeds], [cfg] * 3)
    assert calls == [2, 1]  # two episodes per window call
    for (_, rep), ref in zip(out, alone, strict=True):
        _reports_equal(rep, ref)
