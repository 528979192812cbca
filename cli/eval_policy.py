"""``rantwin eval-policy``: policies under ensemble uncertainty, paired, on one or both backends."""

from __future__ import annotations

import argparse
from typing import Any

from rantwin.agents.baselines import BASELINES
from rantwin.agents.compare import run_benchmark, write_report

from .train_agent import add_twin_device, parse_weights


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    p = sub.add_parser(
        "eval-policy",
        help="evaluate policies (trained or baselines) under ensemble uncertainty",
        description=(
            "Evaluate one or more policies with the same episode seeds (common random "
            "numbers) on the twin ensemble and / or the simulator. Reports the distribution "
            "of returns and KPIs (mean, std, p10/p50/p90, CVaR 10 %), the paired difference "
            "of every policy against --reference (bootstrap CI, TOST equivalence within "
            "--margin), and with --backend both the sim-to-twin gap (PIT of the simulator's "
            "return under the twin's ensemble, gain retention). Writes REPORT/summary.md, "
            "REPORT/report.json and PNG plots. "
            f"Baselines: {', '.join(BASELINES)}; a trained policy is a folder from "
            "`rantwin train-agent`."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--policy",
        action="append",
        required=True,
        help="baseline name or trained-policy folder (repeat for several)",
    )
    p.add_argument("--scenario", default="hex7-uma", help="built-in name or YAML path")
    p.add_argument(
        "--backend",
        choices=["surrogate", "simulator", "both"],
        default="surrogate",
        help="where to evaluate ('both' adds the sim-to-twin gap)",
    )
    p.add_argument("--twin", default=None, help="twin checkpoint folder (None: the bundled twin)")
    p.add_argument(
        "--diffusion",
        metavar="HEAD",
        default=None,
        help="draw the twin's continuous KPIs with this diffusion head (`rantwin "
        "train-surrogate --head diffusion`, trained on that twin) instead of its quantile heads",
    )
    add_twin_device(p, " (--backend surrogate or both; the simulator runs on the CPU)")
    p.add_argument("--knobs", nargs="+", default=None, help="knobs the env controls (None: all)")
    p.add_argument(
        "--reward", nargs="+", default=None, metavar="NAME=W", help="reward weights (energy=0.5)"
    )
    p.add_argument("--episode-steps", type=int, default=7, help="super-steps per episode")
    p.add_argument("--members", type=int, default=32, help="twin ensemble members per episode")
    p.add_argument("--sim-members", type=int, default=1, help="simulator runs per episode")
    p.add_argument("--episodes", type=int, default=16, help="episodes (paired seeds)")
    p.add_argument("--seed", type=int, default=2_000_000, help="first episode seed")
    p.add_argument("--reference", default="static", help="policy the others are compared with")
    p.add_argument("--margin", type=float, default=0.05, help="TOST margin on the return")
    p.add_argument("--report", required=True, help="report folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def env_kwargs_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Env arguments (no backend) of parsed ``rantwin eval-policy`` arguments.

    ``backend_kwargs`` (twin checkpoint, diffusion head, device) are for the twin:
    :func:`~rantwin.agents.compare.run_benchmark` drops them for the simulator.

    Raises:
        ValueError: ``--twin-device`` other than cpu with ``--backend simulator``.
    """
    env_kwargs: dict[str, Any] = {"scenario": args.scenario, "episode_steps": args.episode_steps}
    if args.knobs:
        env_kwargs["knobs"] = list(args.knobs)
    if args.reward:
        env_kwargs["reward"] = parse_weights(args.reward)
    if args.twin_device != "cpu" and args.backend == "simulator":
        raise ValueError(
            f"--twin-device is for --backend surrogate or both, got --backend {args.backend}"
        )
    if args.twin or args.diffusion or args.twin_device != "cpu":
        env_kwargs["backend_kwargs"] = {"checkpoint": args.twin, "diffusion_head": args.diffusion}
        if args.twin_device != "cpu":  # run_benchmark drops backend_kwargs for the simulator
            env_kwargs["backend_kwargs"]["device"] = args.twin_device
    return env_kwargs


def run(args: argparse.Namespace) -> int:
    """Evaluate and write the report."""
    env_kwargs = env_kwargs_from_args(args)
    backends = ("surrogate", "simulator") if args.backend == "both" else (args.backend,)
    bench = run_benchmark(
        args.policy,
        env_kwargs,
        backends=backends,
        members={"surrogate": args.members, "simulator": args.sim_members},
        episodes=args.episodes,
        seed=args.seed,
        reference=args.reference,
        margin=args.margin,
        progress=not args.no_progress,
    )
    path = write_report(bench, args.report, title=f"Policy evaluation on {args.scenario}")
    for backend, cs in bench.comparisons.items():
        for c in cs:
            print(f"[{backend}] {c.describe()}")
    for name, v in bench.retention.items():
        print(f"{name}: keeps {v:.0%} of its twin gain on the simulator")
    print(f"report: {path}")
    return 0
