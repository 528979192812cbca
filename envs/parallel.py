"""Multi-agent control: a PettingZoo ``ParallelEnv`` with one agent per cell.

Agent ``cell_<i>`` acts on its own knobs (``Box(-1, 1, (n_knobs,))``, same mapping as the
single-agent env) and observes ``Box(-1, 1, (3 · n_features,))``: its own row of the
single-agent observation, the mean of the rows of its ``k`` nearest cells (by site
distance, co-sited sectors first; ties by index) and the mean of all rows (global context).
The reward is shared (the single-agent reward, default) or local (:func:`~.reward.
cell_reward`: the same terms over the cell's own UEs). All agents are truncated together at
the end of the episode.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv

from rantwin.scenarios import RewardWeights, Scenario

from .backend import Backend
from .env import RanControlEnv
from .observation import n_features
from .reward import TERMS, cell_reward

__all__ = ["RanControlParallelEnv", "agent_observations", "neighbours", "parallel_env"]


def neighbours(scenario: Scenario, k: int) -> np.ndarray:
    """The ``k`` nearest other cells of every cell.

    Args:
        scenario: The scenario.
        k: Neighbours per cell (capped at ``n_cells - 1``).

    Returns:
        ``[n_cells, k]`` int64 cell indices.
    """
    cells = scenario.cells()
    xy = np.stack([np.asarray(cells.x_m, float), np.asarray(cells.y_m, float)], -1)
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)  # [n_cells, n_cells]
    np.fill_diagonal(d, np.inf)
    k = max(0, min(int(k), len(xy) - 1))
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def agent_observations(obs: np.ndarray, neighbour_index: np.ndarray) -> np.ndarray:
    """Every cell agent's observation: its row, its neighbours' mean row, the network mean.

    **Input:** ``obs`` ``[..., n_cells, n_features]`` (the single-agent observation),
    ``neighbour_index`` ``[n_cells, k]`` (from :func:`neighbours`; ``k`` may be 0).

    **Output:** ``[..., n_cells, 3 · n_features]`` float32 in ``[-1, 1]``.
    """
    obs = np.asarray(obs, dtype=np.float32)
    if neighbour_index.shape[1]:
        neigh = obs[..., neighbour_index, :].mean(-2)  # [..., n_cells, n_features]
    else:
        neigh = np.zeros_like(obs)
    glob = np.broadcast_to(obs.mean(-2, keepdims=True), obs.shape)
    return np.clip(np.concatenate([obs, neigh, glob], -1), -1.0, 1.0).astype(np.float32)


class RanControlParallelEnv(ParallelEnv):
    """PettingZoo parallel env over :class:`~.env.RanControlEnv` (one agent per cell).

    Args:
        scenario, backend, knobs, reward, members, episode_steps, render_mode,
            backend_kwargs: As :class:`~.env.RanControlEnv`.
        n_neighbours: Cells averaged into the neighbour part of the observation.
        reward_mode: ``"shared"`` (every agent gets the network reward) or ``"local"``.
    """

    metadata: dict[str, Any] = {
        "name": "rantwin_ran_control_v0",
        "render_modes": ["rgb_array"],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        scenario: Scenario | str | None = "hex7-uma",
        backend: str | Backend = "surrogate",
        knobs: Sequence[str] | None = None,
        reward: RewardWeights | Mapping[str, float] | None = None,
        members: int = 1,
        episode_steps: int | None = None,
        render_mode: str | None = None,
        backend_kwargs: Mapping[str, Any] | None = None,
        n_neighbours: int = 6,
        reward_mode: str = "shared",
    ):
        if reward_mode not in ("shared", "local"):
            raise ValueError(f"reward_mode must be 'shared' or 'local', got {reward_mode!r}")
        self.env = RanControlEnv(
            scenario, backend, knobs, reward, members, episode_steps, render_mode, backend_kwargs
        )
        self.scenario = self.env.scenario
        self.render_mode = render_mode
        self.reward_mode = reward_mode
        n_cells, n_knobs = self.env.action_map.shape
        self.possible_agents = [f"cell_{i}" for i in range(n_cells)]
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self.neighbours = neighbours(self.scenario, n_neighbours)
        n_feat = n_features(self.env.action_map)
        self._obs_space = {
            a: gymnasium.spaces.Box(-1.0, 1.0, (3 * n_feat,), np.float32)
            for a in self.possible_agents
        }
        self._act_space = {
            a: gymnasium.spaces.Box(-1.0, 1.0, (n_knobs,), np.float32) for a in self.possible_agents
        }
        self.state_space = gymnasium.spaces.Box(-1.0, 1.0, (n_cells * n_feat,), np.float32)
        self._last_obs: np.ndarray | None = None

    @functools.cache  # noqa: B019 - spaces are fixed per env (PettingZoo)
    def observation_space(self, agent: str) -> gymnasium.spaces.Box:
        """Observation space of ``agent`` (the same object every call)."""
        return self._obs_space[agent]

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> gymnasium.spaces.Box:
        """Action space of ``agent`` (the same object every call)."""
        return self._act_space[agent]

    def _agent_obs(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        full = agent_observations(obs, self.neighbours)  # [n_cells, 3 * n_features]
        return {a: full[self._index[a]] for a in self.agents}

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode; every agent is live."""
        obs, info = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        self._last_obs = obs
        return self._agent_obs(obs), {a: dict(info) for a in self.agents}

    def step(self, actions: Mapping[str, np.ndarray]) -> tuple[dict, dict, dict, dict, dict]:
        """Every live agent's action in, per-agent obs / rewards / flags / infos out."""
        if not self.agents:
            raise RuntimeError("the episode is over; call reset()")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"no action for agent(s) {', '.join(missing)}")
        n_cells, n_knobs = self.env.action_map.shape
        joint = np.zeros((n_cells, n_knobs), np.float32)
        for a in self.agents:
            act = np.asarray(actions[a], dtype=np.float32)
            if act.shape != (n_knobs,):
                raise ValueError(f"action of {a} has shape {act.shape}, expected ({n_knobs},)")
            joint[self._index[a]] = act
        obs, reward, terminated, truncated, info = self.env.step(joint)
        self._last_obs = obs
        agents = list(self.agents)
        if self.reward_mode == "local":
            kpi = self.env.last_kpi
            assert kpi is not None
            local, terms = cell_reward(kpi, self.env.core.weights)  # [1, M, n_cells]
            local_r = local[0].mean(0).numpy()  # [n_cells]
            local_terms = {t: terms[t][0].mean(0).numpy() for t in TERMS}
            rewards = {a: float(local_r[self._index[a]]) for a in agents}
            infos = {
                a: {
                    **info,
                    **{f"local_reward_{t}": float(local_terms[t][self._index[a]]) for t in TERMS},
                }
                for a in agents
            }
        else:
            rewards = dict.fromkeys(agents, float(reward))
            infos = {a: dict(info) for a in agents}
        obs_d = self._agent_obs(obs)
        terms_d = dict.fromkeys(agents, bool(terminated))
        truncs_d = dict.fromkeys(agents, bool(truncated))
        if terminated or truncated:
            self.agents = []
        return obs_d, rewards, terms_d, truncs_d, infos

    def state(self) -> np.ndarray:
        """Global state: the single-agent observation, flattened."""
        if self._last_obs is None:
            raise RuntimeError("call reset() before state()")
        return self._last_obs.reshape(-1).copy()

    def render(self) -> np.ndarray | None:
        """The map of the network (``rgb_array``)."""
        return self.env.render()

    def close(self) -> None:
        """Release resources."""
        self.env.close()


def parallel_env(**kwargs: Any) -> RanControlParallelEnv:
    """Build the PettingZoo env (keyword arguments of :class:`RanControlParallelEnv`)."""
    return RanControlParallelEnv(**kwargs)
