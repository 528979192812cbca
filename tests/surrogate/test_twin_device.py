"""The twin's device placement (``Twin(device=...)``): where tensors are made and drawn.

This machine may have no GPU, so the main check runs on the CPU with torch's default device
set to ``meta``: a tensor the graph build, Φ or the sampler made without naming its device
would land on ``meta`` and either fail to mix with the CPU tensors or carry no data. The twin
must give the same bits as under the usual default, which it can only do if every tensor is
made on the device of its inputs (where a GPU twin needs it) and every random number on the
CPU, where the caller's generators are.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest
import torch

from rantwin.envs.backends.surrogate import MEAS_PERIOD_S, default_checkpoint
from rantwin.scenarios import CellConfig, load_scenario
from rantwin.scenarios.mobility import PopulationSampler, walk
from rantwin.surrogate.features import ScenarioStatics, SceneBatch, SceneInputs
from rantwin.surrogate.slow import SlowState
from rantwin.surrogate.twin import Twin, TwinSample, resolve_device

needs_twin = pytest.mark.skipif(default_checkpoint() is None, reason="no bundled twin")


@contextlib.contextmanager
def default_device(device: str):
    torch.set_default_device(device)
    try:
        yield
    finally:
        torch.set_default_device(None)


def _inputs(name: str, b: int) -> list[SceneInputs]:
    """``b`` walked scenes of a scenario, with a config change (Φ crossings, config deltas)."""
    sc = load_scenario(name)
    population = PopulationSampler(sc)
    g = torch.Generator().manual_seed(3)
    prev = CellConfig.default(sc)
    cfg = dataclasses.replace(prev, tilt_deg=np.asarray(prev.tilt_deg) + 2.0)
    n_points = max(1, round(sc.timing.mobility_s_per_superstep / MEAS_PERIOD_S))
    scenes = []
    for _ in range(b):
        pop = population.draw(g)
        path, _ = walk(g, population.area, pop.xy_m, pop.waypoint_m, pop.speed_mps,
                       MEAS_PERIOD_S, n_points)  # fmt: skip
        scenes.append(
            SceneInputs(
                sc,
                cfg,
                path[-1].numpy(),
                pop.indoor.numpy(),
                pop.speed_mps.numpy(),
                0.6,
                13.0,
                prev_config=prev,
                prev_ue_xy_m=pop.xy_m.numpy(),
            )  # fmt: skip
        )
    return scenes


def _scenes(name: str, b: int) -> SceneBatch:
    return SceneBatch.of(_inputs(name, b))


def _draw(twin: Twin, scenes: SceneBatch) -> list[TwinSample]:
    """Per-scene and single-generator draws, per TTI, with and without a slow state."""
    graph = twin.graphs(scenes)
    n = graph["ue"].num_nodes
    gens = [torch.Generator().manual_seed(10 + b) for b in range(scenes.size)]
    first = twin.sample(graph, 3, gens, n_ttis=4)
    slow = None
    if twin.carries_state and first.ue_slow_score is not None:
        cpu = torch.device("cpu")  # the caller's state: CPU tensors, as the env backend's
        moved, d_corr = torch.full((n,), 12.0, device=cpu), torch.full((n,), 37.0, device=cpu)
        slow = SlowState(first.ue_slow_score.to(cpu), moved, d_corr)
    return [
        first,
        twin.sample(graph, 3, gens, slow=slow),
        twin.sample(graph, 2, torch.Generator().manual_seed(5), n_ttis=3),
    ]


def _assert_same(a: TwinSample, b: TwinSample) -> None:
    for f in dataclasses.fields(TwinSample):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert (x is None) == (y is None), f.name
        if x is not None:
            assert y.device == torch.device("cpu"), f.name
            assert torch.equal(x, y), f.name  # bit for bit


@needs_twin
@pytest.mark.parametrize("name", ["hex7-uma", "hetnet-macro-small"])
def test_every_tensor_is_made_where_its_inputs_are(name):
    scenes = _scenes(name, 2)
    ref = _draw(Twin.load(default_checkpoint()), scenes)
    twin = Twin.load(default_checkpoint())  # a fresh one: statics are built under meta too
    with default_device("meta"):
        got = _draw(twin, scenes)
    for a, b in zip(ref, got, strict=True):
        _assert_same(a, b)


@needs_twin
def test_single_scene_graphs_are_built_and_collated_on_the_cpu():
    """The path of data loaders and eval-surrogate: Twin.graph per scene, a list to sample."""
    inputs = _inputs("hex7-uma", 2)

    def draw(twin: Twin) -> TwinSample:
        graphs = [twin.graph(inp) for inp in inputs]
        return twin.sample(graphs, 2, [torch.Generator().manual_seed(b) for b in range(2)])

    ref = draw(Twin.load(default_checkpoint()))
    twin = Twin.load(default_checkpoint())
    with default_device("meta"):
        got = draw(twin)
    _assert_same(ref, got)


def test_device_names_are_checked():
    assert resolve_device(None) == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match=r"device='gpu0' is not a torch device"):
        resolve_device("gpu0")
    with pytest.raises(ValueError, match=r"device='meta': the twin runs on 'cpu', 'cuda' or"):
        resolve_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"device='cuda': this machine has no CUDA device"):
            resolve_device("cuda")
    else:
        n = torch.cuda.device_count()
        with pytest.raises(ValueError, match=rf"has {n} CUDA device"):
            resolve_device(f"cuda:{n}")


@needs_twin
def test_statics_scenes_and_samples_move_between_devices():
    scenes = _scenes("hex7-uma", 2)
    assert scenes.to("cpu") is scenes  # already there: no copy
    st = ScenarioStatics(scenes.scenario, "cpu")
    assert st.device == torch.device("cpu") and st.cell_xy_m.device == st.device
    twin = Twin.load(default_checkpoint(), device="cpu")
    assert twin.device == torch.device("cpu")
    assert next(twin.model.parameters()).device == twin.device
    s = twin.sample(twin.graphs(scenes), 2, torch.Generator().manual_seed(0))
    assert s.to("cpu") is s
    with pytest.raises(ValueError, match="device='cuda:99'"):
        Twin.load(default_checkpoint(), device="cuda:99")


@needs_twin
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_gpu_twin_draws_what_the_cpu_twin_draws_up_to_rounding():
    scenes = _scenes("hex7-uma", 3)
    cpu = _draw(Twin.load(default_checkpoint()), scenes)
    gpu = _draw(Twin.load(default_checkpoint(), device="cuda"), scenes)
    for a, b in zip(cpu, gpu, strict=True):
        b = b.to("cpu")
        assert torch.equal(a.ue_serving, b.ue_serving)  # Φ is float64 on both
        for name in ("ue_rsrp_dbm", "ue_sinr_db"):
            assert torch.allclose(getattr(a, name), getattr(b, name), atol=0.05), name
        # events compare uniforms with probabilities: a last-bit difference flips very few
        assert (a.ue_active != b.ue_active).float().mean() < 0.01
