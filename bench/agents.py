"""Benchmark of SB3 PPO throughput on the batched twin (issue #6 figure: ≥ 10 × 189 fps).

The reference is mobile-env's small scenario with default PPO (189 fps on this kind of
machine). Measured the same way: SB3 ``PPO`` with its **default hyper-parameters** except
``n_envs`` (``n_steps = 2048`` per env, batch 64, 10 epochs), for one full rollout and
update, and fps as SB3 logs it (``time/fps`` in ``progress.csv``: timesteps over the wall
time of ``learn``, training included). Rows:

- ``single-agent``: the flat ``MlpPolicy`` over the whole network (``SB3VecEnv``; one
  timestep = one env step of 21 cells);
- ``cell-agents``: parameter-shared PPO (``CellAgentsVecEnv``; SB3 counts one timestep per
  cell, i.e. 21 per env step — the unit of a multi-agent env).

``--compile-twin`` runs the rows on the compiled twin (:mod:`rantwin.surrogate.compiled`; its
compilation counts in SB3's fps, as it would in a training run) and ``--twin-device cuda`` on a
GPU twin.

Usage: ``python -m rantwin.bench.agents [--n-envs 16] [--agent-envs 12] [--rollouts 1]
[--threads 2] [--modes ...] [--compile-twin] [--twin-device DEV] [--json OUT]
[--no-progress]``. It takes a few minutes; run it on an idle machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path

import torch

from rantwin.agents.train import TrainConfig, train
from rantwin.allocator import tune_allocator

MOBILE_ENV_FPS = 189.0


def run_row(
    policy: str,
    n_envs: int,
    rollouts: int,
    scenario: str,
    compile_twin: bool = False,
    twin_device: str = "cpu",
    progress: bool = False,
) -> dict:
    """Train default PPO for ``rollouts`` rollouts; SB3's logged fps and our env steps/s.

    ``progress``: SB3's progress bar over the row's timesteps.
    """
    per_env = 21 if policy == "cell-agents" else 1
    sb3_envs = n_envs * per_env
    steps = 2048 * n_envs * rollouts  # env steps: 2048 SB3 steps per slot per rollout
    cfg = TrainConfig(
        scenario=scenario,
        policy=policy if policy == "cell-agents" else "mlp",
        n_envs=n_envs,
        timesteps=steps,
        sb3_defaults=True,
        eval_every=0,
        eval_episodes=1,
        compile_twin=compile_twin,
        twin_device=twin_device,
    )
    with tempfile.TemporaryDirectory() as tmp:
        res = train(cfg, tmp, progress=progress)
        with open(Path(tmp) / "progress.csv") as f:
            rows = list(csv.DictReader(f))
    fps = [float(r["time/fps"]) for r in rows if r.get("time/fps")]
    return {
        "policy": policy,
        "twin": ("compiled" if compile_twin else "eager") + f", {twin_device}",
        "n_envs": n_envs,
        "sb3_envs": sb3_envs,
        "timesteps_sb3": res.steps * per_env,
        "sb3_fps": fps[-1] if fps else res.sb3_fps,
        "env_steps_per_s": res.fps,
        "ratio_vs_mobile_env": (fps[-1] if fps else res.sb3_fps) / MOBILE_ENV_FPS,
    }


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Print the table (and write JSON)."""
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="hex7-uma")
    ap.add_argument("--n-envs", type=int, default=16, help="batched twin envs")
    ap.add_argument("--agent-envs", type=int, default=12, help="batched twin envs for cell-agents")
    ap.add_argument("--rollouts", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--modes", nargs="+", default=["single-agent", "cell-agents"], help="rows to run"
    )
    ap.add_argument("--compile-twin", action="store_true", help="torch.compile the twin")
    ap.add_argument("--twin-device", default="cpu", help="device of the twin (cpu, cuda, …)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    tuned = tune_allocator()  # before any backend, so both run with the same allocator
    torch.set_num_threads(args.threads)
    envs = {"single-agent": args.n_envs, "cell-agents": args.agent_envs}
    rows = [
        run_row(m, envs[m], args.rollouts, args.scenario, args.compile_twin, args.twin_device,
                progress=not args.no_progress)
        for m in args.modes
    ]  # fmt: skip
    print(f"allocator tuned: {tuned} (rantwin.allocator; RANTWIN_MALLOC=system to compare)")
    print("| mode | twin | twin envs | SB3 envs | SB3 fps | env steps/s | × 189 fps |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['policy']} | {r['twin']} | {r['n_envs']} | {r['sb3_envs']} | "
            f"{r['sb3_fps']:.0f} | {r['env_steps_per_s']:.0f} | {r['ratio_vs_mobile_env']:.1f} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
