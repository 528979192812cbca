"""Benchmark of the envs (issue #5 figures): env-steps/s and UE-steps/s per backend.

Rows, for ``hex7-uma`` and ``hex19-uma``:

- simulator, single env (one ``RanControlEnv.step`` = one super-step of the oracle);
- surrogate, single env and natively batched B = 64 / 256 (``RanControlVectorEnv``) —
  printed as ``n/a: twin not available`` until the surrogate backend is plugged in
  (``rantwin.envs.backend.make_backend``); then ``run_row`` measures them unchanged.

UE-steps/s = env-steps/s × UEs of the scenario. Ratios surrogate / simulator are printed
when both exist (targets: ≥ 100× single, ≥ 1000× batched).

Usage: ``python -m rantwin.bench.envs [--steps N] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from rantwin.envs import RanControlEnv, RanControlVectorEnv

ROWS = (
    ("simulator", 1, False),
    ("surrogate", 1, False),
    ("surrogate", 64, True),
    ("surrogate", 256, True),
)
NOT_AVAILABLE = "n/a: twin not available"


def run_row(scenario: str, backend: str, batch: int, vector: bool, steps: int) -> dict:
    """Time ``steps`` env steps (after one warm-up step) of one configuration."""
    if vector:
        env = RanControlVectorEnv(num_envs=batch, scenario=scenario, backend=backend)
    else:
        env = RanControlEnv(scenario=scenario, backend=backend)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    shape = env.action_space.shape
    env.step(rng.uniform(-1, 1, shape).astype(np.float32))  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(rng.uniform(-1, 1, shape).astype(np.float32))
    wall = time.perf_counter() - t0
    env_steps = steps * batch / wall
    n_ues = env.scenario.ues.count
    return {
        "env_steps_per_s": round(env_steps, 3),
        "ue_steps_per_s": round(env_steps * n_ues, 1),
        "s_per_step": round(wall / steps, 4),
    }


def bench(scenario: str, steps: int) -> dict:
    """Every row of :data:`ROWS` for one scenario."""
    out: dict[str, object] = {}
    for backend, batch, vector in ROWS:
        key = f"{backend} B={batch}" if vector else f"{backend} single"
        try:
            out[key] = run_row(scenario, backend, batch, vector, steps)
        except ValueError as exc:
            if backend != "surrogate" or "not available" not in str(exc):
                raise
            out[key] = NOT_AVAILABLE
    sim = out["simulator single"]
    for key, row in out.items():
        if key.startswith("surrogate") and isinstance(row, dict) and isinstance(sim, dict):
            row["speedup_vs_simulator"] = round(row["env_steps_per_s"] / sim["env_steps_per_s"], 1)
    return out


def main() -> None:
    """Run the benchmark and print a JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steps", type=int, default=3, help="timed env steps per row")
    ap.add_argument("--json", help="write the summary here too")
    args = ap.parse_args()
    out: dict[str, object] = {"torch_threads": torch.get_num_threads()}
    for name in ("hex7-uma", "hex19-uma"):
        out[name] = bench(name, args.steps)
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
