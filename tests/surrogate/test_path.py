"""Φ crossings along the UEs' walks (rantwin.surrogate.path)."""

import dataclasses

import numpy as np
import pytest
import torch

from rantwin.datasets import open_dataset
from rantwin.scenarios import CellConfig, load_scenario, scenario_from_dict
from rantwin.surrogate.data import scene_inputs_and_targets
from rantwin.surrogate.features import ScenarioStatics, SceneBatch, SceneInputs, phi_links
from rantwin.surrogate.graph import CELL_FEATURES, UE_FEATURES, GraphConfig, build_batch
from rantwin.surrogate.path import path_crossings, serving_at


def _scene(start, end, config=None, prev=None):
    sc = load_scenario("hex7-uma")
    n = len(end)
    return SceneInputs(
        sc, config or CellConfig.default(sc), np.asarray(end, float), np.zeros(n, bool),
        np.full(n, 10.0), 0.5, 12.0, prev_config=prev,
        prev_ue_xy_m=None if start is None else np.asarray(start, float),
    )  # fmt: skip


def _crossings(inp, step_m=30.0, max_segments=10):
    st = ScenarioStatics(inp.scenario)
    scenes = SceneBatch.of([inp])
    return path_crossings(st, scenes, phi_links(st, scenes), step_m, max_segments)


def _cell_of(inp, xy):
    """Φ serving cell at points under the scene's config."""
    st = ScenarioStatics(inp.scenario)
    sb = SceneBatch.of([inp])
    tx = st.tx_nominal_dbm + sb.knob("power_offset_db")
    pts = torch.tensor(np.asarray(xy, float))[None]
    ind = torch.zeros(1, pts.shape[1], dtype=torch.bool)
    return serving_at(st, pts, ind, tx, sb.knob("tilt_deg"), sb.knob("cio_db"), ~sb.knob("sleep"))


def test_a_walk_through_cells_counts_every_change_of_the_serving_cell():
    start, end = [[-700.0, -40.0]], [[700.0, -40.0]]  # 1.4 km across the layout
    inp = _scene(start, end)
    w = _crossings(inp)
    # the reference: Φ's serving cell at the same 11 points (10 segments of 140 m)
    pts = np.linspace(start[0], end[0], 11)
    seq = _cell_of(inp, pts)[0].numpy()
    changes = int((seq[1:] != seq[:-1]).sum())
    assert changes >= 2
    assert float(w.ue_crossings[0, 0]) == changes
    expect_out = np.bincount(seq[:-1][seq[1:] != seq[:-1]], minlength=21)
    expect_in = np.bincount(seq[1:][seq[1:] != seq[:-1]], minlength=21)
    assert np.array_equal(w.cross_out[0].numpy(), expect_out)
    assert np.array_equal(w.cross_in[0].numpy(), expect_in)
    assert bool(w.known[0])
    # one segment sees only the start and end cells
    one = _crossings(inp, max_segments=1)
    assert float(one.ue_crossings[0, 0]) == float(seq[0] != seq[-1])


def test_unknown_start_or_no_move_leaves_only_the_config_change():
    end = [[300.0, 100.0], [-200.0, 50.0]]
    w = _crossings(_scene(None, end))
    assert not bool(w.known[0]) and float(w.ue_crossings.sum()) == 0
    still = _crossings(_scene(end, end))
    assert bool(still.known[0]) and float(still.ue_crossings.sum()) == 0
    # a UE that did not move but whose cell the config change switched crosses once
    sc = load_scenario("hex7-uma")
    base = CellConfig.default(sc)
    serving = int(_cell_of(_scene(None, end), end)[0, 0])
    asleep = np.zeros(sc.n_cells, bool)
    asleep[serving] = True
    w = _crossings(_scene(end, end, config=base.replace(sc, sleep=asleep), prev=base))
    assert float(w.ue_crossings[0, 0]) == 1 and float(w.cross_out[0, serving]) == 1


def test_the_start_cell_uses_the_previous_config():
    """The walk starts under the previous config (the injection is at the boundary)."""
    sc = load_scenario("hex7-uma")
    base = CellConfig.default(sc)
    start, end = [[-700.0, -40.0]], [[700.0, -40.0]]
    first = int(_cell_of(_scene(None, start), start)[0, 0])
    asleep = np.zeros(sc.n_cells, bool)
    asleep[first] = True
    now = base.replace(sc, sleep=asleep)
    w = _crossings(_scene(start, end, config=now, prev=base))
    assert float(w.cross_out[0, first]) >= 1  # it left the cell that served it at the start
    # with the same config before and after, the sleeping cell never served it
    held = _crossings(_scene(start, end, config=now, prev=now))
    assert float(held.cross_out[0, first]) == 0


def test_path_features_in_the_graph_are_batch_invariant():
    rng = np.random.default_rng(3)
    scenes = []
    for k in range(3):
        end = rng.uniform(-600, 600, (40, 2))
        start = end + rng.normal(0, 60 * (k + 1), (40, 2))  # walks of different lengths
        scenes.append(_scene(start if k != 1 else None, end))
    st = ScenarioStatics(scenes[0].scenario)
    batched = build_batch(st, SceneBatch.of(scenes))
    cols_c = [CELL_FEATURES.index(n) for n in ("path_out", "path_in", "path_known")]
    cols_u = [UE_FEATURES.index(n) for n in ("path_crossings", "path_known")]
    for k, inp in enumerate(scenes):
        alone = build_batch(ScenarioStatics(inp.scenario), SceneBatch.of([inp]))
        assert torch.equal(batched["cell"].x[k * 21 : (k + 1) * 21][:, cols_c],
                           alone["cell"].x[:, cols_c])  # fmt: skip
        assert torch.equal(batched["ue"].x[k * 40 : (k + 1) * 40][:, cols_u],
                           alone["ue"].x[:, cols_u])  # fmt: skip
    known = batched["cell"].x[:, cols_c[2]].reshape(3, 21)
    assert known[:, 0].tolist() == [1.0, 0.0, 1.0]
    assert float(batched["ue"].x[:, cols_u[0]].sum()) > 0


def test_dataset_graphs_know_every_walks_start(twin_dataset, twin_graphs):
    """The ues table records where each walk began, the first super-step included."""
    col = CELL_FEATURES.index("path_known")
    assert {int(g.scene[3]) for g in twin_graphs} == {0, 1, 2}
    assert all(float(g["cell"].x[0, col]) == 1.0 for g in twin_graphs)
    ds = open_dataset(twin_dataset)
    cells = {k: v.to_numpy() for k, v in zip(*_table(ds, "cells"), strict=True)}
    ues = {k: v.to_numpy() for k, v in zip(*_table(ds, "ues"), strict=True)}
    first = {k: v[(ues["step"] == 0) & (ues["world"] == 0) & (ues["episode"] == 0)]
             for k, v in ues.items()}  # fmt: skip
    c0 = {k: v[(cells["step"] == 0) & (cells["world"] == 0) & (cells["episode"] == 0)]
          for k, v in cells.items()}  # fmt: skip
    sc = next(iter(ds.worlds().values()))
    inp, _ = scene_inputs_and_targets(scenario_from_dict(sc), c0, first)
    order = np.argsort(first["ue"])
    start = np.stack([first["x_start_m"], first["y_start_m"]], -1)[order]
    assert np.array_equal(inp.prev_ue_xy_m, start.astype(float))
    assert not np.array_equal(inp.prev_ue_xy_m, inp.ue_xy_m)  # the UEs walked
    # rows without the start columns (e.g. a caller's own) leave the starts unknown
    bare = {k: v for k, v in first.items() if k not in ("x_start_m", "y_start_m")}
    inp, _ = scene_inputs_and_targets(scenario_from_dict(sc), c0, bare)
    assert inp.prev_ue_xy_m is None
    g = build_batch(ScenarioStatics(inp.scenario), SceneBatch.of([inp]))
    assert float(g["cell"].x[0, col]) == 0.0


def _table(ds, name):
    t = ds.table(name)
    return t.column_names, t.columns


def test_bad_walk_settings_and_starts_name_the_problem():
    with pytest.raises(ValueError, match="path_step_m"):
        GraphConfig(path_step_m=0.0)
    with pytest.raises(ValueError, match="path_max_segments"):
        GraphConfig(path_max_segments=-1)
    inp = _scene([[0.0, 0.0]], [[1.0, 1.0], [2.0, 2.0]])
    with pytest.raises(ValueError, match="prev_ue_xy_m"):
        SceneBatch.of([inp])
    bad = dataclasses.replace(inp, prev_ue_xy_m=np.array([[np.nan, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="ue_start_xy_m"):
        SceneBatch.of([bad])


def test_the_previous_steps_phi_cell_is_the_walks_start_cell():
    """Passing the previous super-step's Φ serving cells gives the same features, cheaper."""
    from rantwin.surrogate.graph import build_graph

    sc = load_scenario("hex7-uma")
    rng = np.random.default_rng(5)
    before = rng.uniform(-600, 600, (60, 2))
    after = before + rng.normal(0, 80, (60, 2))
    base = CellConfig.default(sc)
    now = base.replace(sc, cio_db=rng.uniform(-6, 6, sc.n_cells), tilt_deg=base.tilt_deg + 2)
    prev_graph = build_graph(_scene(None, before, config=base))
    fresh = _scene(before, after, config=now, prev=base)
    cached = dataclasses.replace(fresh, prev_ue_serving=prev_graph["ue"].phi_serving.numpy())
    for nt in ("cell", "ue"):
        assert torch.equal(build_graph(fresh)[nt].x, build_graph(cached)[nt].x)
    with pytest.raises(ValueError, match="prev_ue_serving"):
        SceneBatch.of([dataclasses.replace(fresh, prev_ue_serving=np.full(60, 99))])
