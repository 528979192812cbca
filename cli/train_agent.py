"""``rantwin train-agent``: train an SB3 agent on the batched twin (or the simulator)."""

from __future__ import annotations

import argparse

from rantwin.agents.train import ALGOS, POLICIES, TrainConfig, train

#: ``--help`` of ``--twin-device`` (every verb that builds a surrogate-backend env).
TWIN_DEVICE_HELP = (
    "device the twin runs on (cpu, cuda, cuda:1, …); the UE walk, the random streams and the "
    "KPIs stay on the CPU, so a seed draws the same numbers on any device; results differ by "
    "float rounding only"
)


def add_twin_device(p: argparse.ArgumentParser, extra: str = "") -> None:
    """Add ``--twin-device DEVICE`` (default ``cpu``) to a verb's parser.

    Args:
        p: The verb's parser.
        extra: Text appended to :data:`TWIN_DEVICE_HELP` (which backend it applies to).
    """
    p.add_argument("--twin-device", metavar="DEVICE", default="cpu", help=TWIN_DEVICE_HELP + extra)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    d = TrainConfig()
    p = sub.add_parser(
        "train-agent",
        help="train an RL agent (stable-baselines3) on the twin or the simulator",
        description=(
            "Train PPO / A2C / SAC on a batched env (--n-envs envs, one backend call per "
            "step). Writes OUT/policy.safetensors + OUT/policy.json (the policy; no pickle), "
            "OUT/train_config.json, OUT/progress.csv, OUT/tb/ (TensorBoard), OUT/curve.json "
            "and OUT/learning_curve.png. Every --eval-every steps the policy is evaluated on "
            "held-out seeds and saved, so Ctrl-C keeps the last policy. --policy percell "
            "shares one head over cells and runs on scenarios of any size."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--algo", choices=ALGOS, default=d.algo, help="SB3 algorithm")
    p.add_argument("--scenario", default=d.scenario, help="built-in name or YAML path")
    p.add_argument(
        "--backend", choices=["surrogate", "simulator"], default=d.backend, help="env backend"
    )
    p.add_argument("--twin", default=None, help="twin checkpoint folder (None: the bundled twin)")
    p.add_argument(
        "--compile-twin",
        action="store_true",
        help="torch.compile the twin's Φ, graph features, network and KPI draws (surrogate "
        "backend): faster steps after a one-off compilation of a few minutes; needs a C++ compiler",
    )
    add_twin_device(p, " (--backend surrogate)")
    p.add_argument("--knobs", nargs="+", default=None, help="knobs to control (None: all)")
    p.add_argument(
        "--reward",
        nargs="+",
        default=None,
        metavar="NAME=W",
        help="reward weights over the scenario's, e.g. energy=0.5 (throughput, energy, "
        "coverage, handover, coverage_sinr_db)",
    )
    p.add_argument("--episode-steps", type=int, default=d.episode_steps, help="steps/episode")
    p.add_argument("--n-envs", type=int, default=d.n_envs, help="batched envs")
    p.add_argument("--timesteps", type=int, default=d.timesteps, help="total env steps")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the run")
    p.add_argument("--policy", choices=POLICIES, default=d.policy, help="policy network")
    p.add_argument(
        "--local-weight",
        type=float,
        default=d.local_weight,
        help="cell-agents: weight of the cell's local reward (0 = network reward only)",
    )
    p.add_argument("--n-neighbours", type=int, default=d.n_neighbours, help="cell-agents")
    p.add_argument("--hidden", type=int, default=d.hidden, help="hidden width")
    p.add_argument("--log-std-init", type=float, default=d.log_std_init, help="initial log-std")
    p.add_argument("--lr", type=float, default=d.learning_rate, help="learning rate")
    p.add_argument("--n-steps", type=int, default=d.n_steps, help="rollout steps per env")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="minibatch size")
    p.add_argument("--n-epochs", type=int, default=d.n_epochs, help="PPO epochs per update")
    p.add_argument("--gamma", type=float, default=d.gamma, help="discount factor")
    p.add_argument("--ent-coef", type=float, default=d.ent_coef, help="entropy bonus")
    p.add_argument("--eval-every", type=int, default=d.eval_every, help="0: only at the end")
    p.add_argument("--eval-episodes", type=int, default=d.eval_episodes, help="held-out eps")
    p.add_argument("--eval-seed", type=int, default=d.eval_seed, help="first held-out seed")
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.add_argument(
        "--sb3-defaults",
        action="store_true",
        help="SB3's default hyper-parameters (except n_envs): how fps figures are measured",
    )
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def parse_weights(items: list[str] | None) -> dict[str, float] | None:
    """``["energy=0.5", ...]`` → ``{"energy": 0.5}`` (names are checked by the env)."""
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--reward {item!r}: expected NAME=NUMBER, e.g. energy=0.5") from None
    return out


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of parsed ``rantwin train-agent`` arguments."""
    return TrainConfig(
        algo=args.algo,
        scenario=args.scenario,
        backend=args.backend,
        twin=args.twin,
        compile_twin=args.compile_twin,
        twin_device=args.twin_device,
        knobs=tuple(args.knobs) if args.knobs else None,
        reward=parse_weights(args.reward),
        episode_steps=args.episode_steps,
        n_envs=args.n_envs,
        timesteps=args.timesteps,
        seed=args.seed,
        policy=args.policy,
        local_weight=args.local_weight,
        n_neighbours=args.n_neighbours,
        hidden=args.hidden,
        log_std_init=args.log_std_init,
        learning_rate=args.lr,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        gamma=args.gamma,
        ent_coef=args.ent_coef,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        eval_seed=args.eval_seed,
        torch_threads=args.threads,
        sb3_defaults=args.sb3_defaults,
    )


def run(args: argparse.Namespace) -> int:
    """Train and report."""
    config = config_from_args(args)
    result = train(config, args.out, progress=not args.no_progress)
    curve = result.curve
    last = curve["eval_returns"][-1] if curve["eval_returns"] else []
    held = f"; held-out return {sum(last) / len(last):.3f}" if last else ""
    state = "interrupted" if result.interrupted else "done"
    print(
        f"{state}: {result.steps} steps in {result.seconds:.0f} s ({result.fps:.0f} fps){held}; "
        f"policy in {result.out}"
    )
    return 0
