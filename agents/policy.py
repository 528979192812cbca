"""The one interface every controller implements: rule baselines and trained agents alike.

A :class:`Policy` is bound to an env's scenario and knob set when it is built, reset at
the start of every episode (rules keep state: the config they are nudging), and maps an
observation to an action::

    policy.reset()
    action = policy.act(obs)   # obs [n_cells, n_features] -> action [n_cells, n_knobs]

Actions are in the env's normalised ``[-1, 1]`` space (:class:`~rantwin.envs.ActionMap`);
observations are the env's normalised KPI rows (:mod:`rantwin.envs.observation`).
:class:`ObsView` reads physical values back out of an observation, so rules can be written
in dB, Mbit/s and utilisation rather than in normalised columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from rantwin.envs import KPI_FEATURES, ActionMap, feature_names
from rantwin.scenarios import KNOB_NAMES, CellConfig

__all__ = ["ObsView", "Policy", "check_counts", "default_action"]


@runtime_checkable
class Policy(Protocol):
    """A controller: ``reset()`` per episode, then ``act(obs) -> action`` per super-step.

    Attributes:
        name: Short name used in reports and tables (``"static"``, ``"ppo"``, ...).
    """

    name: str

    def reset(self) -> None:
        """Forget per-episode state (called before the first ``act`` of every episode)."""
        ...

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The action for one observation.

        **Input:** ``obs`` ``[n_cells, n_features]`` float32 (the env's observation).

        **Output:** ``[n_cells, n_knobs]`` float32 in ``[-1, 1]``.
        """
        ...


def check_counts(**values: object) -> None:
    """Raise ``ValueError`` naming the first argument that is not an integer >= 1."""
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")


def default_action(actions: ActionMap) -> np.ndarray:
    """The normalised action that injects the scenario's default config.

    **Output:** ``[n_cells, n_knobs]`` float32.
    """
    cfg = CellConfig.default(actions.scenario)
    return actions.normalise({k: np.asarray(getattr(cfg, k)) for k in KNOB_NAMES})


@dataclass(frozen=True)
class ObsView:
    """Physical KPI values read back from an observation (inverse of the normalisation).

    Values clipped by the normalisation stay clipped (e.g. RSRP below −140 dBm reads as
    −140); a cell without (active) UEs reads the bottom of each quantile's range.

    Attributes:
        actions: The env's action map (gives the knob columns).
    """

    actions: ActionMap

    def column(self, name: str) -> int:
        """Index of a named observation column (``"prb_util"``, ``"knob_tilt_deg"``, ...)."""
        names = feature_names(self.actions)
        if name not in names:
            raise ValueError(f"observation has no column {name!r}; columns: {', '.join(names)}")
        return names.index(name)

    def kpi(self, obs: np.ndarray, name: str) -> np.ndarray:
        """A KPI column in physical units.

        Args:
            obs: ``[..., n_cells, n_features]`` observation.
            name: A :data:`~rantwin.envs.KPI_FEATURES` name (``"sinr_p10"``, ``"prb_util"``).

        Returns:
            ``[..., n_cells]`` float64 (dBm, dB, Mbit/s, utilisation, UEs, per UE, W).
        """
        feats = {f.name: f for f in KPI_FEATURES}
        if name not in feats:
            raise ValueError(f"unknown KPI {name!r}; KPIs: {', '.join(feats)}")
        f = feats[name]
        z = np.asarray(obs, dtype=np.float64)[..., self.column(name)]
        v = f.lo + (z + 1.0) * 0.5 * (f.hi - f.lo)
        return np.expm1(v) if f.log1p else v

    def knob(self, obs: np.ndarray, name: str) -> np.ndarray:
        """The value in force of a controlled knob, normalised like the action ``[-1, 1]``.

        Returns:
            ``[..., n_cells]`` float64.
        """
        return np.asarray(obs, dtype=np.float64)[..., self.column(f"knob_{name}")]

    def hour(self, obs: np.ndarray) -> float:
        """Hour of day in ``[0, 24)`` (from the sin / cos columns of the first cell)."""
        o = np.asarray(obs, dtype=np.float64).reshape(-1, obs.shape[-1])[0]
        s, c = o[self.column("hour_sin")], o[self.column("hour_cos")]
        return float((math.atan2(s, c) / (2.0 * math.pi) * 24.0) % 24.0)
