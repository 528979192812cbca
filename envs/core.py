"""What the single env and the vector env share: the backend and KPIs → (obs, reward, info).

A :class:`~.types.KpiSample` becomes observations, rewards and infos, batched.

Members are pooled the same way everywhere: the observation is the mean over members of the
per-member observations, the reward the mean of the per-member rewards (each member's
reward is in ``info["reward_members"]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rantwin.scenarios import RewardWeights, Scenario, load_scenario

from .actions import ActionMap, resolve_knobs
from .backend import Backend, make_backend
from .observation import observe
from .reward import TERMS, compute_reward
from .types import KpiSample

__all__ = ["EnvCore", "StepOutput", "draw_backend_seed"]


@dataclass(frozen=True)
class StepOutput:
    """Batched env outputs of one super-step.

    Attributes:
        obs: ``[B, n_cells, n_features]`` float32.
        reward: ``[B]`` float64 (member mean).
        infos: One info dict per batch element.
    """

    obs: np.ndarray
    reward: np.ndarray
    infos: list[dict[str, Any]]


def _weights(scenario: Scenario, reward: RewardWeights | Mapping[str, float] | None):
    if reward is None:
        return scenario.reward
    if isinstance(reward, RewardWeights):
        return reward
    if isinstance(reward, Mapping):
        valid = RewardWeights.__dataclass_fields__
        unknown = sorted(set(reward) - set(valid))
        if unknown:
            raise ValueError(
                f"reward: unknown weight {unknown[0]!r}; valid weights: {', '.join(valid)}"
            )
        return RewardWeights(**{**scenario.reward.__dict__, **reward})
    raise ValueError(
        f"reward must be None, a RewardWeights or a mapping of weights, got {type(reward).__name__}"
    )


class EnvCore:
    """Backend, action map, reward weights and the KPI → (obs, reward, info) function.

    Args:
        scenario: Scenario, built-in name or YAML path (ignored if ``backend`` is an
            instance, except that it must then be ``None`` or the backend's scenario).
        backend: ``"simulator"``, ``"surrogate"`` or a :class:`Backend` instance.
        knobs: Knob names to control (default: every knob of the scenario).
        reward: Reward weights overriding ``scenario.reward`` (a mapping may give some).
        members: Ensemble members ``M``.
        backend_kwargs: Extra options for :func:`make_backend`.
    """

    def __init__(
        self,
        scenario: Scenario | str | None,
        backend: str | Backend,
        knobs: Sequence[str] | None,
        reward: RewardWeights | Mapping[str, float] | None,
        members: int,
        backend_kwargs: Mapping[str, Any] | None = None,
    ):
        if isinstance(backend, str):
            if scenario is None:
                raise ValueError("scenario is required (a name, a YAML path or a Scenario)")
            sc = load_scenario(scenario)
            self.backend: Backend = make_backend(backend, sc, members, **(backend_kwargs or {}))
        elif isinstance(backend, Backend):
            self.backend = backend
            if scenario is not None and load_scenario(scenario) != backend.scenario:
                raise ValueError("scenario differs from the scenario of the given backend")
            if members != backend.n_members:
                raise ValueError(
                    f"members={members} but the given backend has {backend.n_members} members"
                )
        else:
            raise ValueError(
                f"backend must be 'simulator', 'surrogate' or a Backend, got {backend!r}"
            )
        self.scenario: Scenario = self.backend.scenario
        self.members = self.backend.n_members
        self.actions = ActionMap(self.scenario, resolve_knobs(self.scenario, knobs))
        self.weights: RewardWeights = _weights(self.scenario, reward)
        self.default_config = self.scenario.default_config()

    def outputs(self, kpi: KpiSample, steps: Sequence[int]) -> StepOutput:
        """Observation, reward and info of every batch element.

        Args:
            kpi: The super-step's KPIs (batch ``B``).
            steps: Env step count of each element after this super-step (for ``info``).

        Returns:
            :class:`StepOutput`.
        """
        obs = observe(kpi, self.actions).mean(1).clamp(-1.0, 1.0)  # [B, n_cells, n_features]
        reward_m, terms = compute_reward(kpi, self.weights)  # [B, M], {name: [B, M]}
        reward = reward_m.mean(1)  # [B]
        active = kpi.ue_active.double()
        n_active = active.sum(-1).clamp(min=1.0)  # [B, M]
        thr_mean = (kpi.ue_throughput_mbps.double() * active).sum(-1) / n_active  # [B, M]
        # every per-element scalar as one [B] column, converted to Python numbers once
        hour, load = kpi.hour.double().tolist(), kpi.load_factor.double().tolist()
        members = reward_m.numpy()  # [B, M]
        columns: dict[str, list[Any]] = {
            **{f"reward_{name}": terms[name].mean(1).tolist() for name in TERMS},
            "mean_ue_throughput_mbps": thr_mean.mean(1).tolist(),
            "energy_w": kpi.cell_energy_w.double().sum(-1).mean(1).tolist(),
            "n_sleeping": kpi.cfg_sleep.sum(-1).tolist(),
        }
        infos = [
            {
                "step": int(steps[b]),
                "hour": hour[b],
                "load_factor": load[b],
                "reward_members": members[b].copy(),
                **{key: col[b] for key, col in columns.items()},
            }
            for b in range(kpi.batch)
        ]
        return StepOutput(
            obs=obs.numpy().astype(np.float32),
            reward=reward.numpy().astype(np.float64),
            infos=infos,
        )

    def reset_batch(self, seeds: Sequence[int]) -> tuple[Any, KpiSample]:
        """Reset ``len(seeds)`` episodes and run their first super-step (default config).

        The first observation so holds real KPIs.

        Returns:
            ``(state, kpi)`` after that super-step.
        """
        state = self.backend.reset(list(seeds))
        return self.backend.step(state, [self.default_config] * len(seeds))


def draw_backend_seed(rng: np.random.Generator) -> int:
    """The backend seed of an episode, drawn from the env's ``np_random``."""
    return int(rng.integers(0, 2**63 - 1, dtype=np.int64))
