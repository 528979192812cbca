"""Train an SB3 agent on the batched env (twin by default): ``rantwin train-agent``.

:class:`TrainConfig` holds every documented argument (CleanRL style: the process is seeded
only here, through SB3's ``seed=``); :func:`train` builds the batched env
(:func:`~rantwin.envs.make_sb3_vec_env` under SB3's ``VecMonitor``), the algorithm and its
policy, and writes into ``out``:

- ``policy.safetensors`` + ``policy.json``: the trained policy (:mod:`.io`, no pickle),
  also written after every evaluation and on Ctrl-C, so an interrupted run keeps its last
  policy (the card says ``"interrupted": true`` and how many steps it had);
- ``train_config.json``: the config of the run;
- ``progress.csv`` and ``tb/``: SB3's logger (CSV and TensorBoard);
- ``curve.json``: training episode returns and held-out evaluation returns against steps
  (the learning curve, also ``learning_curve.png``).

Held-out evaluation: every ``eval_every`` steps the deterministic policy runs
``eval_episodes`` episodes with the fixed seeds ``eval_seed …`` (never used in training:
training seeds come from ``seed``) on the training backend.

Policies (``policy``):

- ``"cell-agents"`` (default): parameter-shared multi-agent training. Every cell of every
  batched env is one SB3 slot (:class:`~rantwin.envs.CellAgentsVecEnv`) observing what its
  PettingZoo agent observes (own row, neighbours' mean, network mean) with a reward that
  mixes its local reward and the network reward (``local_weight``); one ``MlpPolicy`` acts
  for every cell, on scenarios of any size. SB3 counts one step per cell: its fps is
  ``n_cells`` times the env steps per second.
- ``"percell"`` (:class:`~.percell.PerCellPolicy`): single agent over the whole network
  with one shared head per cell (the network reward only); PPO / A2C; any size.
- ``"mlp"``: SB3's flat ``MlpPolicy`` over the flattened network (required for SAC; only
  the trained cell count).

``timesteps`` counts env steps (super-steps summed over the batched envs) in every mode.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import CSVOutputFormat, Logger, TensorBoardOutputFormat
from stable_baselines3.common.vec_env import VecMonitor

from rantwin.envs import make_cell_agents_vec_env, make_sb3_vec_env
from rantwin.envs.sb3 import CellAgentsVecEnv, SB3VecEnv

from .baselines import make_baseline
from .evaluation import evaluate_policy
from .io import load_policy, save_policy
from .policy import check_counts, default_action

__all__ = ["ALGOS", "POLICIES", "TrainConfig", "TrainResult", "train"]

ALGOS = ("ppo", "a2c", "sac")
POLICIES = ("percell", "mlp", "cell-agents")
#: SB3's default Adam for each algorithm that uses it (PPO's policies set ``eps = 1e-5``,
#: SAC's keep torch's defaults), run as one fused kernel per step over all parameters
#: (``fused=True``): the same update rule and hyper-parameters, rounded differently. SB3
#: otherwise runs torch's per-tensor loop on the CPU, about ten small kernels per parameter
#: tensor per minibatch; on 2 cores the fused step cut the time of PPO's update by about a
#: quarter (cell agents) to a third (flat policy; ``bench/agents --update-ceiling``).
#: A2C keeps its RMSprop, which has no fused kernel.
ADAM_KWARGS: dict[str, dict[str, Any]] = {
    "ppo": {"eps": 1e-5, "fused": True},
    "sac": {"fused": True},
}


@dataclass(frozen=True)
class TrainConfig:
    """Arguments of a training run (every one is a ``rantwin train-agent`` flag).

    Attributes:
        algo: ``"ppo"``, ``"a2c"`` or ``"sac"``.
        scenario: Built-in scenario name or YAML path.
        backend: ``"surrogate"`` (the twin, default) or ``"simulator"``.
        twin: Twin checkpoint folder for the surrogate backend (``None``: bundled).
        compile_twin: ``torch.compile`` the twin's hot paths (``SurrogateBackend(compile=
            True)``, :mod:`rantwin.surrogate.compiled`): faster batched steps after a one-off
            compilation of a few minutes; worth it for long runs only.
        twin_device: Device the twin runs on (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...;
            ``SurrogateBackend(device=...)``, surrogate backend only). The UE walk, the
            random streams and the KPIs stay on the CPU, so a seed draws the same numbers on
            any device; results differ by float rounding only. Passed to the backend and
            written to ``train_config.json`` only when not ``"cpu"``, so CPU runs read and
            compare as before the option existed.
        knobs: Knobs to control (``None``: all of the scenario's).
        reward: Reward weights overriding the scenario's (``{"energy": 0.5}``; names of
            :class:`~rantwin.scenarios.RewardWeights`).
        episode_steps: Super-steps per episode (7 × 15 min after midnight: the hours the
            bundled twin was trained on; longer episodes make it extrapolate, and it warns).
        n_envs: Batched envs ``K`` (one backend call per step for all of them).
        timesteps: Total env steps (summed over the ``K`` envs).
        seed: Seed of the algorithm, the policy init and the training episodes.
        policy: ``"cell-agents"``, ``"percell"`` or ``"mlp"``.
        local_weight: Weight of the local reward in a cell agent's reward (``cell-agents``).
        n_neighbours: Neighbours in a cell agent's observation (``cell-agents``).
        hidden: Width of the per-cell embedding (``percell``) or of the two hidden layers
            (``cell-agents``, ``mlp``).
        log_std_init: Initial log-std of the Gaussian actions (PPO / A2C).
        learning_rate: Adam step size.
        n_steps: Rollout length per env between PPO / A2C updates.
        batch_size: PPO / SAC minibatch size.
        n_epochs: PPO epochs per update.
        gamma: Discount factor.
        ent_coef: Entropy bonus (PPO / A2C).
        eval_every: Held-out evaluation period in env steps (0: only at the end).
        eval_episodes: Held-out episodes per evaluation.
        eval_seed: First held-out seed.
        torch_threads: ``torch.set_num_threads`` for the run (``None``: leave as is).
        sb3_defaults: Use SB3's default hyper-parameters (only ``n_envs`` and ``policy``
            from here): how the throughput figure is measured.
    """

    algo: str = "ppo"
    scenario: str = "hex7-uma"
    backend: str = "surrogate"
    twin: str | None = None
    compile_twin: bool = False
    twin_device: str = "cpu"
    knobs: tuple[str, ...] | None = None
    reward: dict[str, float] | None = None
    episode_steps: int = 7
    n_envs: int = 16
    timesteps: int = 30_000
    seed: int = 0
    policy: str = "cell-agents"
    local_weight: float = 0.5
    n_neighbours: int = 6
    hidden: int = 64
    log_std_init: float = -1.0
    learning_rate: float = 3e-4
    n_steps: int = 16
    batch_size: int = 256
    n_epochs: int = 10
    gamma: float = 0.9
    ent_coef: float = 0.0
    eval_every: int = 10_000
    eval_episodes: int = 16
    eval_seed: int = 1_000_000
    torch_threads: int | None = None
    sb3_defaults: bool = False

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise ValueError(f"algo must be one of {', '.join(ALGOS)}, got {self.algo!r}")
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if self.algo == "sac" and self.policy != "mlp":
            raise ValueError(
                f"policy {self.policy!r} is an actor-critic for PPO / A2C; use --policy mlp"
            )
        if not 0.0 <= self.local_weight <= 1.0:
            raise ValueError(f"local_weight must be in [0, 1], got {self.local_weight}")
        if isinstance(self.n_neighbours, bool) or self.n_neighbours < 0:
            raise ValueError(f"n_neighbours must be an integer >= 0, got {self.n_neighbours!r}")
        if self.backend not in ("surrogate", "simulator"):
            raise ValueError(f"backend must be 'surrogate' or 'simulator', got {self.backend!r}")
        if not isinstance(self.twin_device, str) or not self.twin_device:
            raise ValueError(
                f"twin_device must be a device name ('cpu', 'cuda', 'cuda:1', …), "
                f"got {self.twin_device!r}"
            )
        if self.twin_device != "cpu" and self.backend != "surrogate":
            raise ValueError(
                f"twin_device={self.twin_device!r} is for backend='surrogate', "
                f"got backend={self.backend!r}"
            )
        names = ("episode_steps", "n_envs", "timesteps", "hidden", "n_steps", "batch_size")
        check_counts(**{n: getattr(self, n) for n in (*names, "n_epochs", "eval_episodes")})
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        if not self.learning_rate > 0.0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.eval_every < 0:
            raise ValueError(f"eval_every must be >= 0, got {self.eval_every}")
        if self.knobs is not None:
            object.__setattr__(self, "knobs", tuple(self.knobs))

    def env_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the env (scenario, backend, knobs, episode length)."""
        kw: dict[str, Any] = {
            "scenario": self.scenario,
            "backend": self.backend,
            "episode_steps": self.episode_steps,
        }
        if self.knobs is not None:
            kw["knobs"] = list(self.knobs)
        if self.reward is not None:
            kw["reward"] = dict(self.reward)
        if self.backend == "surrogate":
            backend_kw: dict[str, Any] = {}
            if self.twin is not None:
                backend_kw["checkpoint"] = self.twin
            if self.compile_twin:
                backend_kw["compile"] = True
            if self.twin_device != "cpu":
                backend_kw["device"] = self.twin_device
            if backend_kw:
                kw["backend_kwargs"] = backend_kw
        return kw

    def as_json(self) -> dict[str, Any]:
        """JSON-safe dict (what ``train_config.json`` holds).

        ``twin_device`` appears only when it is not ``"cpu"``: the config of a CPU run is
        the same as before the option existed (``rantwin demo --resume`` compares it with
        the saved one), and ``TrainConfig(**saved)`` reads old and new files alike.
        """
        d = asdict(self)
        d["knobs"] = list(self.knobs) if self.knobs is not None else None
        if self.twin_device == "cpu":
            del d["twin_device"]
        return d


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        out: The run folder.
        steps: Env steps done.
        seconds: Wall time of ``learn``.
        fps: Env steps per second over the wall time of ``learn``.
        sb3_fps: Steps per second as SB3 counts them (``n_cells`` × ``fps`` for cell agents).
        interrupted: Whether Ctrl-C stopped it early.
        curve: The learning curve (``curve.json``).
    """

    out: Path
    steps: int
    seconds: float
    fps: float
    sb3_fps: float
    interrupted: bool
    curve: dict[str, list[Any]]


class _Recorder(BaseCallback):
    """Records episode returns, evaluates on held-out seeds, saves the policy as it goes."""

    def __init__(self, config: TrainConfig, out: Path, actions: Any):
        super().__init__()
        self.config = config
        self.out = out
        self.actions = actions
        self.curve: dict[str, list[Any]] = {
            "steps": [],
            "returns": [],
            "eval_steps": [],
            "eval_returns": [],
            "eval_reference": [],
        }
        self._next_eval = config.eval_every if config.eval_every > 0 else None

    def env_steps(self) -> int:
        """Env steps so far (SB3 counts one per cell for cell agents)."""
        agents = self.config.policy == "cell-agents"
        return int(self.num_timesteps // (self.actions.shape[0] if agents else 1))

    def _on_step(self) -> bool:
        infos = self.locals.get("infos", [])
        returns = [float(info["episode"]["r"]) for info in infos if "episode" in info]
        if returns:  # cell agents: one slot per cell finishes together; record their mean
            self.curve["steps"].append(self.env_steps())
            self.curve["returns"].append(float(np.mean(returns)))
        if self._next_eval is not None and self.env_steps() >= self._next_eval:
            self.evaluate()
            self._next_eval += self.config.eval_every
        return True

    def save(self, **extra: Any) -> None:
        """Write the policy and the curve (atomic)."""
        self.save_policy(**extra)
        self.save_curve()

    def save_policy(self, **extra: Any) -> None:
        """Write ``policy.safetensors`` + ``policy.json`` (atomic)."""
        agents = self.config.policy == "cell-agents"
        save_policy(
            self.model.policy,
            self.out,
            algo=self.config.algo,
            actions=self.actions,
            extra={"timesteps": self.env_steps(), "seed": self.config.seed, **extra},
            n_neighbours=self.config.n_neighbours if agents else None,
        )

    def save_curve(self) -> None:
        """Write ``curve.json`` (atomic)."""
        tmp = self.out / "curve.json.tmp"
        tmp.write_text(json.dumps(self.curve) + "\n")
        os.replace(tmp, self.out / "curve.json")

    def evaluate(self) -> None:
        """Held-out evaluation of the policy as saved (deterministic), then the curve."""
        self.save_policy()
        policy = load_policy(self.out, self.actions, name=self.config.algo)
        kw: dict[str, Any] = {"episodes": self.config.eval_episodes, "seed": self.config.eval_seed}
        if not self.curve["eval_reference"]:  # the static config on the same held-out seeds
            ref = evaluate_policy(
                make_baseline("static", self.actions), self.config.env_kwargs(), **kw
            )
            self.curve["eval_reference"] = [float(v) for v in ref.returns.mean(1)]
        ev = evaluate_policy(policy, self.config.env_kwargs(), **kw)
        r = ev.returns.mean(1)  # [E]
        self.curve["eval_steps"].append(self.env_steps())
        self.curve["eval_returns"].append([float(v) for v in r])
        self.logger.record("eval/mean_return", float(r.mean()))
        self.logger.record("eval/std_return", float(r.std()))
        self.save_curve()


def make_venv(config: TrainConfig) -> SB3VecEnv | CellAgentsVecEnv:
    """The SB3 ``VecEnv`` that ``train`` trains on.

    ``config.n_envs`` batched envs, flat (one SB3 env each) or as cell agents (one SB3 env
    per cell).
    """
    if config.policy == "cell-agents":
        return make_cell_agents_vec_env(
            config.n_envs, config.n_neighbours, config.local_weight, **config.env_kwargs()
        )
    return make_sb3_vec_env(config.n_envs, **config.env_kwargs())


def build_model(config: TrainConfig, venv: Any, actions: Any) -> BaseAlgorithm:
    """The SB3 model ``train`` trains: algorithm, policy and hyper-parameters of ``config``.

    Args:
        config: The run's arguments.
        venv: The SB3 ``VecEnv`` it trains on (its spaces and number of envs).
        actions: The env's action map (``core.actions``: cells × knobs, default action).
    """
    n_cells, n_knobs = actions.shape
    n_features = venv.observation_space.shape[0] // n_cells
    kwargs: dict[str, Any] = {"seed": config.seed, "verbose": 0, "device": "cpu"}
    policy: Any = "MlpPolicy"
    policy_kwargs: dict[str, Any] = {}
    if config.policy == "cell-agents":
        if not config.sb3_defaults:  # SB3's own: two layers of 64, log-std 0
            policy_kwargs = {
                "net_arch": [config.hidden, config.hidden],
                "log_std_init": config.log_std_init,
            }
    elif config.policy == "percell":
        from .percell import PerCellPolicy

        policy = PerCellPolicy
        policy_kwargs = {
            "n_features": n_features,
            "n_knobs": n_knobs,
            "hidden": config.hidden,
            "action_bias": default_action(actions).mean(0).tolist(),
            "log_std_init": config.log_std_init,
        }
    elif config.algo != "sac" and not config.sb3_defaults:
        policy_kwargs = {"log_std_init": config.log_std_init}
    if not config.sb3_defaults:
        kwargs.update(learning_rate=config.learning_rate, gamma=config.gamma)
        if config.algo == "ppo":
            kwargs.update(
                n_steps=config.n_steps,
                batch_size=config.batch_size,
                n_epochs=config.n_epochs,
                ent_coef=config.ent_coef,
            )
        elif config.algo == "a2c":
            kwargs.update(n_steps=config.n_steps, ent_coef=config.ent_coef)
        else:
            kwargs.update(batch_size=config.batch_size)
    if config.algo in ADAM_KWARGS:
        policy_kwargs["optimizer_kwargs"] = dict(ADAM_KWARGS[config.algo])
    cls = {"ppo": PPO, "a2c": A2C, "sac": SAC}[config.algo]
    model = cls(policy, venv, policy_kwargs=policy_kwargs, **kwargs)
    if config.policy == "cell-agents" and not config.sb3_defaults:
        # start at the default config: the untrained agents act like the static baseline
        with torch.no_grad():
            bias = torch.as_tensor(default_action(actions).mean(0))
            model.policy.action_net.bias.copy_(bias)
    return model


def train(config: TrainConfig, out: str | os.PathLike[str], progress: bool = True) -> TrainResult:
    """Train an agent (see the module docstring for what lands in ``out``).

    Args:
        config: The run's arguments.
        out: Run folder (created; an existing policy there is overwritten).
        progress: Show SB3's progress bar.

    Returns:
        :class:`TrainResult`.
    """
    out_dir = Path(out)
    if config.torch_threads is not None:
        torch.set_num_threads(int(config.torch_threads))
    base = make_venv(config)  # first: a bad option (a device this machine lacks) leaves no folder
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "train_config.json").write_text(json.dumps(config.as_json(), indent=2) + "\n")
    actions = base.venv.core.actions
    per_env = actions.shape[0] if config.policy == "cell-agents" else 1
    venv = VecMonitor(base)
    venv.seed(config.seed)
    model = build_model(config, venv, actions)
    model.set_logger(
        Logger(
            str(out_dir),
            [
                CSVOutputFormat(str(out_dir / "progress.csv")),
                TensorBoardOutputFormat(str(out_dir / "tb")),
            ],
        )
    )
    recorder = _Recorder(config, out_dir, actions)
    interrupted = False
    t0 = time.perf_counter()
    try:
        model.learn(config.timesteps * per_env, callback=recorder, progress_bar=progress)
    except KeyboardInterrupt:
        interrupted = True
    seconds = time.perf_counter() - t0
    if interrupted:
        recorder.save(interrupted=True)
    else:
        recorder.evaluate()
    venv.close()
    _plot_curve(recorder.curve, out_dir / "learning_curve.png", config)
    steps = recorder.env_steps()
    return TrainResult(
        out=out_dir,
        steps=steps,
        seconds=seconds,
        fps=steps / max(seconds, 1e-9),
        sb3_fps=steps * per_env / max(seconds, 1e-9),
        interrupted=interrupted,
        curve=recorder.curve,
    )


def _plot_curve(curve: dict[str, list[Any]], path: Path, config: TrainConfig) -> None:
    from .plots import learning_curve

    if not curve["steps"] and not curve["eval_steps"]:
        return
    eval_returns: Sequence[Any] | None = curve["eval_returns"] or None
    learning_curve(
        np.asarray(curve["steps"]),
        np.asarray(curve["returns"]),
        path,
        eval_steps=np.asarray(curve["eval_steps"]) if curve["eval_steps"] else None,
        eval_returns=np.asarray(eval_returns) if eval_returns is not None else None,
        title=f"{config.algo.upper()} on {Path(config.scenario).stem} ({config.backend})",
        reference=float(np.mean(curve["eval_reference"])) if curve["eval_reference"] else None,
    )
