"""Benchmark of the envs (issue #5 figures): env-steps/s and UE-steps/s per backend.

Rows, for ``hex7-uma`` and ``hex19-uma``:

- simulator, single env (one ``RanControlEnv.step`` = one super-step of the oracle), and
  natively batched B = 16 (the 16 episodes in one ``Simulator.step_many``: what a batched
  evaluation on the simulator costs per env step);
- surrogate, single env and natively batched B = 64 / 256 (``RanControlVectorEnv``, one
  batched twin call per step, or chunks of at most ``MAX_UES_PER_CALL`` UEs) with the twin
  of ``--checkpoint`` (default: the bundled twin; printed as ``n/a: twin not available``
  when there is none). Speed depends on the twin's architecture, not its weights, so an
  untrained checkpoint of the same architecture times the same;
- surrogate B = 256 in one call however large (``max_ues_per_call=None``), next to the
  chunked row: what chunking buys (hex19-uma: 292k UEs per step).

With ``--compile``, the surrogate rows (single, B = 64, 256) again with ``compile=True``
(:mod:`rantwin.surrogate.compiled`), after a warm-up that compiles (its time reported as
``compile_warmup_s``).

With ``--device cuda`` (or ``cuda:1``, …) the surrogate rows run their twin on that device
(the simulator rows stay on the CPU, as the simulator does).

UE-steps/s = env-steps/s × UEs of the scenario; a row's time per step is the median of its
timed steps. Ratios surrogate / simulator single env are printed when both exist (targets:
≥ 100× single, ≥ 1000× batched); batched surrogate rows also get their ratio to the batched
simulator (``speedup_vs_simulator_batched``), the fairer comparison for batch work.

Usage: ``python -m rantwin.bench.envs [--steps N] [--checkpoint DIR] [--threads T]
[--compile] [--device DEV] [--scenario NAME ...] [--json OUT] [--no-progress]``.
A progress bar and each finished row go to stderr, the JSON to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

from rantwin.allocator import tune_allocator
from rantwin.envs import RanControlEnv, RanControlVectorEnv
from rantwin.surrogate.twin import resolve_device

#: (backend, batch, vector env, one twin call however large)
ROWS = (
    ("simulator", 1, False, False),
    ("simulator", 16, True, False),
    ("surrogate", 1, False, False),
    ("surrogate", 64, True, False),
    ("surrogate", 256, True, False),
    ("surrogate", 256, True, True),
)
NOT_AVAILABLE = "n/a: twin not available"
#: Single-env rows time this many times ``--steps`` env steps (a median of 3 steps of 20 ms
#: is at the mercy of one hiccup: it read 41 ms once where 30 steps read 21 ms).
SINGLE_FACTOR = 10


def run_row(
    scenario: str,
    backend: str,
    batch: int,
    vector: bool,
    steps: int,
    checkpoint: str | None = None,
    one_call: bool = False,
    compile: bool = False,
    device: str = "cpu",
) -> dict:
    """Time ``steps`` env steps (after one warm-up step) of one configuration.

    ``device``: where the surrogate backend's twin runs (an env step ends with its KPIs on
    the CPU, so the timing includes the device's work).
    """
    kw: dict[str, object] | None = None
    if backend == "surrogate":
        kw = {"checkpoint": checkpoint} if checkpoint else {}
        if one_call:
            kw["max_ues_per_call"] = None
        if compile:
            kw["compile"] = True
        if device != "cpu":
            kw["device"] = device
    if vector:
        env = RanControlVectorEnv(
            num_envs=batch, scenario=scenario, backend=backend, backend_kwargs=kw
        )
    else:
        env = RanControlEnv(scenario=scenario, backend=backend, backend_kwargs=kw)
    t0 = time.perf_counter()  # reset + first step: where a compiled twin compiles
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    shape = env.action_space.shape
    env.step(rng.uniform(-1, 1, shape).astype(np.float32))  # warm-up (compiles if compiled)
    warmup = time.perf_counter() - t0
    times = []
    for _ in range(steps):
        action = rng.uniform(-1, 1, shape).astype(np.float32)
        t0 = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        times.append(time.perf_counter() - t0)
        if not vector and (terminated or truncated):
            env.reset()
    per_step = float(np.median(times))  # robust to a hiccup of a shared machine
    env_steps = batch / per_step
    n_ues = env.scenario.ues.count
    return {
        "env_steps_per_s": round(env_steps, 3),
        "ue_steps_per_s": round(env_steps * n_ues, 1),
        "s_per_step": round(per_step, 4),
        "timed_steps": steps,
        **({"compile_warmup_s": round(warmup, 1)} if compile else {}),
    }


def bench(
    scenario: str,
    steps: int,
    checkpoint: str | None = None,
    compile: bool = False,
    device: str = "cpu",
    progress: bool = False,
) -> dict:
    """Every row of :data:`ROWS` for one scenario (and the compiled rows with ``compile``).

    ``device``: where the surrogate rows' twin runs. ``progress``: a bar on stderr, and each
    finished row printed there at once (an interrupted run keeps what it measured).
    """
    from rantwin.envs.backends.surrogate import default_checkpoint

    have_twin = checkpoint is not None or default_checkpoint() is not None
    plan = [(*row, False) for row in ROWS]  # (backend, batch, vector, one_call, compiled)
    if compile and have_twin:
        plan += [(b, n, v, False, True) for b, n, v, one in ROWS if b == "surrogate" and not one]
    out: dict[str, object] = {}
    bar = tqdm(plan, desc=scenario, unit="row", file=sys.stderr, disable=not progress)
    for backend, batch, vector, one_call, compiled in bar:
        key = f"{backend} B={batch}" if vector else f"{backend} single"
        key += " one call" if one_call else ""
        key += " compiled" if compiled else ""
        if backend == "surrogate" and not have_twin:
            out[key] = NOT_AVAILABLE
            continue
        bar.set_postfix_str(key)
        # a single env step is short: time SINGLE_FACTOR times as many steps
        n = steps if vector else steps * SINGLE_FACTOR
        dev = device if backend == "surrogate" else "cpu"
        out[key] = run_row(
            scenario, backend, batch, vector, n, checkpoint, one_call, compiled, device=dev
        )
        if progress:
            bar.write(f"{scenario} {key}: {out[key]}", file=sys.stderr)
    sim, sim_b = out["simulator single"], out["simulator B=16"]
    for key, row in out.items():
        if key.startswith("surrogate") and isinstance(row, dict) and isinstance(sim, dict):
            row["speedup_vs_simulator"] = round(row["env_steps_per_s"] / sim["env_steps_per_s"], 1)
            if "B=" in key and isinstance(sim_b, dict):
                ratio = row["env_steps_per_s"] / sim_b["env_steps_per_s"]
                row["speedup_vs_simulator_batched"] = round(ratio, 1)
    return out


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Run the benchmark and print a JSON summary."""
    ap = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument(
        "--steps", type=int, default=3, help="timed env steps per batched row (×10 single)"
    )
    ap.add_argument(
        "--checkpoint", default=None, help="twin checkpoint directory (default: the bundled twin)"
    )
    ap.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's choice)"
    )
    ap.add_argument("--compile", action="store_true", help="also the compiled-twin rows")
    ap.add_argument(
        "--device", default="cpu", help="device of the surrogate rows' twin (cpu, cuda, …)"
    )
    ap.add_argument(
        "--scenario", action="append", default=None,
        help="scenario to run (repeat; default: hex7-uma and hex19-uma)",
    )  # fmt: skip
    ap.add_argument("--json", help="write the summary here too")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = ap.parse_args(argv)
    device = str(resolve_device(args.device))  # a clear error before the minutes of measuring
    tuned = tune_allocator()  # before any backend, so both run with the same allocator
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    from rantwin.envs.backends.surrogate import default_checkpoint

    ckpt = args.checkpoint or default_checkpoint()
    out: dict[str, object] = {
        "torch_threads": torch.get_num_threads(),
        "allocator_tuned": tuned,
        "checkpoint": None if ckpt is None else str(ckpt),
        "twin_device": device,
    }
    for name in args.scenario or ("hex7-uma", "hex19-uma"):
        out[name] = bench(
            name, args.steps, args.checkpoint, args.compile, device, not args.no_progress
        )
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
