"""Benchmark of the system-level simulator (issue #3 figures).

Measures, in one run on this machine, for ``hex7-uma`` and ``hex19-uma``:

- time per super-step and UE-TTIs per second (UEs × TTIs of the window / wall time);
- how cost grows from hex7 to hex19 (ratio of time per super-step, next to the ratio of
  UEs and of UEs × cells);
- ``--batch B`` hex7 episodes stepped together (``Simulator.step_many``, what the simulator
  backend and batch-mode rollouts do): time per episode-step and the ratio to one episode
  at a time, both measured in this run (0 skips it);
- the median and 5th-percentile wideband SINR of hex7-uma under full buffer;
- the top of the profile (cProfile, cumulative) of a hex7 super-step with ``--profile``.

Usage: ``python -m rantwin.bench.simulator [--steps N] [--batch B] [--profile] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time

import numpy as np
import torch

from rantwin.allocator import tune_allocator
from rantwin.simulator import Simulator


def bench_scenario(name: str, steps: int, seed: int = 0) -> dict:
    """Time ``steps`` super-steps after one warm-up step; collect SINR samples."""
    sim = Simulator(name)
    cfg = sim.default_config()
    t0 = time.perf_counter()
    state = sim.reset(seed)
    t_reset = time.perf_counter() - t0
    state, _ = sim.step(state, cfg)  # warm-up
    sinr, times = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        state, rep = sim.step(state, cfg)
        times.append(time.perf_counter() - t0)
        sinr.append(rep.sinr_db[rep.active])
    per_step = float(np.median(times))
    n_ttis = sim.scenario.timing.ttis_per_superstep
    s = np.concatenate(sinr)
    return {
        "scenario": name,
        "n_cells": sim.n_cells,
        "n_ues": sim.n_ues,
        "ttis_per_superstep": n_ttis,
        "reset_s": round(t_reset, 3),
        "superstep_s_median": round(per_step, 4),
        "ue_ttis_per_s": round(sim.n_ues * n_ttis / per_step),
        "sinr_db_p5": round(float(np.percentile(s, 5)), 2),
        "sinr_db_p50": round(float(np.percentile(s, 50)), 2),
    }


def bench_batched(name: str, batch: int, steps: int) -> dict:
    """Time ``steps`` super-steps of ``batch`` episodes stepped together, after a warm-up."""
    sim = Simulator(name)
    cfg = sim.default_config()
    states = [s for s, _ in sim.step_many([sim.reset(b) for b in range(batch)], [cfg] * batch)]
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        states = [s for s, _ in sim.step_many(states, [cfg] * batch)]
        times.append(time.perf_counter() - t0)
    per_step = float(np.median(times))
    return {
        "episodes": batch,
        "superstep_s_median": round(per_step, 4),
        "superstep_s_per_episode": round(per_step / batch, 4),
    }


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Run the benchmark and print a JSON summary."""
    ap = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--steps", type=int, default=5, help="timed super-steps per scenario")
    ap.add_argument(
        "--batch", type=int, default=16, help="hex7 episodes stepped together (0: skip)"
    )
    ap.add_argument("--profile", action="store_true", help="print a cProfile of hex7-uma")
    ap.add_argument("--json", help="write the summary here too")
    args = ap.parse_args(argv)
    tuned = tune_allocator()  # before any backend, so both run with the same allocator
    out = {"torch_threads": torch.get_num_threads(), "allocator_tuned": tuned}
    h7 = bench_scenario("hex7-uma", args.steps)
    h19 = bench_scenario("hex19-uma", max(2, args.steps // 2))
    out["hex7-uma"], out["hex19-uma"] = h7, h19
    out["growth"] = {
        "time_per_superstep": round(h19["superstep_s_median"] / h7["superstep_s_median"], 2),
        "ues": round(h19["n_ues"] / h7["n_ues"], 2),
        "ues_x_cells": round(h19["n_ues"] * h19["n_cells"] / (h7["n_ues"] * h7["n_cells"]), 2),
    }
    if args.batch < 0:
        ap.error(f"--batch must be >= 0, got {args.batch}")
    if args.batch:
        bat = bench_batched("hex7-uma", args.batch, args.steps)
        single = bench_scenario("hex7-uma", args.steps)["superstep_s_median"]  # same conditions
        bat["single_superstep_s_median"] = single
        bat["speedup_vs_single"] = round(single / bat["superstep_s_per_episode"], 2)
        out["hex7-uma_batched"] = bat
    if args.profile:
        sim = Simulator("hex7-uma")
        state = sim.reset(0)
        cfg = sim.default_config()
        prof = cProfile.Profile()
        prof.enable()
        sim.step(state, cfg)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
        print(buf.getvalue())
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
