"""``rantwin rollout``: batch-mode rollouts of an env backend, written as a dataset.

Open-loop (fixed-action) rollouts of the simulator or the surrogate backend in the same
Parquet schema as ``rantwin simulate`` (``rantwin.envs.rollout``): one shard per episode ×
ensemble member, written atomically; an interrupted run is finished with ``--resume``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rantwin.agents.baselines import BASELINES
from rantwin.agents.compare import action_map, resolve_policy
from rantwin.envs.backend import BACKENDS
from rantwin.envs.rollout import RolloutArgs, run_rollout


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    p = sub.add_parser(
        "rollout",
        help="fixed-action rollouts of an env backend, written as a dataset",
        description=(
            "Roll out the simulator or the surrogate (twin) backend under a fixed action "
            "schedule and write the KPIs in the dataset schema of `rantwin simulate`. "
            "Episode e, member m is the shard w00000-e<e*members+m>; atomic shards, --resume."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--backend", default="simulator", choices=BACKENDS, help="env backend")
    p.add_argument(
        "--scenario", required=True, help="built-in scenario name (see `rantwin scenarios`) or YAML"
    )
    p.add_argument(
        "--actions",
        default="static",
        help="config schedule: 'static', 'random' (uniform in knob ranges), a YAML/JSON "
        "schedule file, or a closed-loop POLICY: a baseline name (mlb-cio, sleep, tilt-cco) or "
        "a trained-policy folder from `rantwin train-agent`",
    )
    p.add_argument(
        "--checkpoint",
        default=None,
        help="twin checkpoint directory for --backend surrogate (default: the bundled twin)",
    )
    p.add_argument("--members", type=int, default=1, help="ensemble members per episode")
    p.add_argument("--episodes", type=int, default=1, help="episodes")
    p.add_argument(
        "--steps", type=int, default=None, help="super-steps per episode (default: scenario's)"
    )
    p.add_argument("--seed", type=int, default=0, help="root seed (reproducible, bitwise)")
    p.add_argument("--batch", type=int, default=8, help="episodes per backend call")
    p.add_argument("--out", required=True, help="output directory (new or empty)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run from parsed CLI arguments."""
    policy = None
    is_policy_dir = Path(args.actions, "policy.json").is_file()
    if is_policy_dir or (args.actions in BASELINES and args.actions != "static"):
        policy = resolve_policy(args.actions, action_map(args.scenario))
    elif args.actions == "policy":
        raise ValueError("--actions policy: give a baseline name or a trained-policy folder")
    ra = RolloutArgs(
        backend=args.backend,
        scenario=args.scenario,
        actions="policy" if policy is not None else args.actions,
        members=args.members,
        episodes=args.episodes,
        steps=args.steps,
        seed=args.seed,
        out=args.out,
        resume=args.resume,
        batch=args.batch,
        checkpoint=args.checkpoint,
    )
    out = run_rollout(ra, progress=not args.no_progress, policy=policy)
    print(f"dataset written to {out}")
    return 0
