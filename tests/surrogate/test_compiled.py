"""Opt-in torch.compile of the twin's hot paths (Φ, features, network, quantiles, KPIs)."""

from __future__ import annotations

import warnings

import pytest
import torch

from rantwin.scenarios import CellConfig
from rantwin.scenarios.mobility import PopulationSampler
from rantwin.surrogate import compiled
from rantwin.surrogate.features import ScenarioStatics, SceneBatch, SceneInputs, phi_links
from rantwin.surrogate.graph import GraphConfig, build_batch
from rantwin.surrogate.model import TwinConfig, TwinModel
from rantwin.surrogate.twin import Twin
from tests.conftest import small_variant


def _twin(compile: bool) -> Twin:
    torch.manual_seed(0)
    model = TwinModel(TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2))
    return Twin(model, GraphConfig(), {}, compile=compile)


def _default_scenes(n: int, g: torch.Generator) -> SceneBatch:
    """``n`` scenes of the small test scenario under its default config."""
    sc = small_variant()
    pop = PopulationSampler(sc)
    scenes = []
    for _ in range(n):
        p = pop.draw(g)
        scenes.append(SceneInputs(sc, CellConfig.default(sc), p.xy_m.numpy(), p.indoor.numpy(),
                                  p.speed_mps.numpy(), 0.7, 20.0))  # fmt: skip
    return SceneBatch.of(scenes)


def test_eager_by_default_and_shared_with_a_head():
    twin = _twin(False)
    assert not twin.paths.compiled and twin.paths.phi is phi_links
    assert twin.with_head(None).paths is twin.paths


def test_compile_without_a_cxx_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    with pytest.raises(ValueError, match="compile=True needs a C\\+\\+ compiler"):
        _twin(True)


def test_inductor_options_use_the_cxx_wrapper_where_python_headers_are(monkeypatch, tmp_path):
    assert compiled._options("inductor") == {"cpp_wrapper": True}  # this machine has them
    assert compiled._options(lambda gm, inputs: gm) is None  # a test backend takes no options
    assert compiled._options("inductor", torch.device("cuda")) is None  # measured on CPU only
    monkeypatch.setattr(compiled.sysconfig, "get_paths", lambda: {"include": str(tmp_path)})
    assert compiled._options("inductor") is None  # no Python.h: the Python wrapper


def test_compiled_graph_and_network_are_one_graph_each():
    """Φ, the graph's features, the network (embedding, prior and every head of all
    draws), the quantile functions and the KPI fields compile to one graph each: nothing
    reads a tensor into Python inside them, and a compiled twin's sample runs them as is."""
    from torch._dynamo.testing import CompileCounter

    torch._dynamo.reset()
    g = torch.Generator().manual_seed(0)
    batch = _default_scenes(3, g)
    eager = _twin(False)
    counter = CompileCounter()
    paths = compiled.twin_paths(eager.model, True, backend=counter)
    st = ScenarioStatics(batch.scenario)
    graph = build_batch(st, batch, links=paths.phi, tensors=paths.graph)
    assert counter.frame_count == 2, "the compiled Φ or graph features were cut into pieces"
    ref_graph = build_batch(st, batch)
    assert torch.equal(graph["ue"].x, ref_graph["ue"].x)  # the traced graphs run as is
    eps = torch.randn(5, 3, 2, generator=g)
    with torch.no_grad():
        out, ref = paths.draws(graph, eps, 3), eager.model.draws(graph, eps, 3)
    assert counter.frame_count == 3, "the compiled network was cut into pieces"
    assert torch.equal(out.ue_q, ref.ue_q)
    twin = _twin(False)
    ref_sample = twin.sample(ref_graph, 5, torch.Generator().manual_seed(1))
    twin.paths = paths
    with torch.no_grad():
        sample = twin.sample(graph, 5, torch.Generator().manual_seed(1))
    # one graph for the quantile functions (UE and cell shapes alike), one for the KPIs
    assert counter.frame_count == 5, "the compiled quantiles or KPI fields were cut"
    for f in ("ue_rsrp_dbm", "ue_throughput_mbps", "cell_prb_util", "cell_energy_w"):
        assert torch.equal(getattr(sample, f), getattr(ref_sample, f)), f
    torch._dynamo.reset()


@pytest.mark.slow
def test_compiled_paths_match_eager():
    """Φ bitwise, graph and network to float32 rounding; compiled draws repeat bitwise."""
    batch = _default_scenes(4, torch.Generator().manual_seed(0))
    eager, comp = _twin(False), _twin(True)
    st = ScenarioStatics(batch.scenario)
    a, b = phi_links(st, batch), comp.paths.phi(st, batch)
    for f in ("rsrp_dbm", "sinr_db", "p_los", "serving"):
        assert torch.equal(getattr(a, f), getattr(b, f)), f
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an untrained twin extrapolates
        ge, gc = eager.graphs(batch), comp.graphs(batch)
        # the same edges; features to one float32 ulp (TorchInductor's log10, sin, cos)
        for et in ge.edge_types:
            assert torch.equal(ge[et].edge_index, gc[et].edge_index), et
        for nt in ("cell", "ue"):
            torch.testing.assert_close(gc[nt].x, ge[nt].x, rtol=1e-6, atol=1e-6)
        se = eager.sample(ge, 2, torch.Generator().manual_seed(1))
        s1 = comp.sample(gc, 2, torch.Generator().manual_seed(1))
        s2 = comp.sample(gc, 2, torch.Generator().manual_seed(1))
    assert torch.equal(s1.ue_sinr_db, s2.ue_sinr_db)
    torch.testing.assert_close(s1.ue_rsrp_dbm, se.ue_rsrp_dbm, atol=1e-3, rtol=0)


def test_compiled_phi_does_not_recompile_per_batch_size():
    """Φ compiles on tensors: after one dynamic graph, new batch sizes reuse it."""
    from torch._dynamo.testing import CompileCounter

    torch._dynamo.reset()
    sc = small_variant()
    pop = PopulationSampler(sc)
    g = torch.Generator().manual_seed(0)
    st = ScenarioStatics(sc)
    counter = CompileCounter()  # counts the frames dynamo compiles (no TorchInductor)
    paths = compiled.twin_paths(_twin(False).model, True, backend=counter)

    def batch(b: int) -> SceneBatch:
        scenes = []
        for _ in range(b):
            p = pop.draw(g)
            xy, indoor, speed = p.xy_m.numpy(), p.indoor.numpy(), p.speed_mps.numpy()
            scenes.append(SceneInputs(sc, CellConfig.default(sc), xy, indoor, speed, 0.7, 20.0))
        return SceneBatch.of(scenes)

    # sizes that equal no other axis (2 coordinates, 4 knobs, 7 sites or images): dynamo's
    # duck sizing would tie the batch size to such an axis and recompile once it differs
    first = batch(5)
    out = paths.phi(st, first)
    assert torch.equal(out.rsrp_dbm, phi_links(st, first).rsrp_dbm)  # the same function
    frames = counter.frame_count
    for b in (9, 13):
        paths.phi(st, batch(b))
    assert counter.frame_count == frames, "Φ recompiled for a new batch size"
    torch._dynamo.reset()


def _with_arrays(sc, arrays: str):
    """``sc`` with M×1 vertical arrays: none, M = 4 on every cell, or on the first site only."""
    import dataclasses

    if arrays == "none":
        return sc
    sites = []
    for i, site in enumerate(sc.deployment.sites):
        m = 4 if arrays == "all" or i == 0 else 1
        sectors = tuple(dataclasses.replace(s, n_vertical=m) for s in site.sectors)
        sites.append(dataclasses.replace(site, sectors=sectors))
    dep = dataclasses.replace(sc.deployment, sites=tuple(sites))
    return dataclasses.replace(sc, deployment=dep)


@pytest.mark.parametrize("arrays", ["none", "all", "first site"])
def test_compiled_phi_is_one_graph_and_checks_after_the_call(arrays):
    """No data-dependent check cuts the compiled Φ; it still warns, and equals eager Φ."""
    import dataclasses

    import numpy as np
    from torch._dynamo.testing import CompileCounter

    from rantwin.radio.pathloss import PathlossValidityWarning

    torch._dynamo.reset()
    # UEs at 30 m: outside 38.901 UMa's h_UT range (1.5–22.5 m), so Φ warns
    sc = _with_arrays(small_variant(**{"propagation.ue_height_m": 30.0}), arrays)
    pop = PopulationSampler(sc)
    g = torch.Generator().manual_seed(0)
    before = CellConfig.default(sc)
    power = np.asarray(before.power_offset_db, float).copy()
    power[:3] -= 6.0  # the first site 6 dB down, every cell 4° more tilt
    after = dataclasses.replace(
        before, tilt_deg=np.asarray(before.tilt_deg) + 4.0, power_offset_db=power
    )
    scenes = []
    for prev in (before, None):  # a tilt change, and a first step (no change)
        p = pop.draw(g)
        scenes.append(SceneInputs(sc, after, p.xy_m.numpy(), p.indoor.numpy(),
                                  p.speed_mps.numpy(), 0.7, 20.0, prev_config=prev))  # fmt: skip
    batch = SceneBatch.of(scenes)
    st = ScenarioStatics(sc)
    counter = CompileCounter()
    paths = compiled.twin_paths(_twin(False).model, True, backend=counter)
    with pytest.warns(PathlossValidityWarning, match="h_ut_m outside"):
        out = paths.phi(st, batch)
    if arrays != "first site":  # per-cell counts still branch on a tensor: several graphs
        assert counter.frame_count == 1, "the compiled Φ was cut into pieces"
    with pytest.warns(PathlossValidityWarning):
        ref = phi_links(st, batch)
    for f in ("rsrp_dbm", "sinr_db", "serving", "prev_serving"):
        assert torch.equal(getattr(out, f), getattr(ref, f)), f
    assert not torch.equal(ref.prev_serving[0], ref.serving[0])  # the change moved UEs
    torch._dynamo.reset()
