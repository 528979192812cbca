"""Train parameter-shared PPO on the PettingZoo env with Ray RLlib (optional extra ``rllib``).

The env is :func:`rantwin.envs.parallel_env` (one agent per cell) wrapped in RLlib's
``ParallelPettingZooEnv``; every cell agent maps to one policy, ``"shared"``, so a single
network acts for all cells (any scenario size works, as in ``rantwin train-agent``'s
``cell-agents`` mode). Ray runs locally (``ray.init(num_cpus=...)``); by default sampling and
learning both happen in the driver process (``num_env_runners=0``, one local learner), which
is the fastest set-up on a laptop for an env this cheap.

Ray is not a dependency of rantwin: install it with ``pip install 'rantwin[rllib]'``. Without
it, :func:`train_rllib` raises ``ImportError`` with that hint; nothing else of the package
imports Ray.

Uses RLlib's new API stack (``PPOConfig().environment(...).env_runners(...).multi_agent(...)``,
``build_algo()``, ``result["env_runners"]["episode_return_mean"]``, ``save_to_path``), as in
Ray 2.60. The episode return RLlib reports is the sum over all cell agents of their
rewards over the episode.

Run it with ``python -m rantwin.agents.rllib_train --iterations 2``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_NAME",
    "INSTALL_HINT",
    "POLICY_ID",
    "RllibConfig",
    "main",
    "make_env",
    "train_rllib",
]

INSTALL_HINT = "Ray RLlib is not installed: pip install 'rantwin[rllib]'"
ENV_NAME = "rantwin_parallel_v0"
POLICY_ID = "shared"


@dataclass(frozen=True)
class RllibConfig:
    """Arguments of an RLlib training run (every one is a flag of :func:`main`).

    Attributes:
        scenario: Built-in scenario name or YAML path (a string, so the env config stays
            small and serialisable for remote env runners).
        backend: ``"surrogate"`` (the twin, default) or ``"simulator"``.
        episode_steps: Super-steps per episode.
        iterations: RLlib training iterations (``algo.train()`` calls).
        seed: Seed of RLlib (policy init, env runners and their episodes).
        num_cpus: CPUs given to the local Ray instance.
        reward_mode: ``"local"`` (each cell's own reward, default) or ``"shared"`` (the
            network reward for every cell).
        knobs: Knobs to control (``None``: all of the scenario's).
        out: Folder for an RLlib checkpoint after the last iteration (``None``: none).
        train_batch_size: Agent steps sampled per iteration (an env step is one agent step
            per cell: 1024 is about 7 episodes of 7 steps on the 21 cells of hex7-uma).
        minibatch_size: PPO minibatch size in agent steps (at most ``train_batch_size``).
        num_epochs: PPO epochs over each iteration's batch.
        lr: Adam step size.
        gamma: Discount factor.
        hidden: Width of the two hidden layers of the policy and value networks.
        num_env_runners: Remote env runners (0: sample in the driver process).
        torch_threads: ``torch.set_num_threads`` in the driver during training (``None``:
            leave as is). One thread is much faster for the small tensors of one env.
    """

    scenario: str = "hex7-uma"
    backend: str = "surrogate"
    episode_steps: int = 7
    iterations: int = 5
    seed: int = 0
    num_cpus: int = 2
    reward_mode: str = "local"
    knobs: tuple[str, ...] | None = None
    out: str | None = None
    train_batch_size: int = 1024
    minibatch_size: int = 256
    num_epochs: int = 4
    lr: float = 3e-4
    gamma: float = 0.9
    hidden: int = 64
    num_env_runners: int = 0
    torch_threads: int | None = 1

    def __post_init__(self) -> None:
        if self.backend not in ("surrogate", "simulator"):
            raise ValueError(f"backend must be 'surrogate' or 'simulator', got {self.backend!r}")
        if self.reward_mode not in ("shared", "local"):
            raise ValueError(f"reward_mode must be 'shared' or 'local', got {self.reward_mode!r}")
        counts = ("episode_steps", "iterations", "num_cpus", "train_batch_size")
        for name in (*counts, "minibatch_size", "num_epochs", "hidden"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if isinstance(self.num_env_runners, bool) or self.num_env_runners < 0:
            raise ValueError(
                f"num_env_runners must be an integer >= 0, got {self.num_env_runners!r}"
            )
        if self.minibatch_size > self.train_batch_size:
            raise ValueError(
                f"minibatch_size must be <= train_batch_size ({self.train_batch_size}), "
                f"got {self.minibatch_size}"
            )
        if self.torch_threads is not None and self.torch_threads < 1:
            raise ValueError(f"torch_threads must be >= 1 or None, got {self.torch_threads!r}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        if not self.lr > 0.0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.knobs is not None:
            object.__setattr__(self, "knobs", tuple(self.knobs))

    def env_config(self) -> dict[str, Any]:
        """Keyword arguments of :func:`rantwin.envs.parallel_env` (RLlib's ``env_config``)."""
        cfg: dict[str, Any] = {
            "scenario": self.scenario,
            "backend": self.backend,
            "episode_steps": self.episode_steps,
            "reward_mode": self.reward_mode,
        }
        if self.knobs is not None:
            cfg["knobs"] = list(self.knobs)
        return cfg


def _import_ray() -> Any:
    """``ray``, or ``ImportError`` with the install hint when Ray RLlib is missing."""
    try:
        import ray
        import ray.rllib  # noqa: F401  (the extra installs both; check the RLlib part too)
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    return ray


def make_env(env_config: Mapping[str, Any]) -> Any:
    """RLlib env creator: ``ParallelPettingZooEnv(parallel_env(**env_config))``."""
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    from rantwin.envs import parallel_env

    return ParallelPettingZooEnv(parallel_env(**dict(env_config)))


def _shared_policy(agent_id: Hashable, episode: Any, *args: Any, **kwargs: Any) -> str:
    """Policy mapping: every cell agent uses the one shared policy."""
    return POLICY_ID


def _episode_return(result: Mapping[str, Any]) -> float:
    """Mean episode return of one ``algo.train()`` result (NaN when no episode ended)."""
    runners = result.get("env_runners", {})
    for key in ("episode_return_mean", "episode_reward_mean"):
        if key in runners:
            return float(runners[key])
    return math.nan


def train_rllib(config: RllibConfig) -> dict[str, Any]:
    """Train parameter-shared PPO with RLlib on a local Ray instance.

    Args:
        config: The run's arguments.

    Returns:
        ``{"iterations": n, "returns": [...], "seconds": t, "checkpoint": path or None}``:
        ``returns`` holds RLlib's mean episode return after each iteration (summed over the
        cell agents; RLlib averages it over the last ``metrics_num_episodes_for_smoothing``
        = 100 episodes; NaN while no episode has ended), ``seconds`` the wall time of the
        iterations (not of Ray's start-up).

    Raises:
        ImportError: Ray RLlib is not installed (the message says how to install it).
    """
    ray = _import_ray()
    import torch
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    started = not ray.is_initialized()
    ray.init(num_cpus=config.num_cpus, include_dashboard=False, ignore_reinit_error=True)
    threads = torch.get_num_threads()
    if config.torch_threads is not None:
        torch.set_num_threads(config.torch_threads)
    algo = None
    try:
        register_env(ENV_NAME, make_env)
        ppo = (
            PPOConfig()
            .environment(ENV_NAME, env_config=config.env_config())
            .env_runners(num_env_runners=config.num_env_runners, num_envs_per_env_runner=1)
            .multi_agent(
                policies={POLICY_ID},
                policy_mapping_fn=_shared_policy,
                count_steps_by="agent_steps",  # batch sizes count cell decisions
            )
            .training(
                train_batch_size_per_learner=config.train_batch_size,
                minibatch_size=config.minibatch_size,
                num_epochs=config.num_epochs,
                lr=config.lr,
                gamma=config.gamma,
            )
            .rl_module(model_config={"fcnet_hiddens": [config.hidden, config.hidden]})
            .debugging(seed=config.seed)
        )
        build = getattr(ppo, "build_algo", None) or ppo.build  # older Ray: build()
        algo = build()
        returns: list[float] = []
        t0 = time.perf_counter()
        for _ in range(config.iterations):
            returns.append(_episode_return(algo.train()))
        seconds = time.perf_counter() - t0
        checkpoint = None
        if config.out is not None:
            out = Path(config.out).resolve()
            out.mkdir(parents=True, exist_ok=True)
            checkpoint = str(algo.save_to_path(str(out)))
        return {
            "iterations": config.iterations,
            "returns": returns,
            "seconds": seconds,
            "checkpoint": checkpoint,
        }
    finally:
        if algo is not None:
            algo.stop()
        torch.set_num_threads(threads)
        if started:  # leave a Ray instance the caller started alone
            ray.shutdown()


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Command line: ``python -m rantwin.agents.rllib_train [--iterations N] ...``."""
    d = RllibConfig()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default=d.scenario, help="built-in name or YAML path")
    ap.add_argument("--backend", default=d.backend, choices=("surrogate", "simulator"))
    ap.add_argument("--episode-steps", type=int, default=d.episode_steps)
    ap.add_argument("--iterations", type=int, default=d.iterations)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--num-cpus", type=int, default=d.num_cpus)
    ap.add_argument("--reward-mode", default=d.reward_mode, choices=("local", "shared"))
    ap.add_argument("--knobs", nargs="+", default=None, help="knobs to control (default: all)")
    ap.add_argument("--out", default=None, help="folder for an RLlib checkpoint")
    ap.add_argument("--train-batch-size", type=int, default=d.train_batch_size)
    ap.add_argument("--minibatch-size", type=int, default=d.minibatch_size)
    ap.add_argument("--num-epochs", type=int, default=d.num_epochs)
    ap.add_argument("--lr", type=float, default=d.lr)
    ap.add_argument("--gamma", type=float, default=d.gamma)
    ap.add_argument("--hidden", type=int, default=d.hidden)
    ap.add_argument("--num-env-runners", type=int, default=d.num_env_runners)
    ap.add_argument("--torch-threads", type=int, default=d.torch_threads)
    args = vars(ap.parse_args(argv))
    config = RllibConfig(**{f: args[f] for f in asdict(d)})
    res = train_rllib(config)
    for i, r in enumerate(res["returns"], 1):
        print(f"iteration {i}: mean episode return {r:.4f}")
    print(f"{res['iterations']} iterations in {res['seconds']:.1f} s")
    if res["checkpoint"]:
        print(f"checkpoint: {res['checkpoint']}")
    return res


if __name__ == "__main__":
    main()
