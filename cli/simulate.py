"""``rantwin simulate``: run the simulator and write a dataset (sharded Parquet + manifest).

One shard is one world × one episode. Shards are written atomically, so an interrupted run
(even ``kill -9``) is finished with ``--resume``: completed shards are kept, the others are
redone from their own seeds, and the result is identical to an uninterrupted run.

The episodes of a world are simulated ``--batch`` at a time in one
:meth:`~rantwin.simulator.Simulator.step_many` call per super-step (bit for bit the same
shards as one at a time; an interruption loses at most the batch in flight).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rantwin.datasets import DatasetWriter
from rantwin.scenarios import (
    FAMILIES,
    Scenario,
    load_scenario,
    sample_deployment,
    scenario_hash,
    scenario_to_dict,
)
from rantwin.scenarios.schedule import SCHEDULE_KEYWORDS, ActionSchedule, load_schedule
from rantwin.simulator import Simulator, report_tables


@dataclass(frozen=True)
class SimulateArgs:
    """Arguments of a simulation run (also stored in the dataset manifest).

    Attributes:
        scenario: Built-in name or YAML path (exclusive with ``family``).
        family: A ``sample_deployment`` family: one random world per ``--worlds``.
        worlds: Number of worlds (only with ``family``).
        episodes: Episodes per world.
        steps: Super-steps per episode (``None``: the scenario's ``steps_per_episode``).
        actions: A keyword of ``scenarios.schedule.SCHEDULE_KEYWORDS`` or a schedule file.
        seed: Root seed; world, episode and action seeds derive from it.
        out: Output directory.
        resume: Finish an interrupted run in ``out``.
        plots: Write CDF and map figures into ``out/plots``.
        replicas: Episodes of a world replay episode 0's scene (same UE placement, mobility
            and configs) with independent shadowing, LOS, O2I, traffic and fading: the
            simulator's own spread, the floor against which the twin is graded.
        start_hour: Hour of day of every world's step 0 (``"6.5"``), ``"random"`` (each world
            draws one on a 15-minute grid from its own stream: data over the whole day), or
            ``None`` (the scenario's own ``timing.start_hour``).
        batch: Episodes of a world simulated together (speed only: the shards do not
            depend on it).
    """

    scenario: str | None
    family: str | None
    worlds: int
    episodes: int
    steps: int | None
    actions: str
    seed: int
    out: str
    resume: bool = False
    plots: bool = False
    replicas: bool = False
    start_hour: str | None = None
    batch: int = 8

    def manifest_config(self) -> dict:
        """What identifies the dataset's content (not ``resume``, ``plots``, ``out``, ``batch``)."""
        d = asdict(self)
        for key in ("resume", "plots", "out", "batch"):
            d.pop(key)
        if self.start_hour is None:
            d.pop("start_hour")  # manifests written before the option existed still resume
        if self.scenario is not None and Path(self.scenario).is_file():
            d["scenario"] = str(Path(self.scenario).resolve())  # one spelling per file
        if self.actions not in SCHEDULE_KEYWORDS:
            # a schedule file is named by path: record its content too, so that resuming
            # after the file was edited is refused instead of mixing two schedules
            d["actions_sha256"] = hashlib.sha256(Path(self.actions).read_bytes()).hexdigest()
        return d


def world_scenario(args: SimulateArgs, world: int) -> Scenario:
    """The scenario of ``world``: the named one, or a random world of the family.

    With ``start_hour`` its step 0 is moved to that hour (drawn from the world's own stream
    for ``"random"``, so the family's layouts do not change).
    """
    if args.family is not None:
        rng = np.random.default_rng([args.seed, world, 0x57])
        sc = sample_deployment(rng, args.family)
    else:
        sc = load_scenario(args.scenario)
    if args.start_hour is None:
        return sc
    if args.start_hour == "random":
        hour = float(np.random.default_rng([args.seed, world, 0x48]).integers(0, 96)) / 4.0
    else:
        hour = float(args.start_hour)
    return dataclasses.replace(sc, timing=dataclasses.replace(sc.timing, start_hour=hour))


def episode_seed(seed: int, world: int, episode: int) -> int:
    """Simulator seed of one (world, episode), independent of every other pair."""
    return int(np.random.SeedSequence([seed, world, episode]).generate_state(1)[0])


def check(args: SimulateArgs) -> None:
    """Reject bad arguments with a message naming the option, the value and the rule."""
    if (args.scenario is None) == (args.family is None):
        raise ValueError("give exactly one of --scenario NAME|FILE and --family FAMILY")
    if args.family is not None and args.family not in FAMILIES:
        raise ValueError(
            f"--family {args.family!r} is unknown; valid families: {', '.join(FAMILIES)}"
        )
    if args.scenario is not None and args.worlds != 1:
        raise ValueError(f"--worlds {args.worlds}: only with --family (a scenario is one world)")
    for name in ("worlds", "episodes", "batch"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.start_hour is not None and args.start_hour != "random":
        try:
            hour = float(args.start_hour)
        except ValueError:
            hour = float("nan")
        if not 0.0 <= hour < 24.0:
            raise ValueError(
                f"--start-hour must be 'random' or an hour in [0, 24), got {args.start_hour!r}"
            )


def run_simulation(args: SimulateArgs, progress: bool = True) -> Path:
    """Simulate every (world, episode) not yet in ``args.out`` and write its shard.

    Returns:
        The dataset directory.
    """
    check(args)
    schedule = load_schedule(args.actions)
    scenarios = [world_scenario(args, w) for w in range(args.worlds)]  # validates first
    steps = [args.steps or sc.timing.steps_per_episode for sc in scenarios]
    if schedule.kind == "file":
        # a schedule file is checked against each world (cell count, knob ranges) before
        # anything is written, so a bad file leaves no half-made dataset behind
        for sc, n in zip(scenarios, steps, strict=True):
            schedule.configs(sc, n, np.random.default_rng(0))
    out = Path(args.out)
    writer = DatasetWriter(out, run_config=args.manifest_config(), resume=args.resume)
    done = writer.completed_shards()
    total = sum(s * args.episodes for s in steps)
    bar = tqdm(total=total, desc="simulate", unit="step", disable=not progress, dynamic_ncols=True)
    for w, sc in enumerate(scenarios):
        writer.write_world(w, scenario_to_dict(sc), scenario_hash(sc))
        todo = [e for e in range(args.episodes) if f"w{w:05d}-e{e:04d}" not in done]
        bar.update(steps[w] * (args.episodes - len(todo)))
        if not todo:
            continue
        sim = Simulator(sc)
        for i in range(0, len(todo), args.batch):
            chunk = todo[i : i + args.batch]
            for e, tables in zip(
                chunk, _simulate_chunk(args, sim, schedule, w, chunk, steps[w], bar), strict=True
            ):
                writer.write_shard(w, e, tables)
    bar.close()
    writer.finalize()
    if args.plots:
        from .plots import dataset_plots

        dataset_plots(out, out / "plots")
    return out


def _simulate_chunk(
    args: SimulateArgs,
    sim: Simulator,
    schedule: ActionSchedule,
    world: int,
    chunk: list[int],
    n_steps: int,
    bar: tqdm,
) -> list[dict[str, dict[str, np.ndarray]]]:
    """The tables of episodes ``chunk`` of ``world``, stepped together."""
    configs, states = [], []
    for e in chunk:
        e_scene = 0 if args.replicas else e
        rng = np.random.default_rng([args.seed, world, e_scene, 0xAC])
        configs.append(schedule.configs(sim.scenario, n_steps, rng))
        scene_seed = episode_seed(args.seed, world, 0) + 1 if args.replicas else None
        states.append(sim.reset(episode_seed(args.seed, world, e), configs[-1][0], scene_seed))
    parts: list[dict[str, list[dict[str, np.ndarray]]]] = [
        {"cells": [], "ues": [], "ue_tti": []} for _ in chunk
    ]
    for t in range(n_steps):
        out = sim.step_many(states, [c[t] for c in configs])
        states = [s for s, _ in out]
        for b, (e, (_, report)) in enumerate(zip(chunk, out, strict=True)):
            for name, cols in report_tables(report, world, e).items():
                parts[b][name].append(cols)
        bar.update(len(chunk))
    return [
        {name: {k: np.concatenate([p[k] for p in ps]) for k in ps[0]} for name, ps in part.items()}
        for part in parts
    ]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    p = sub.add_parser(
        "simulate",
        help="run the system-level simulator and write a dataset",
        description=(
            "Run the stochastic system-level simulator and write its per-super-step KPI "
            "reports as a dataset: sharded Parquet (cells, ues, ue_tti tables) plus "
            "manifest.json (docs/dataset-schema.md). One shard per world x episode, written "
            "atomically; an interrupted run is finished with --resume."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--scenario", help="built-in scenario name (see `rantwin scenarios`) or YAML")
    src.add_argument(
        "--family", help=f"random worlds from a deployment family: {', '.join(FAMILIES)}"
    )
    p.add_argument("--worlds", type=int, default=1, help="number of random worlds (--family)")
    p.add_argument("--episodes", type=int, default=1, help="episodes per world")
    p.add_argument(
        "--steps", type=int, default=None, help="super-steps per episode (default: scenario's)"
    )
    p.add_argument(
        "--actions",
        default="static",
        help="config schedule: 'static', 'random' (uniform in knob ranges), 'random-hold' (random "
        "configs held with probability 1/2 per step), 'random-default' (random-hold whose fresh "
        "configs are the default one with probability 1/4), 'random-knobwise' (random-default "
        "whose other fresh configs keep each knob at its default with probability 1/2) or a "
        "YAML/JSON file",
    )
    p.add_argument("--seed", type=int, default=0, help="root seed (reproducible, bitwise)")
    p.add_argument("--out", required=True, help="output directory (new or empty)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted run in --out")
    p.add_argument("--plots", action="store_true", help="write CDFs and a map into OUT/plots")
    p.add_argument(
        "--replicas",
        action="store_true",
        help="episodes replay one scene (same UEs, paths, configs) with independent radio "
        "randomness: the simulator's own spread, for grading the twin",
    )
    p.add_argument(
        "--start-hour",
        default=None,
        help="hour of day at step 0 of every world, or 'random' (one per world on a 15-min "
        "grid; default: the scenario's)",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=8,
        help="episodes of a world simulated together (faster; the dataset does not change)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run from parsed CLI arguments."""
    sa = SimulateArgs(
        scenario=args.scenario,
        family=args.family,
        worlds=args.worlds,
        episodes=args.episodes,
        steps=args.steps,
        actions=args.actions,
        seed=args.seed,
        out=args.out,
        resume=args.resume,
        plots=args.plots,
        replicas=args.replicas,
        start_hour=args.start_hour,
        batch=args.batch,
    )
    out = run_simulation(sa, progress=not args.no_progress)
    print(f"dataset written to {out}")
    return 0
