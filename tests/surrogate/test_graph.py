import numpy as np
import pytest
import torch

from rantwin.scenarios import CellConfig, load_scenario
from rantwin.surrogate.features import ScenarioStatics, SceneBatch, SceneInputs, phi_links
from rantwin.surrogate.graph import (
    CELL_FEATURES,
    COUNT_SCALE,
    EDGE_TYPES,
    UE_FEATURES,
    GraphConfig,
    build_graph,
)


def _inputs(n_ues=50, sleep=None, seed=0):
    sc = load_scenario("hex7-uma")
    rng = np.random.default_rng(seed)
    cfg = CellConfig.default(sc)
    if sleep is not None:
        cfg = cfg.replace(sc, sleep=sleep)
    return SceneInputs(
        sc, cfg, rng.uniform(-600, 600, (n_ues, 2)), rng.random(n_ues) < 0.8,
        np.ones(n_ues), 0.6, 13.0,
    )  # fmt: skip


def test_graph_shapes_and_edges():
    g = build_graph(_inputs())
    assert g["cell"].x.shape == (21, len(CELL_FEATURES))
    assert g["ue"].x.shape == (50, len(UE_FEATURES))
    for et in EDGE_TYPES:
        ei = g[et].edge_index
        assert ei.shape[0] == 2 and g[et].edge_attr.shape[0] == ei.shape[1]
    # every UE has exactly one serving edge, and k_interferers interferers
    assert torch.bincount(g["cell", "serves", "ue"].edge_index[1], minlength=50).eq(1).all()
    assert g["cell", "interferes", "ue"].edge_index.shape[1] == GraphConfig().k_interferers * 50
    assert torch.isfinite(g["ue"].x).all() and torch.isfinite(g["cell"].x).all()


def test_a_scene_batch_stacks_its_knobs_once_and_hands_out_new_tensors():
    import dataclasses

    inp = _inputs()
    batch = SceneBatch.of([inp, inp])
    a, b = batch.knob("tilt_deg"), batch.knob("tilt_deg")
    assert torch.equal(a, b) and a.data_ptr() != b.data_ptr()  # a caller may write to its own
    a += 1.0
    assert torch.equal(batch.knob("tilt_deg"), b)
    sleep = np.zeros(21, bool)
    sleep[3] = True
    other = inp.config.replace(inp.scenario, sleep=sleep)
    moved = dataclasses.replace(batch, configs=(other, inp.config))  # a new batch: new stacks
    assert moved.knob("sleep")[0, 3] and not batch.knob("sleep")[0, 3]


def test_phi_serving_is_strongest_rsrp_plus_cio_among_awake():
    sleep = np.zeros(21, bool)
    sleep[:5] = True
    inp = _inputs(sleep=sleep)
    p = phi_links(ScenarioStatics(inp.scenario), SceneBatch.of([inp]))
    assert not np.isin(p.serving.numpy(), np.arange(5)).any()
    score = p.rsrp_dbm[0].clone()
    score[:5] = -np.inf
    assert torch.equal(score.argmax(0), p.serving[0])
    g = build_graph(inp)
    assert not g["cell"].awake[:5].any()
    ic = g["cell", "interferes", "ue"].edge_index[0]
    assert not np.isin(ic.numpy(), np.arange(5)).any()


def test_bad_inputs_name_the_problem():
    inp = _inputs()
    with pytest.raises(ValueError, match="ue_xy_m"):
        build_graph(SceneInputs(inp.scenario, inp.config, np.zeros((0, 2)), np.zeros(0, bool),
                                np.zeros(0), 0.5, 1.0))  # fmt: skip
    xy = inp.ue_xy_m.copy()
    xy[3, 0] = np.nan
    with pytest.raises(ValueError, match="ue_xy_m must be finite"):
        build_graph(SceneInputs(inp.scenario, inp.config, xy, inp.ue_indoor, inp.ue_speed_mps,
                                0.5, 1.0))  # fmt: skip


def test_lone_awake_cell_with_no_neighbours_still_builds():
    sleep = np.ones(21, bool)
    sleep[7] = False
    g = build_graph(_inputs(sleep=sleep))
    assert g["cell", "interferes", "ue"].edge_index.shape[1] == 0
    assert (g["cell", "serves", "ue"].edge_index[0] == 7).all()


def test_batched_build_equals_scene_by_scene():
    from torch_geometric.data import Batch

    from rantwin.surrogate.graph import build_batch

    scenes = [_inputs(seed=s) for s in range(3)]
    scenes[1] = SceneInputs(scenes[1].scenario, scenes[1].config.replace(
        scenes[1].scenario, cio_db=np.linspace(-3, 3, 21)), scenes[1].ue_xy_m,
        scenes[1].ue_indoor, scenes[1].ue_speed_mps, 0.2, 3.0)  # fmt: skip
    one_by_one = Batch.from_data_list([build_graph(s) for s in scenes])
    batched = build_batch(ScenarioStatics(scenes[0].scenario), SceneBatch.of(scenes))
    assert batched.num_scenes == 3
    for nt in ("cell", "ue"):
        torch.testing.assert_close(batched[nt].x, one_by_one[nt].x)
        assert torch.equal(batched[nt].batch, one_by_one[nt].batch)
    for et in EDGE_TYPES:
        a = batched[et].edge_index
        b = one_by_one[et].edge_index
        ka = (a[0] * 10**6 + a[1]).argsort()
        kb = (b[0] * 10**6 + b[1]).argsort()
        assert torch.equal(a[:, ka], b[:, kb])
        torch.testing.assert_close(batched[et].edge_attr[ka], one_by_one[et].edge_attr[kb])


def test_config_in_transition_features():
    """The graph sees each knob's change since the previous super-step (zeros at step 0)."""
    import numpy as np

    from rantwin.scenarios import CellConfig, load_scenario
    from rantwin.surrogate.features import SceneInputs, config_delta
    from rantwin.surrogate.graph import CELL_FEATURES, GraphConfig, build_graph

    sc = load_scenario("hex7-uma")
    base = CellConfig.default(sc)
    cio = np.zeros(sc.n_cells)
    cio[3] = 3.0
    moved = base.replace(sc, cio_db=cio)
    d = config_delta(moved, base)
    assert d.shape == (sc.n_cells, 4) and d[3, 2] == 3.0 and np.count_nonzero(d) == 1
    assert not config_delta(moved, None).any()
    rng = np.random.default_rng(0)
    kw = dict(scenario=sc, ue_xy_m=rng.uniform(-300, 300, (30, 2)), ue_indoor=np.zeros(30, bool),
              ue_speed_mps=np.ones(30), load_factor=0.5, hour=1.0)  # fmt: skip
    col = CELL_FEATURES.index("d_cio")
    held = build_graph(SceneInputs(config=moved, prev_config=moved, **kw), GraphConfig())
    change = build_graph(SceneInputs(config=moved, prev_config=base, **kw), GraphConfig())
    assert held["cell"].x[:, col].abs().sum() == 0
    assert float(change["cell"].x[3, col]) == 0.5  # 3 dB / 6


def test_dataset_graphs_carry_the_previous_steps_config(twin_graphs):
    """load_graphs fills prev_config from the previous step of the same episode."""
    from rantwin.surrogate.graph import CELL_FEATURES

    cols = [CELL_FEATURES.index(f"d_{k}") for k in ("power", "tilt", "cio", "sleep")]
    for g in twin_graphs:
        step = int(g.scene[3])
        moved = bool(g["cell"].x[:, cols].abs().sum() > 0)
        # random actions change every step; the first step of an episode has no previous
        assert moved == (step > 0), (step, moved)


def _ue_column(g, name):
    return g["ue"].x[:, UE_FEATURES.index(name)]


def test_handover_physics_features_follow_the_propagation_scenario():
    """Same walk, shorter d_corr (UMi 13 m vs UMa 50 m) → more decorrelation lengths; no
    shadowing → no shadowing difference; static UEs → no walk; the margin is in σ units."""
    import dataclasses
    import math

    uma = _inputs()
    umi_sc = load_scenario("hex7-umi")
    umi = dataclasses.replace(uma, scenario=umi_sc, config=CellConfig.default(umi_sc))
    g_uma, g_umi = build_graph(uma), build_graph(umi)
    walk = uma.scenario.timing.mobility_s_per_superstep  # 1 m/s for that many seconds
    assert torch.allclose(_ue_column(g_uma, "walk_dcorr"), torch.tensor(math.log1p(walk / 50) / 3))
    assert torch.allclose(_ue_column(g_umi, "walk_dcorr"), torch.tensor(math.log1p(walk / 13) / 3))
    # σ_SF(UMa) LOS 4 / NLOS 6 dB, ρ = 0.5 → the difference of two sites: σ_SF in [4, 6]
    sd = _ue_column(g_uma, "shadow_diff") * 10
    assert sd.min() >= 4 - 1e-5 and sd.max() <= 6 + 1e-5
    margin = _ue_column(g_uma, "best_margin") * 10
    expect = (margin / sd.clamp_min(1)).clamp(max=10) / 10
    assert torch.allclose(_ue_column(g_uma, "margin_sigma"), expect, atol=1e-6)

    no_sf = dataclasses.replace(uma.scenario.propagation, shadowing=False)
    flat = dataclasses.replace(uma, scenario=dataclasses.replace(uma.scenario, propagation=no_sf))
    assert _ue_column(build_graph(flat), "shadow_diff").eq(0).all()
    still = dataclasses.replace(uma, ue_speed_mps=np.zeros(50))
    assert _ue_column(build_graph(still), "walk_dcorr").eq(0).all()


def test_prev_serving_is_the_phi_serving_cell_of_the_previous_config():
    """prev_serving (RSRP shifted by the power and tilt changes) equals Φ recomputed on the
    previous config, and the UEs it moves are counted as lost / gained by their cells."""
    from rantwin.scenarios.schedule import random_config

    rng = np.random.default_rng(3)
    inp = _inputs(n_ues=120)
    sc = inp.scenario
    st = ScenarioStatics(sc)
    for _ in range(3):
        now, before = random_config(sc, rng), random_config(sc, rng)
        moved_inp = SceneInputs(sc, now, inp.ue_xy_m, inp.ue_indoor, inp.ue_speed_mps,
                                0.6, 13.0, prev_config=before)  # fmt: skip
        got = phi_links(st, SceneBatch.of([moved_inp])).prev_serving
        old = SceneInputs(sc, before, inp.ue_xy_m, inp.ue_indoor, inp.ue_speed_mps, 0.6, 13.0)
        want = phi_links(st, SceneBatch.of([old])).serving
        assert torch.equal(got, want)
        g = build_graph(moved_inp, GraphConfig())
        moved = g["ue"].x[:, UE_FEATURES.index("phi_moved")]
        assert moved.sum() > 0  # random configs re-sort some UEs
        assert torch.equal(moved.bool(), (want != g["ue"].phi_serving)[0])
        scale = COUNT_SCALE
        lost = g["cell"].x[:, CELL_FEATURES.index("phi_lost")] * scale
        gained = g["cell"].x[:, CELL_FEATURES.index("phi_gained")] * scale
        torch.testing.assert_close(lost.sum(), moved.sum())
        torch.testing.assert_close(gained.sum(), moved.sum())
        want_lost = torch.bincount(want[0][moved.bool()], minlength=sc.n_cells).float()
        torch.testing.assert_close(lost, want_lost)
    held = build_graph(SceneInputs(sc, now, inp.ue_xy_m, inp.ue_indoor, inp.ue_speed_mps, 0.6,
                                   13.0, prev_config=now), GraphConfig())  # fmt: skip
    assert held["ue"].x[:, UE_FEATURES.index("phi_moved")].sum() == 0


def test_links_name_the_previous_serving_cell():
    """was_serving marks the link from each UE's Φ serving cell under the previous config."""
    from rantwin.scenarios.schedule import random_config
    from rantwin.surrogate.graph import LINK_FEATURES

    rng = np.random.default_rng(5)
    inp = _inputs(n_ues=120)
    sc = inp.scenario
    before = random_config(sc, rng)
    moved_inp = SceneInputs(sc, random_config(sc, rng), inp.ue_xy_m, inp.ue_indoor,
                            inp.ue_speed_mps, 0.6, 13.0, prev_config=before)  # fmt: skip
    g = build_graph(moved_inp, GraphConfig())
    prev = phi_links(ScenarioStatics(sc), SceneBatch.of([moved_inp])).prev_serving[0]
    col = LINK_FEATURES.index("was_serving")
    for et in (("cell", "serves", "ue"), ("cell", "interferes", "ue")):
        c, u = g[et].edge_index
        assert torch.equal(g[et].edge_attr[:, col].bool(), prev[u] == c)
    moved = g["ue"].x[:, UE_FEATURES.index("phi_moved")].bool()
    c, u = g["cell", "serves", "ue"].edge_index
    assert torch.equal(g["cell", "serves", "ue"].edge_attr[u.argsort(), col].bool(), ~moved)


def test_fair_share_is_the_binomial_mean_of_one_over_the_active_count():
    from rantwin.surrogate.graph import fair_share

    rng = np.random.default_rng(0)
    for n, p in ((1, 0.3), (2, 0.45), (10, 0.45), (20, 0.9), (5, 1.0)):
        k = rng.binomial(n - 1, p, 400_000)  # the other served UEs that are active
        want = float(np.mean(1 / (1 + k)))
        got = float(fair_share(torch.tensor([n]), torch.tensor([p]))[0])
        assert abs(got - want) < 2e-3, (n, p, got, want)
    # no load or a lone UE: the whole cell; a cell Φ serves nobody is clamped to n = 1
    got = fair_share(torch.tensor([8, 1, 0]), torch.tensor([0.0, 0.7, 0.5]))
    assert got.tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)


def test_cio_biased_probability_is_zero_with_equal_cios_and_follows_the_closed_form():
    import dataclasses
    import math

    from rantwin.surrogate.graph import LINK_FEATURES, cio_biased_p

    inp = _inputs(n_ues=80, seed=3)
    i_ue, i_link = UE_FEATURES.index("p_cio_biased"), LINK_FEATURES.index("p_cio_biased")
    g = build_graph(inp)
    assert g["ue"].x[:, i_ue].eq(0).all()  # default config: every CIO 0
    assert g["cell", "interferes", "ue"].edge_attr[:, i_link].eq(0).all()
    cio = np.linspace(-6, 6, 21)
    biased = dataclasses.replace(inp, config=inp.config.replace(inp.scenario, cio_db=cio))
    g = build_graph(biased)
    p_ue = g["ue"].x[:, i_ue]
    assert (p_ue >= 0).all() and (p_ue <= 1).all() and (p_ue > 0.05).any()
    assert g["cell", "serves", "ue"].edge_attr[:, i_link].eq(0).all()  # the serving link
    # one link by hand: Φ RSRP difference d, CIO difference e, shadowing difference sigma
    batch = SceneBatch.of([biased])
    st = ScenarioStatics(biased.scenario)
    phi = phi_links(st, batch)
    sigma = torch.full((80,), 6.0)
    p = cio_biased_p(phi, batch.knob("cio_db"), st.site, sigma)
    u = int(p_ue.argmax())
    s = int(phi.serving[0, u])
    c = next(c for c in range(21) if st.site[c] != st.site[s] and phi.awake[0, c])
    d = float(phi.rsrp_dbm[0, c, u] - phi.rsrp_dbm[0, s, u])
    e = float(cio[c] - cio[s])

    def ndtr(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    assert float(p[0, c, u]) == pytest.approx(abs(ndtr(-d / 6) - ndtr(-(d + e) / 6)), abs=1e-5)
