"""A natively batched :class:`gymnasium.vector.VectorEnv`: B envs, one backend call a step.

With the surrogate backend the B environments are one batched forward pass (where the
speed comes from); the simulator backend loops inside the backend, so the vector env is
already correct against it and the speed comes with the twin. It matches ``B`` single
:class:`~.env.RanControlEnv` s reset with the seeds ``seed, seed + 1, …`` exactly (Gymnasium's
convention for ``SyncVectorEnv``), including autoreset.

Autoreset: ``next-step`` (Gymnasium's default: the step after an episode ends resets that
env and returns its first observation with reward 0) or ``same-step`` (the reset happens in
the step that ends the episode; the last observation and info are in ``info["final_obs"]``
/ ``info["final_info"]``). ``reset(options={"reset_mask": mask})`` resets some envs only.

Actions: ``[B, n_cells, n_knobs]``, mapped as in the single env (:mod:`.actions`) in one pass
over the batch; a NaN / inf raises ``ValueError`` naming the env, the cell and the knob. The
action of an env that autoresets in this step (``next-step`` mode) is ignored, unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rantwin.scenarios import RewardWeights, Scenario

from .backend import Backend
from .core import EnvCore, draw_backend_seed
from .observation import n_features
from .render import render_map
from .types import KpiSample

__all__ = ["RanControlVectorEnv"]


class RanControlVectorEnv(VectorEnv):
    """``num_envs`` copies of ``rantwin/RanControl-v0`` stepped through one backend call.

    Args:
        num_envs: Batch size ``B``.
        scenario, backend, knobs, reward, members, episode_steps, render_mode,
            backend_kwargs: As :class:`~.env.RanControlEnv`.
        max_episode_steps: Optional extra truncation limit (``gymnasium.make_vec`` passes the
            registered one); the episode ends at ``min(episode_steps, max_episode_steps)``.
        autoreset_mode: ``"next-step"`` (default) or ``"same-step"`` (or the
            :class:`~gymnasium.vector.AutoresetMode`).
    """

    metadata: dict[str, Any] = {
        "render_modes": ["rgb_array"],
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        scenario: Scenario | str | None = "hex7-uma",
        backend: str | Backend = "surrogate",
        knobs: Sequence[str] | None = None,
        reward: RewardWeights | Mapping[str, float] | None = None,
        members: int = 1,
        episode_steps: int | None = None,
        render_mode: str | None = None,
        backend_kwargs: Mapping[str, Any] | None = None,
        max_episode_steps: int | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    ):
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        modes = {
            "next-step": AutoresetMode.NEXT_STEP,
            "same-step": AutoresetMode.SAME_STEP,
            AutoresetMode.NEXT_STEP: AutoresetMode.NEXT_STEP,
            AutoresetMode.SAME_STEP: AutoresetMode.SAME_STEP,
            AutoresetMode.NEXT_STEP.value: AutoresetMode.NEXT_STEP,
            AutoresetMode.SAME_STEP.value: AutoresetMode.SAME_STEP,
        }
        if autoreset_mode not in modes:
            raise ValueError(
                f"autoreset_mode must be 'next-step' or 'same-step' (or an AutoresetMode), "
                f"got {autoreset_mode!r}"
            )
        mode = modes[autoreset_mode]
        if render_mode is not None and render_mode != "rgb_array":
            raise ValueError(f"render_mode {render_mode!r} is not supported; 'rgb_array' or None")
        self.core = EnvCore(scenario, backend, knobs, reward, members, backend_kwargs)
        self.scenario = self.core.scenario
        self.action_map = self.core.actions
        steps = self.scenario.timing.steps_per_episode if episode_steps is None else episode_steps
        if max_episode_steps is not None:
            steps = min(steps, int(max_episode_steps))
        if steps < 1:
            raise ValueError(f"episode length must be >= 1, got {steps}")
        self.episode_steps = int(steps)
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.autoreset_mode = mode
        n_cells, n_knobs = self.action_map.shape
        self.single_action_space = spaces.Box(-1.0, 1.0, (n_cells, n_knobs), np.float32)
        self.single_observation_space = spaces.Box(
            -1.0, 1.0, (n_cells, n_features(self.action_map)), np.float32
        )
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._rngs: list[np.random.Generator] = [seeding.np_random()[0] for _ in range(num_envs)]
        self._state: Any = None
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._last: list[tuple[KpiSample, int] | None] = [None] * num_envs
        #: KPIs of the last ``step()`` of every env, taken before any autoreset (in
        #: ``next-step`` mode the entries of envs that were reset in that step are unused).
        self.last_step_kpi: KpiSample | None = None

    @property
    def last_kpi(self) -> KpiSample | None:
        """KPIs of the last super-step of every env, if one backend call produced them all.

        After ``reset()`` of all envs or a ``step()`` in which no env autoreset, this is the
        batched :class:`KpiSample` (batch element ``b`` = env ``b``); otherwise ``None``.
        """
        first = self._last[0]
        if first is None:
            return None
        kpi = first[0]
        for b, entry in enumerate(self._last):
            if entry is None or entry[0] is not kpi or entry[1] != b:
                return None
        return kpi

    # ------------------------------------------------------------------ helpers
    def _reset_some(self, index: Sequence[int]) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Reset envs ``index`` (their rngs must be seeded already); returns obs and infos."""
        seeds = [draw_backend_seed(self._rngs[i]) for i in index]
        new_state, kpi = self.core.reset_batch(seeds)
        if self._state is None or len(index) == self.num_envs:
            self._state = new_state
        else:
            self._state = self.core.backend.replace(self._state, list(index), new_state)
        self._elapsed[list(index)] = 0
        self._set_kpi(index, kpi)
        out = self.core.outputs(kpi, [0] * len(index))
        return out.obs, out.infos

    def _set_kpi(self, index: Sequence[int], kpi: KpiSample) -> None:
        """Remember where the last KPIs of envs ``index`` are (for render)."""
        for i, b in enumerate(index):
            self._last[b] = (kpi, i)

    def _batch_infos(self, infos: Sequence[dict[str, Any]], index: Sequence[int]) -> dict:
        out: dict[str, Any] = {}
        for info, b in zip(infos, index, strict=True):
            out = self._add_info(out, info, b)
        return out

    # ------------------------------------------------------------------ API
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset all envs (or those of ``options["reset_mask"]``).

        Args:
            seed: ``None``, an int (env ``i`` gets ``seed + i``) or one seed per env.
            options: ``{"reset_mask": [B] bool}`` to reset some envs only.

        Returns:
            ``(obs [B, n_cells, n_features], infos)``.
        """
        if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
            seeds: list[int | None] = [int(seed) + i for i in range(self.num_envs)]
        elif seed is None:
            seeds = [None] * self.num_envs
        else:
            seeds = list(seed)  # type: ignore[arg-type]
            if len(seeds) != self.num_envs:
                raise ValueError(f"expected {self.num_envs} seeds, got {len(seeds)}")
        mask = np.ones(self.num_envs, bool)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], dtype=bool)
            if mask.shape != (self.num_envs,):
                raise ValueError(f"reset_mask must have shape ({self.num_envs},)")
            if self._state is None and not mask.all():
                raise ValueError("the first reset must reset every env (reset_mask all True)")
        index = [int(i) for i in np.flatnonzero(mask)]
        for i in index:
            if seeds[i] is not None or self._state is None:
                self._rngs[i] = seeding.np_random(seeds[i])[0]
        obs, infos = self._reset_some(index)
        self._autoreset[index] = False
        if len(index) == self.num_envs:
            return obs, self._batch_infos(infos, index)
        full = np.zeros((self.num_envs, *obs.shape[1:]), np.float32)
        full[index] = obs
        return full, self._batch_infos(infos, index)

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every env; envs whose episode ended autoreset (see the module docstring)."""
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions)
        if actions.shape != self.action_space.shape:
            raise ValueError(
                f"actions have shape {actions.shape}, expected {self.action_space.shape} "
                "(num_envs, n_cells, n_knobs)"
            )
        b_all = list(range(self.num_envs))
        pending = [b for b in b_all if self._autoreset[b]]
        # Envs that autoreset now (next-step mode) step with the default config; their
        # result is discarded and replaced by a fresh episode below.
        if pending:  # their actions are ignored (not even checked)
            actions = actions.copy()
            actions[pending] = 0.0
        configs = self.action_map.to_configs(actions)
        for b in pending:
            configs[b] = self.core.default_config
        self._state, kpi = self.core.backend.step(self._state, configs)
        self._elapsed += 1
        out = self.core.outputs(kpi, self._elapsed.tolist())
        obs, rewards, infos = out.obs.copy(), out.reward.copy(), list(out.infos)
        self._set_kpi(b_all, kpi)
        self.last_step_kpi = kpi
        terminated = np.zeros(self.num_envs, bool)
        truncated = self._elapsed >= self.episode_steps
        if pending:
            r_obs, r_infos = self._reset_some(pending)
            for i, b in enumerate(pending):
                obs[b], rewards[b], infos[b] = r_obs[i], 0.0, r_infos[i]
                truncated[b] = False
        infos_b = self._batch_infos(infos, b_all)
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._autoreset = terminated | truncated
            return obs, rewards, terminated, truncated, infos_b
        # same-step: reset the finished envs now; their last obs / info go to final_obs /
        # final_info and the top-level info is the reset's (as SyncVectorEnv does)
        done = [b for b in b_all if terminated[b] or truncated[b]]
        if done:
            r_obs, r_infos = self._reset_some(done)
            infos_b = {}
            reset_of = dict(zip(done, range(len(done)), strict=True))
            for b in b_all:
                if b in reset_of:
                    final = {"final_obs": obs[b].copy(), "final_info": infos[b]}
                    infos_b = self._add_info(infos_b, final, b)
                    obs[b] = r_obs[reset_of[b]]
                    infos_b = self._add_info(infos_b, r_infos[reset_of[b]], b)
                else:
                    infos_b = self._add_info(infos_b, infos[b], b)
        return obs, rewards, terminated, truncated, infos_b

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One map per env (``rgb_array``), or ``None`` without render_mode."""
        if self.render_mode is None:
            return None
        frames = []
        for last in self._last:
            kpi, row = last if last is not None else (None, 0)
            frames.append(render_map(self.scenario, kpi, batch=row))
        return tuple(frames)
