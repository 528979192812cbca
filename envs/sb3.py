"""stable-baselines3 adapters (SB3 does not accept Gymnasium vector envs).

- :class:`SB3VecEnv`: an SB3 ``VecEnv`` over :class:`~.vector.RanControlVectorEnv` (one
  backend call per step for all envs), with flat observations ``[n_cells · n_features]``
  and flat actions ``[n_cells · n_knobs]``, SB3's same-step autoreset and
  ``info["terminal_observation"]`` / ``info["TimeLimit.truncated"]``.
- :class:`SharedPolicyVecEnv`: a parameter-shared multi-agent adapter: every agent of a
  PettingZoo :class:`~.parallel.RanControlParallelEnv` is one slot of an SB3 ``VecEnv``,
  so one policy acts for every cell (no SuperSuit needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from .parallel import RanControlParallelEnv
from .vector import RanControlVectorEnv

__all__ = [
    "CellAgentsVecEnv",
    "SB3VecEnv",
    "SharedPolicyVecEnv",
    "make_cell_agents_vec_env",
    "make_sb3_vec_env",
]


def _indices(n: int, indices: VecEnvIndices) -> list[int]:
    if indices is None:
        return list(range(n))
    if isinstance(indices, int):
        return [indices]
    return list(indices)


def _unbatch_info(infos: dict[str, Any], b: int) -> dict[str, Any]:
    """Env ``b``'s info from a Gymnasium batched info dict (mask keys dropped)."""
    out: dict[str, Any] = {}
    for key, value in infos.items():
        if key.startswith("_") or key in ("final_obs", "final_info"):
            continue
        mask = infos.get(f"_{key}")
        if mask is not None and not mask[b]:
            continue
        out[key] = _unbatch_info(value, b) if isinstance(value, dict) else value[b]
    return out


class _OneEnvVecEnv(VecEnv):
    """SB3 ``VecEnv`` plumbing for adapters whose slots all live in one object.

    ``get_attr`` / ``set_attr`` / ``env_method`` act on that object once (results repeated
    per index), ``close`` closes it, and no slot is ever wrapped.
    """

    def _inner(self) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        """Close the wrapped env."""
        self._inner().close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """An attribute of the wrapped env, once per index."""
        value = getattr(self._inner(), attr_name)
        return [value for _ in _indices(self.num_envs, indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute on the wrapped env."""
        setattr(self._inner(), attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **kwargs: Any
    ) -> list[Any]:
        """Call a method of the wrapped env once, its result repeated per index."""
        result = getattr(self._inner(), method_name)(*method_args, **kwargs)
        return [result for _ in _indices(self.num_envs, indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        """Slots are not gym envs; never wrapped."""
        return [False for _ in _indices(self.num_envs, indices)]


class SB3VecEnv(_OneEnvVecEnv):
    """SB3 ``VecEnv`` over a natively batched :class:`RanControlVectorEnv`.

    Args:
        venv: A vector env in ``same-step`` autoreset mode (see :func:`make_sb3_vec_env`).
    """

    def __init__(self, venv: RanControlVectorEnv):
        if venv.autoreset_mode != gym.vector.AutoresetMode.SAME_STEP:
            raise ValueError(
                "SB3VecEnv needs a vector env with autoreset_mode='same-step' "
                "(build it with rantwin.envs.make_sb3_vec_env)"
            )
        self.venv = venv
        obs = venv.single_observation_space
        act = venv.single_action_space
        assert isinstance(obs, spaces.Box) and isinstance(act, spaces.Box)
        self._act_shape = act.shape
        super().__init__(
            venv.num_envs,
            spaces.Box(-1.0, 1.0, (int(np.prod(obs.shape)),), np.float32),
            spaces.Box(-1.0, 1.0, (int(np.prod(act.shape)),), np.float32),
        )
        self._actions: np.ndarray | None = None

    def _inner(self) -> Any:
        return self.venv

    def _flat(self, obs: np.ndarray) -> np.ndarray:
        return obs.reshape(self.num_envs, -1)

    def reset(self) -> VecEnvObs:
        """Reset every env (seeds from :meth:`seed` are used once)."""
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        obs, infos = self.venv.reset(seed=seeds)
        self.reset_infos = [_unbatch_info(infos, b) for b in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return self._flat(obs)

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions ``[num_envs, n_cells · n_knobs]``."""
        self._actions = np.asarray(actions, dtype=np.float32).reshape(
            self.num_envs, *self._act_shape
        )

    def step_wait(self) -> VecEnvStepReturn:
        """Step every env; finished envs are reset in the same step (SB3 convention)."""
        assert self._actions is not None, "step_async() first"
        obs, rewards, terminated, truncated, infos = self.venv.step(self._actions)
        dones = terminated | truncated
        out = []
        for b in range(self.num_envs):
            info = _unbatch_info(infos, b)
            if dones[b]:
                info = _unbatch_info(infos["final_info"], b)
                info["terminal_observation"] = np.asarray(infos["final_obs"][b]).reshape(-1)
                info["TimeLimit.truncated"] = bool(truncated[b] and not terminated[b])
            out.append(info)
        return self._flat(obs), rewards.astype(np.float32), dones, out

    def get_images(self) -> Sequence[np.ndarray | None]:
        """One map per env (needs ``render_mode='rgb_array'``)."""
        frames = self.venv.render()
        return list(frames) if frames is not None else [None] * self.num_envs


def make_sb3_vec_env(num_envs: int = 1, **env_kwargs: Any) -> SB3VecEnv:
    """An :class:`SB3VecEnv` of ``num_envs`` envs (``env_kwargs`` as ``RanControlEnv``)."""
    return SB3VecEnv(
        RanControlVectorEnv(num_envs=num_envs, autoreset_mode="same-step", **env_kwargs)
    )


class SharedPolicyVecEnv(_OneEnvVecEnv):
    """Parameter sharing: each agent of a parallel env is one slot of an SB3 ``VecEnv``.

    All agents live and finish together (true for :class:`RanControlParallelEnv`), so the
    episode ends for every slot at once; the env is then reset and each slot gets
    ``info["terminal_observation"]``.

    Args:
        par_env: A PettingZoo parallel env whose agents share observation and action
            spaces (one agent per cell).
    """

    def __init__(self, par_env: RanControlParallelEnv):
        self.par_env = par_env
        self.agent_ids = list(par_env.possible_agents)
        first = self.agent_ids[0]
        obs_space = par_env.observation_space(first)
        act_space = par_env.action_space(first)
        for a in self.agent_ids:
            if par_env.observation_space(a) != obs_space or par_env.action_space(a) != act_space:
                raise ValueError(f"agent {a} has other spaces; parameter sharing needs equal ones")
        self.render_mode = par_env.render_mode
        super().__init__(len(self.agent_ids), obs_space, act_space)
        self._actions: np.ndarray | None = None

    def _inner(self) -> Any:
        return self.par_env

    def _stack(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        return np.stack([obs[a] for a in self.agent_ids])

    def reset(self) -> VecEnvObs:
        """Reset the parallel env (seed: the first of :meth:`seed`'s, if set)."""
        obs, infos = self.par_env.reset(seed=self._seeds[0])
        self.reset_infos = [infos[a] for a in self.agent_ids]
        self._reset_seeds()
        self._reset_options()
        return self._stack(obs)

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions ``[n_agents, n_knobs]``."""
        self._actions = np.asarray(actions, dtype=np.float32)

    def step_wait(self) -> VecEnvStepReturn:
        """Step all agents; reset when the episode ends."""
        assert self._actions is not None, "step_async() first"
        acts = {a: self._actions[i] for i, a in enumerate(self.agent_ids)}
        obs, rewards, terms, truncs, infos = self.par_env.step(acts)
        dones = np.array([terms[a] or truncs[a] for a in self.agent_ids])
        rew = np.array([rewards[a] for a in self.agent_ids], dtype=np.float32)
        info_list = [dict(infos[a]) for a in self.agent_ids]
        stacked = self._stack(obs)
        if dones.all():
            for i, a in enumerate(self.agent_ids):
                info_list[i]["terminal_observation"] = stacked[i]
                info_list[i]["TimeLimit.truncated"] = bool(truncs[a] and not terms[a])
            new_obs, r_infos = self.par_env.reset()
            self.reset_infos = [r_infos[a] for a in self.agent_ids]
            stacked = self._stack(new_obs)
        elif dones.any():
            raise RuntimeError("agents finished at different times; not supported")
        return stacked, rew, dones, info_list


class CellAgentsVecEnv(_OneEnvVecEnv):
    """Batched parameter sharing: every cell of every env of a vector env is one SB3 slot.

    Slot ``b · n_cells + c`` is cell ``c`` of env ``b`` of a :class:`RanControlVectorEnv`
    (one backend call per step for all ``B · n_cells`` slots). A slot observes what the
    PettingZoo agent of its cell observes (:func:`~.parallel.agent_observations`: own row,
    neighbours' mean, network mean; ``[3 · n_features]``) and acts on its own knobs
    (``[n_knobs]``). Its reward mixes the cell's local reward (:func:`~.reward.cell_reward`)
    with the network reward: ``r = w · r_cell + (1 − w) · r_network`` with
    ``w = local_weight`` (0: fully shared, 1: fully local), so each cell gets credit for
    what it does to its own UEs and energy without ignoring its neighbours.

    Args:
        venv: A vector env in ``same-step`` autoreset mode.
        n_neighbours: Neighbours averaged into each agent's observation.
        local_weight: ``w`` in ``[0, 1]``.
    """

    def __init__(self, venv: RanControlVectorEnv, n_neighbours: int = 6, local_weight: float = 0.5):
        if venv.autoreset_mode != gym.vector.AutoresetMode.SAME_STEP:
            raise ValueError("CellAgentsVecEnv needs a vector env with autoreset_mode='same-step'")
        if not 0.0 <= float(local_weight) <= 1.0:
            raise ValueError(f"local_weight must be in [0, 1], got {local_weight}")
        from .parallel import neighbours

        self.venv = venv
        self.local_weight = float(local_weight)
        self.n_cells, self.n_knobs = venv.core.actions.shape
        self.neighbour_index = neighbours(venv.core.scenario, n_neighbours)
        n_feat = int(np.prod(venv.single_observation_space.shape or (0,))) // self.n_cells
        self.n_envs_inner = venv.num_envs
        super().__init__(
            venv.num_envs * self.n_cells,
            spaces.Box(-1.0, 1.0, (3 * n_feat,), np.float32),
            spaces.Box(-1.0, 1.0, (self.n_knobs,), np.float32),
        )
        self._actions: np.ndarray | None = None

    def _inner(self) -> Any:
        return self.venv

    def _slots(self, obs: np.ndarray) -> np.ndarray:
        from .parallel import agent_observations

        # [B, n_cells, n_features] -> [B · n_cells, 3 · n_features]
        full = agent_observations(obs, self.neighbour_index)  # [B, n_cells, 3 · n_features]
        return full.reshape(-1, full.shape[-1])

    def reset(self) -> VecEnvObs:
        """Reset every env; after :meth:`seed` (``s``), env ``b`` resets with ``s + b`` once."""
        first = self._seeds[0]
        seeds = None if first is None else [int(first) + b for b in range(self.n_envs_inner)]
        obs, _ = self.venv.reset(seed=seeds)
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return self._slots(obs)

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions ``[B · n_cells, n_knobs]``."""
        self._actions = np.asarray(actions, dtype=np.float32).reshape(
            self.n_envs_inner, self.n_cells, self.n_knobs
        )

    def step_wait(self) -> VecEnvStepReturn:
        """Step every env; slot rewards mix local and network rewards."""
        from .reward import cell_reward

        assert self._actions is not None, "step_async() first"
        obs, rewards, terminated, truncated, infos = self.venv.step(self._actions)
        kpi = self.venv.last_step_kpi  # before the same-step autoreset of finished envs
        assert kpi is not None
        local, _ = cell_reward(kpi, self.venv.core.weights)  # [B, M, n_cells]
        local_r = local.mean(1).numpy()  # [B, n_cells]
        w = self.local_weight
        slot_r = w * local_r + (1.0 - w) * rewards[:, None]  # [B, n_cells]
        dones_env = terminated | truncated
        slot_obs = self._slots(obs)
        out: list[dict[str, Any]] = []
        for b in range(self.n_envs_inner):
            info_b = _unbatch_info(infos, b)
            if dones_env[b]:
                info_b = _unbatch_info(infos["final_info"], b)
                final = self._slots(np.asarray(infos["final_obs"][b])[None])  # [n_cells, 3F]
            for c in range(self.n_cells):
                info = dict(info_b)
                if dones_env[b]:
                    info["terminal_observation"] = final[c]
                    info["TimeLimit.truncated"] = bool(truncated[b] and not terminated[b])
                out.append(info)
        dones = np.repeat(dones_env, self.n_cells)
        return slot_obs, slot_r.reshape(-1).astype(np.float32), dones, out


def make_cell_agents_vec_env(
    num_envs: int = 1, n_neighbours: int = 6, local_weight: float = 0.5, **env_kwargs: Any
) -> CellAgentsVecEnv:
    """A :class:`CellAgentsVecEnv` over ``num_envs`` batched envs (``env_kwargs`` as the env)."""
    return CellAgentsVecEnv(
        RanControlVectorEnv(num_envs=num_envs, autoreset_mode="same-step", **env_kwargs),
        n_neighbours=n_neighbours,
        local_weight=local_weight,
    )
