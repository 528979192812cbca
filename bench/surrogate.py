"""Speed of the twin against the simulator (issue #4 figures), measured in one run.

- simulator: seconds per super-step of ``hex7-uma`` (after a warm-up step);
- twin, one scene: Φ features + graph + one sample of ``hex7-uma`` (what one env step costs),
  the median of ten times as many calls as the batched rows (a call is ~10 ms);
- twin, batched: ``B`` scenes of ``hex7-uma`` per call (B = 64, 256), UE-super-steps per
  second = B · n_ues / seconds per call;
- where a one-scene step goes: the graph alone (``Twin.graphs``: Φ, the walk's crossings,
  the features and the ``HeteroData``) and the network alone (``TwinModel.draws`` on that
  graph: backbone, prior and heads of one draw); the rest of the step is the draws and the
  KPIs (``single_parts``);
- the same twin rows with ``compile=True`` (:mod:`rantwin.surrogate.compiled`; its one-off
  first calls, where it compiles, reported apart as ``compiled_first_calls_s``), unless
  ``--no-compile``.

With ``--device cuda`` (or ``cuda:1``, …) the twin rows run on that device (each call timed
to the end of its GPU work); the simulator row stays on the CPU, as the simulator does.

Usage: ``python -m rantwin.bench.surrogate --checkpoint DIR [--checkpoint DIR2 …] [--threads N]
[--device DEV] [--no-progress]``. A progress bar and each finished size go to stderr.
Every further ``--checkpoint`` is measured in the same run (its rows prefixed ``ckpt1_``,
``ckpt2_``, …), so two twins (say, two graph configurations) compare side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

from rantwin.allocator import tune_allocator
from rantwin.envs.backends.surrogate import MEAS_PERIOD_S
from rantwin.scenarios import CellConfig, load_scenario
from rantwin.scenarios.mobility import PopulationSampler, walk
from rantwin.simulator import Simulator
from rantwin.surrogate.features import ScenarioStatics, SceneBatch, SceneInputs, phi_links
from rantwin.surrogate.twin import Twin, resolve_device

SINGLE_FACTOR = 10  # timed one-scene calls per repetition of the batched rows


def _scenes(name: str, b: int, seed: int = 0) -> SceneBatch:
    """``b`` scenes of a scenario as an environment steps them.

    The UEs are dropped, then walked one super-step, with the walk's start known: the Φ
    crossings of :mod:`rantwin.surrogate.path` are part of the cost. As in the surrogate
    backend, the start's Φ serving cell comes from the previous super-step (here computed
    while setting up, outside the timing).
    """
    sc = load_scenario(name)
    population = PopulationSampler(sc)
    g = torch.Generator().manual_seed(seed)
    cfg = CellConfig.default(sc)
    n_points = max(1, round(sc.timing.mobility_s_per_superstep / MEAS_PERIOD_S))
    statics = ScenarioStatics(sc)
    scenes = []
    for _ in range(b):
        pop = population.draw(g)
        path, _ = walk(g, population.area, pop.xy_m, pop.waypoint_m, pop.speed_mps,
                       MEAS_PERIOD_S, n_points)  # fmt: skip
        start = SceneInputs(sc, cfg, pop.xy_m.numpy(), pop.indoor.numpy(),
                            pop.speed_mps.numpy(), 0.7, 20.0)  # fmt: skip
        scenes.append(
            dataclasses.replace(
                start, ue_xy_m=path[-1].numpy(), prev_ue_xy_m=start.ue_xy_m,
                prev_ue_serving=phi_links(statics, SceneBatch.of([start])).serving[0].numpy(),
            )
        )  # fmt: skip
    return SceneBatch.of(scenes)


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _sync(twin: Twin) -> None:
    """Wait for the twin's device: CUDA kernels run asynchronously (time them, not their launch)."""
    if twin.device.type == "cuda":
        torch.cuda.synchronize(twin.device)


def _step(twin: Twin, scenes: SceneBatch, g: torch.Generator) -> None:
    """One super-step of ``scenes`` through the twin, to the end of its device's work."""
    twin.sample(twin.graphs(scenes), 1, g)
    _sync(twin)


def _single_parts(twin: Twin, one: SceneBatch, g: torch.Generator, repeats: int) -> dict:
    """Median seconds of the graph alone and of the network alone, for one scene.

    **Output:** ``{"graph_s": ..., "network_s": ...}``: ``Twin.graphs`` of the scene, and
    the network's path (``twin.paths.draws``, compiled for a compiled twin) on that graph
    with one latent draw, each to the end of its device's work.
    """
    batch = twin.graphs(one)
    eps = torch.randn((1, 1, twin.model.cfg.latent_dim), generator=g).to(twin.device)

    def graph() -> None:
        twin.graphs(one)
        _sync(twin)

    def network() -> None:
        twin.paths.draws(batch, eps, 1)
        _sync(twin)

    with torch.no_grad():
        network()  # warm-up (and compilation)
        graph_s = _median_time(graph, repeats)
        network_s = _median_time(network, repeats)
    return {"graph_s": graph_s, "network_s": network_s}


def _twin_rows(
    twin: Twin, out: dict, tag: str, repeats: int, sim_s: float, bar: tqdm | None = None
) -> None:
    """Single-scene and batched rows of one twin into ``out`` (keys prefixed by ``tag``).

    ``bar``: a progress bar advanced by one per size (1, 64, 256 scenes), each finished size
    written beside it.
    """
    g = torch.Generator().manual_seed(0)
    warm = 0.0  # the first call of each size: warm-up, and compilation for a compiled twin
    one = _scenes("hex7-uma", 1)
    warm += _median_time(lambda: _step(twin, one, g), 1)
    # a one-scene call is ~10 ms: ten times the repetitions, for a median a busy machine's
    # hiccups do not move
    t1 = _median_time(lambda: _step(twin, one, g), SINGLE_FACTOR * repeats)
    out[f"{tag}twin_s_per_superstep_single"] = t1
    out[f"{tag}speedup_single"] = sim_s / t1
    parts = _single_parts(twin, one, g, SINGLE_FACTOR * repeats)
    out[f"{tag}single_graph_s"] = parts["graph_s"]
    out[f"{tag}single_network_s"] = parts["network_s"]
    _advance(
        bar,
        f"{tag}one scene: {t1 * 1e3:.1f} ms ({sim_s / t1:.1f}x the simulator; graph "
        f"{parts['graph_s'] * 1e3:.1f} ms, network {parts['network_s'] * 1e3:.1f} ms)",
    )
    n_ues = one.n_ues
    for b in (64, 256):
        scenes = _scenes("hex7-uma", b, seed=b)
        # warm-up: first touch of this size's memory (and a recompilation)
        warm += _median_time(lambda s=scenes: _step(twin, s, g), 1)
        tb = _median_time(lambda s=scenes: _step(twin, s, g), max(3, repeats // 2))
        out[f"{tag}twin_batch{b}_s_per_call"] = tb
        out[f"{tag}twin_batch{b}_ue_superstep_per_s"] = b * n_ues / tb
        out[f"{tag}speedup_batch{b}_per_scene"] = sim_s / (tb / b)
        _advance(bar, f"{tag}{b} scenes: {b * n_ues / tb:,.0f} UE-super-steps/s")
    out[f"{tag}first_calls_s"] = warm


def _advance(bar: tqdm | None, line: str) -> None:
    if bar is not None:
        bar.update()
        bar.write(line, file=sys.stderr)


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Measure and print a JSON summary with ratios."""
    ap = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument(
        "--checkpoint",
        action="append",
        required=True,
        help="twin checkpoint directory (repeat: further twins measured in the same run)",
    )
    ap.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads")
    ap.add_argument(
        "--repeats", type=int, default=5,
        help=f"timed repetitions (median; one-scene rows {SINGLE_FACTOR}x as many)",
    )  # fmt: skip
    ap.add_argument("--no-compile", action="store_true", help="skip the compiled-twin rows")
    ap.add_argument(
        "--device", default="cpu", help="device of the twin rows (cpu, cuda, cuda:1, …)"
    )
    ap.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = ap.parse_args(argv)
    device = resolve_device(args.device)  # a clear error before the minutes of measuring
    tuned = tune_allocator()  # before any backend, so both run with the same allocator
    torch.set_num_threads(args.threads)
    out: dict = {"threads": args.threads, "allocator_tuned": tuned, "twin_device": str(device)}
    sim = Simulator("hex7-uma")
    cfg = sim.default_config()
    state, _ = sim.step(sim.reset(0), cfg)
    out["simulator_s_per_superstep"] = _median_time(lambda: sim.step(state, cfg), args.repeats)
    tags = [("", False)] + ([] if args.no_compile else [("compiled_", True)])
    bar = None if args.no_progress else tqdm(
        total=3 * len(tags) * len(args.checkpoint), desc="twin rows", file=sys.stderr
    )  # fmt: skip
    for i, ckpt in enumerate(args.checkpoint):
        prefix = f"ckpt{i}_" if i else ""
        out[f"{prefix}checkpoint"] = ckpt
        for tag, compiled in tags:
            tw = Twin.load(ckpt, compile=compiled, device=device)
            _twin_rows(tw, out, prefix + tag, args.repeats, out["simulator_s_per_superstep"], bar)
    if bar is not None:
        bar.close()
    print(
        json.dumps(
            {k: round(v, 5) if isinstance(v, float) else v for k, v in out.items()}, indent=2
        )
    )


if __name__ == "__main__":
    main()
