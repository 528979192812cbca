"""``rantwin/RanControl-v0``: closed-loop control of a radio access network, one agent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rantwin.scenarios import CellConfig, RewardWeights, Scenario

from .backend import Backend
from .core import EnvCore, draw_backend_seed
from .observation import feature_names, n_features
from .render import render_map
from .types import KpiSample

__all__ = ["RanControlEnv"]


class RanControlEnv(gym.Env):
    """Closed-loop control of the per-cell knobs of a RAN scenario.

    Every step is one super-step of the scenario (by default 15 minutes of a day with a
    diurnal load envelope): the action is injected as the cell configuration at the
    super-step boundary, the backend simulates the super-step, and the observation is the
    sampled KPI distribution of every cell.

    ## Action Space

    ``Box(-1, 1, shape=(n_cells, n_knobs), float32)``: one column per controlled knob, in
    the order ``power_offset_db, tilt_deg, cio_db, sleep`` (those the scenario and the
    ``knobs`` argument make controllable). Column ``j`` maps linearly from ``[-1, 1]`` to the
    knob's physical range ``[low, high]`` (``value = low + (a + 1)/2 · (high − low)``);
    defaults of the built-in scenarios:

    | knob | unit | -1 | +1 | mapping |
    |---|---|---|---|---|
    | power_offset_db | dB (added to the sector's tx power) | -10 | 0 | linear |
    | tilt_deg | deg electrical downtilt | 0 | 15 | linear |
    | cio_db | dB cell individual offset (A3) | -6 | +6 | linear |
    | sleep | - | awake | asleep | asleep if a > 0 |

    Out-of-range actions are clipped; NaN / inf raise ``ValueError`` naming the cell and
    the knob; a wrong shape raises ``ValueError`` naming the expected shape. If every cell
    would sleep, the cell with the lowest sleep action stays awake. ``env.unwrapped.
    action_map.table()`` prints the table of the env's own scenario.

    ## Observation Space

    ``Box(-1, 1, shape=(n_cells, n_features), float32)``, one row per cell
    (:mod:`rantwin.envs.observation` documents ranges and transforms):

    | column | feature | physical range mapped to [-1, 1] |
    |---|---|---|
    | 0-2 | p10 / p50 / p90 RSRP of the served UEs | -140 … -40 dBm |
    | 3-5 | p10 / p50 / p90 SINR of the active served UEs | -20 … 40 dB |
    | 6-8 | p10 / p50 / p90 throughput of the active served UEs | log1p, 0 … 1000 Mbit/s |
    | 9 | PRB utilisation | 0 … 1 |
    | 10 | active served UEs | log1p, 0 … 200 |
    | 11 | handovers out per served UE | 0 … 1 |
    | 12 | base-station input power | 0 … 1000 W |
    | 13 … 12+n_knobs | knob values in force, normalised like the action | low … high |
    | last two | sin / cos of 2π · hour / 24 | - |

    With ``members > 1`` the observation is the mean over members of their observations.

    ## Rewards

    ``r = w_thr·T − w_energy·E − w_cov·H − w_ho·R`` with the weights of
    ``scenario.reward`` (or the ``reward`` argument): *T* mean ``log(1 + throughput)`` of
    the active UEs over ``log(1 + 100 Mbit/s)``, *E* mean cell input power over 500 W, *H*
    the fraction of active UEs below ``coverage_sinr_db``, *R* handovers per UE
    (:mod:`rantwin.envs.reward`). Every term is in ``info`` (``reward_throughput``,
    ``reward_energy``, ``reward_coverage_holes``, ``reward_handover_rate``), unweighted;
    ``info["reward_members"]`` holds the reward of each member, the reward is their mean.

    ## Starting State

    ``reset(seed=…)`` seeds the env's ``np_random``, draws the backend seed from it, drops
    the UEs and draws the episode's large-scale randomness, then simulates one super-step
    under the scenario's default configuration so that the first observation holds real
    KPIs. The first action applies to the next super-step.

    ## Episode End

    There is no terminal state (``terminated`` is always ``False``). The episode is
    truncated after ``episode_steps`` steps (default ``scenario.timing.steps_per_episode``,
    e.g. 96 × 15 min = one day); ``gymnasium.make(..., max_episode_steps=N)`` adds the usual
    ``TimeLimit`` on top.

    ## Arguments

    ```python
    gymnasium.make(
        "rantwin/RanControl-v0",
        scenario="hex7-uma",   # built-in name, YAML path or Scenario
        backend="surrogate",   # "surrogate" (bundled twin) | "simulator" | a Backend
        knobs=None,            # subset of the scenario's knobs, e.g. ["tilt_deg", "sleep"]
        reward=None,           # RewardWeights or {"energy": 0.5, ...} over scenario.reward
        members=1,             # ensemble members stepped in lockstep
        episode_steps=None,    # default: scenario.timing.steps_per_episode
        render_mode=None,      # or "rgb_array"
    )
    ```

    The default backend is ``"surrogate"``: the bundled twin checkpoint
    (``rantwin/surrogate/default_twin``; pass ``backend_kwargs={"checkpoint": DIR}`` for
    another), fast and batched; ``"simulator"`` is the oracle. Spaces, reward and info keys
    do not depend on the backend.

    ## Version History

    - v0: initial version.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 4}

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
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode {render_mode!r} is not supported; valid: "
                f"{self.metadata['render_modes']} or None"
            )
        self.core = EnvCore(scenario, backend, knobs, reward, members, backend_kwargs)
        self.scenario = self.core.scenario
        self.action_map = self.core.actions
        if episode_steps is None:
            episode_steps = self.scenario.timing.steps_per_episode
        if isinstance(episode_steps, bool) or not isinstance(episode_steps, int | np.integer):
            raise ValueError(f"episode_steps must be an integer >= 1, got {episode_steps!r}")
        if episode_steps < 1:
            raise ValueError(f"episode_steps must be >= 1, got {episode_steps}")
        self.episode_steps = int(episode_steps)
        self.render_mode = render_mode
        self.feature_names = feature_names(self.action_map)
        n_cells, n_knobs = self.action_map.shape
        self.action_space = spaces.Box(-1.0, 1.0, shape=(n_cells, n_knobs), dtype=np.float32)
        self.observation_space = spaces.Box(
            -1.0, 1.0, shape=(n_cells, n_features(self.action_map)), dtype=np.float32
        )
        self._state: Any = None
        self._elapsed = 0
        self.last_kpi: KpiSample | None = None
        self.config: CellConfig = self.core.default_config

    @property
    def backend(self) -> Backend:
        """The backend (simulator or surrogate)."""
        return self.core.backend

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode (see *Starting State*)."""
        super().reset(seed=seed)
        self._state, kpi = self.core.reset_batch([draw_backend_seed(self.np_random)])
        self._elapsed = 0
        self.config = self.core.default_config
        self.last_kpi = kpi
        out = self.core.outputs(kpi, [0])
        return out.obs[0], out.infos[0]

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Inject ``action`` as the config and simulate one super-step."""
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        config = self.action_map.to_config(action)
        self._state, kpi = self.backend.step(self._state, [config])
        self._elapsed += 1
        self.config = config
        self.last_kpi = kpi
        out = self.core.outputs(kpi, [self._elapsed])
        truncated = self._elapsed >= self.episode_steps
        return out.obs[0], float(out.reward[0]), False, truncated, out.infos[0]

    def render(self) -> np.ndarray | None:
        """The map (``rgb_array``: ``[H, W, 3]`` uint8), or ``None`` without render_mode."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        return render_map(self.scenario, self.last_kpi)
