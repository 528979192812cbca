"""Wrappers for libraries that need flat spaces (stable-baselines3)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import FlattenObservation

__all__ = ["FlattenAction", "flatten_env"]


class FlattenAction(gym.ActionWrapper):
    """Present a ``Box`` action of any shape as a 1-D ``Box`` (SB3 needs 1-D actions).

    Args:
        env: An env with a ``Box`` action space (e.g. ``(n_cells, n_knobs)``).
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        box = env.action_space
        if not isinstance(box, spaces.Box):
            raise ValueError(f"FlattenAction needs a Box action space, got {box}")
        self._shape = box.shape
        self.action_space = spaces.Box(
            box.low.reshape(-1),
            box.high.reshape(-1),
            dtype=box.dtype,
        )

    def action(self, action: Any) -> np.ndarray:
        """Reshape a flat action back to the env's shape."""
        a = np.asarray(action)
        if a.shape != self.action_space.shape:
            raise ValueError(
                f"action has shape {a.shape}, expected {self.action_space.shape} "
                f"(flattened {self._shape})"
            )
        return a.reshape(self._shape)


def flatten_env(env: gym.Env) -> gym.Env:
    """``FlattenAction(FlattenObservation(env))``: 1-D observations and actions for SB3."""
    return FlattenAction(FlattenObservation(env))
