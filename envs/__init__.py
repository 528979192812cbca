"""rantwin.envs: Gymnasium, PettingZoo and batched vector envs over a backend protocol.

Importing this package registers ``rantwin/RanControl-v0`` (entry point
:class:`~.env.RanControlEnv`, vector entry point :class:`~.vector.RanControlVectorEnv`)::

    import gymnasium as gym
    import rantwin.envs  # registers the ids

    env = gym.make("rantwin/RanControl-v0", scenario="hex7-uma", episode_steps=8)
    vec = gym.make_vec("rantwin/RanControl-v0", num_envs=4, scenario="hex7-uma")
    par = rantwin.envs.parallel_env(scenario="hex7-uma")   # PettingZoo, one agent per cell

Backends (:mod:`.backend`): ``"surrogate"`` (the bundled learned twin, the default) and
``"simulator"`` (the oracle), both behind :class:`~.backend.Backend`.

stable-baselines3 adapters (:mod:`.sb3`): :class:`SB3VecEnv` (single agent, flat spaces),
:class:`SharedPolicyVecEnv` (one PettingZoo env, parameter sharing) and
:class:`CellAgentsVecEnv` (every cell of every batched env one slot, parameter sharing).
"""

from __future__ import annotations

import gymnasium as gym

from .actions import ActionMap, resolve_knobs
from .backend import BACKENDS, Backend, make_backend
from .env import RanControlEnv
from .evaluate import EvalResult, evaluate
from .observation import KPI_FEATURES, feature_names, observe
from .parallel import RanControlParallelEnv, parallel_env
from .reward import TERMS, cell_reward, compute_reward
from .sb3 import (
    CellAgentsVecEnv,
    SB3VecEnv,
    SharedPolicyVecEnv,
    make_cell_agents_vec_env,
    make_sb3_vec_env,
)
from .types import KpiSample, config_tensors
from .vector import RanControlVectorEnv
from .wrappers import FlattenAction, flatten_env

ENV_ID = "rantwin/RanControl-v0"

__all__ = [
    "BACKENDS",
    "CellAgentsVecEnv",
    "ENV_ID",
    "KPI_FEATURES",
    "TERMS",
    "ActionMap",
    "Backend",
    "EvalResult",
    "FlattenAction",
    "KpiSample",
    "RanControlEnv",
    "RanControlParallelEnv",
    "RanControlVectorEnv",
    "SB3VecEnv",
    "SharedPolicyVecEnv",
    "cell_reward",
    "compute_reward",
    "config_tensors",
    "evaluate",
    "feature_names",
    "flatten_env",
    "make_backend",
    "make_cell_agents_vec_env",
    "make_sb3_vec_env",
    "observe",
    "parallel_env",
    "resolve_knobs",
]

if ENV_ID not in gym.registry:
    gym.register(
        ENV_ID,
        entry_point="rantwin.envs.env:RanControlEnv",
        vector_entry_point="rantwin.envs.vector:RanControlVectorEnv",
    )
