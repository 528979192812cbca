"""``rantwin rollout``: batch-mode rollouts of an env backend, written as a dataset.

Open-loop (fixed-action) rollouts of the simulator or the surrogate backend in the same
Parquet schema as ``rantwin simulate`` (``rantwin.envs.rollout``): one shard per episode ×
ensemble member, written atomically; an interrupted run is finished with ``--resume``.

``--format minari`` instead writes a Minari offline-RL dataset (observations, actions,
rewards, terminations, truncations, scalar infos of ``rantwin/RanControl-v0``) with the id
``--dataset-id`` under the datasets root ``--out`` (``rantwin.envs.minari_export``; needs
the extra ``pip install 'rantwin[minari]'``; no ``--resume``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rantwin.agents.baselines import BASELINES
from rantwin.agents.compare import action_map, resolve_policy
from rantwin.envs.backend import BACKENDS
from rantwin.envs.rollout import RolloutArgs, run_rollout

from .train_agent import add_twin_device

FORMATS = ("parquet", "minari")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    p = sub.add_parser(
        "rollout",
        help="fixed-action rollouts of an env backend, written as a dataset",
        description=(
            "Roll out the simulator or the surrogate (twin) backend under a fixed action "
            "schedule and write the KPIs in the dataset schema of `rantwin simulate`. "
            "Episode e, member m is the shard w00000-e<e*members+m>; atomic shards, --resume. "
            "--format minari writes the env's transitions (observations, normalised actions, "
            "rewards, infos) as a Minari offline-RL dataset instead."
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
        help="config schedule: 'static', 'random' (uniform in knob ranges), 'random-hold', "
        "'random-default', 'random-knobwise', a YAML/JSON schedule file, or a closed-loop "
        "POLICY: a baseline name (mlb-cio, sleep, tilt-cco) or a trained-policy folder from "
        "`rantwin train-agent`",
    )
    p.add_argument(
        "--checkpoint",
        default=None,
        help="twin checkpoint directory for --backend surrogate (default: the bundled twin)",
    )
    p.add_argument(
        "--diffusion",
        metavar="HEAD",
        default=None,
        help="--backend surrogate: draw the continuous KPIs with this diffusion head "
        "(`rantwin train-surrogate --head diffusion`) instead of the twin's quantile heads",
    )
    add_twin_device(p, " (--backend surrogate)")
    p.add_argument("--members", type=int, default=1, help="ensemble members per episode")
    p.add_argument("--episodes", type=int, default=1, help="episodes")
    p.add_argument(
        "--steps", type=int, default=None, help="super-steps per episode (default: scenario's)"
    )
    p.add_argument("--seed", type=int, default=0, help="root seed (reproducible, bitwise)")
    p.add_argument("--batch", type=int, default=8, help="episodes per backend call")
    p.add_argument(
        "--out",
        required=True,
        help="output directory (new or empty); with --format minari the Minari datasets root "
        "(the dataset lands in OUT/<dataset-id>; load it with MINARI_DATASETS_PATH=OUT)",
    )
    p.add_argument(
        "--format",
        default="parquet",
        choices=FORMATS,
        help="parquet: the `rantwin simulate` dataset schema; minari: an offline-RL dataset of "
        "env transitions (pip install 'rantwin[minari]')",
    )
    p.add_argument(
        "--dataset-id",
        default=None,
        help="Minari dataset id namespace/name-v<version> for --format minari "
        "(default: rantwin/<scenario-name>-<backend>-v0)",
    )
    p.add_argument(
        "--resume", action="store_true", help="finish an interrupted run in --out (parquet only)"
    )
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
        diffusion_head=args.diffusion,
        twin_device=args.twin_device,
    )
    if args.format == "minari":
        return _run_minari(args, ra, policy)
    if args.dataset_id is not None:
        raise ValueError("--dataset-id is for --format minari, got --format parquet")
    out = run_rollout(ra, progress=not args.no_progress, policy=policy)
    print(f"dataset written to {out}")
    return 0


def _run_minari(args: argparse.Namespace, ra: RolloutArgs, policy: Any) -> int:
    """``--format minari``: write the rollouts as a Minari dataset under ``--out``."""
    from rantwin.cli.main import UsageError
    from rantwin.envs.minari_export import (
        INSTALL_HINT,
        check_dataset_id,
        default_dataset_id,
        write_minari,
    )
    from rantwin.scenarios import load_scenario

    if args.resume:
        raise ValueError("--resume is not supported with --format minari; write a new dataset")
    dataset_id = args.dataset_id
    if dataset_id is None:
        dataset_id = default_dataset_id(load_scenario(args.scenario).name, args.backend)
    check_dataset_id(dataset_id)
    try:
        path = write_minari(
            ra, dataset_id, Path(args.out), policy=policy, progress=not args.no_progress
        )
    except ImportError as exc:
        if str(exc) != INSTALL_HINT:
            raise
        raise UsageError(INSTALL_HINT) from exc  # the extra is missing: one line, exit code 2
    root = Path(args.out).resolve()
    print(f"Minari dataset {dataset_id} written to {path}")
    print(f"load it with: MINARI_DATASETS_PATH={root} and minari.load_dataset({dataset_id!r})")
    return 0
