"""The action mapping: ``Box([-1, 1], (n_cells, n_knobs))`` → :class:`CellConfig`.

Each controllable knob maps linearly from ``[-1, 1]`` to its physical range
``[low, high]`` (``value = low + (a + 1) / 2 · (high − low)``). ``sleep`` is thresholded: a
cell sleeps when its action is ``> 0``. Out-of-range actions are clipped to ``[-1, 1]``
first (as Gymnasium expects); NaN / inf raise :class:`ValueError` naming the cell and the
knob; a wrong shape names the expected shape. If every cell would sleep, the cell with the
lowest sleep action stays awake (the simulator needs one awake cell). Knobs the env does
not control keep their default (:meth:`CellConfig.default`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rantwin.scenarios import KNOB_NAMES, CellConfig, Knob, Scenario

__all__ = ["ActionMap", "resolve_knobs"]


def resolve_knobs(scenario: Scenario, knobs: Sequence[str] | None) -> tuple[Knob, ...]:
    """The knobs an env controls, in a fixed order.

    Args:
        scenario: The scenario (its ``knobs`` are the controllable ones and their ranges).
        knobs: Names to control (a subset of the scenario's), or ``None`` for all of them.

    Returns:
        The :class:`Knob` objects, in :data:`KNOB_NAMES` order.

    Raises:
        ValueError: Unknown name, a knob the scenario does not make controllable, a
            duplicate, or an empty selection.
    """
    if knobs is None:
        names = [k.name for k in scenario.knobs]
    else:
        if isinstance(knobs, str):
            knobs = [knobs]
        names = list(knobs)
        for n in names:
            if n not in KNOB_NAMES:
                raise ValueError(f"unknown knob {n!r}; valid knobs: {', '.join(KNOB_NAMES)}")
            if scenario.knob(n) is None:
                valid = ", ".join(k.name for k in scenario.knobs) or "none"
                raise ValueError(
                    f"knob {n!r} is not controllable in scenario {scenario.name!r} "
                    f"(controllable: {valid})"
                )
        if len(set(names)) != len(names):
            raise ValueError(f"knobs must be distinct, got {names}")
    if not names:
        raise ValueError(f"scenario {scenario.name!r} has no controllable knob; nothing to act on")
    out = [scenario.knob(n) for n in KNOB_NAMES if n in names]
    return tuple(k for k in out if k is not None)


@dataclass(frozen=True)
class ActionMap:
    """Maps normalised actions to configs and configs back to normalised knob values.

    Attributes:
        scenario: The scenario.
        knobs: The controlled knobs (column order of the action).
    """

    scenario: Scenario
    knobs: tuple[Knob, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """Action shape ``(n_cells, n_knobs)``."""
        return (self.scenario.n_cells, len(self.knobs))

    @cached_property
    def default_config(self) -> CellConfig:
        """The config of the knobs the env does not control (built once; configs are frozen)."""
        return CellConfig.default(self.scenario)

    def to_config(self, action: np.ndarray) -> CellConfig:
        """The config an action injects.

        Args:
            action: ``[n_cells, n_knobs]`` in ``[-1, 1]`` (clipped if outside).

        Returns:
            A validated :class:`CellConfig`.

        Raises:
            ValueError: Wrong shape (naming the expected one) or a NaN / inf entry (naming
                the cell and the knob).
        """
        a = np.asarray(action, dtype=np.float64)
        if a.shape != self.shape:
            if a.size == self.shape[0] * self.shape[1] and a.ndim == 1:
                raise ValueError(
                    f"action has shape {a.shape}, expected {self.shape} (n_cells, n_knobs); "
                    "reshape a flat action or use rantwin.envs.FlattenAction"
                )
            raise ValueError(
                f"action has shape {a.shape}, expected {self.shape} (n_cells, n_knobs) with "
                f"knobs {[k.name for k in self.knobs]}"
            )
        return self.to_configs(a[None])[0]

    def to_configs(self, actions: np.ndarray) -> list[CellConfig]:
        """The configs of a batch of actions, one per element (as :meth:`to_config` each).

        The checks, the clipping and the linear maps run once over the batch; only the
        config objects are built per element.

        Args:
            actions: ``[B, n_cells, n_knobs]`` in ``[-1, 1]`` (clipped if outside).

        Returns:
            ``B`` validated :class:`CellConfig`.

        Raises:
            ValueError: Wrong shape (naming the expected one) or a NaN / inf entry (naming
                the element when ``B > 1``, the cell and the knob).
        """
        a = np.asarray(actions, dtype=np.float64)
        if a.ndim != 3 or a.shape[1:] != self.shape:
            raise ValueError(
                f"actions have shape {a.shape}, expected (batch, *{self.shape}) "
                f"(batch, n_cells, n_knobs) with knobs {[k.name for k in self.knobs]}"
            )
        bad = np.argwhere(~np.isfinite(a))
        if bad.size:
            b, i, j = (int(v) for v in bad[0])
            where = f"env {b}, " if a.shape[0] > 1 else ""
            raise ValueError(
                f"action for {where}cell {i}, knob {self.knobs[j].name!r} must be finite, "
                f"got {a[b, i, j]}"
            )
        a = np.clip(a, -1.0, 1.0)
        columns: dict[str, np.ndarray] = {}  # knob -> [B, n_cells]
        for j, k in enumerate(self.knobs):
            col = a[..., j]
            if k.name == "sleep":
                sleep = col > 0.0
                for e in np.flatnonzero(sleep.all(-1)).tolist():  # one cell stays awake
                    sleep[e, int(np.argmin(col[e]))] = False
                columns["sleep"] = sleep
            else:
                v = k.low + (col + 1.0) * 0.5 * (k.high - k.low)
                columns[k.name] = np.clip(v, k.low, k.high)
        base = self.default_config
        return [
            base.replace(self.scenario, **{name: c[b] for name, c in columns.items()})
            for b in range(a.shape[0])
        ]

    def normalise(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Inverse map: knob values ``{name: [..., n_cells]}`` → ``[..., n_cells, n_knobs]``.

        Continuous knobs map linearly to ``[-1, 1]``; ``sleep`` to ``+1`` (asleep) / ``-1``.

        Args:
            values: Physical knob values per cell (e.g. a :class:`KpiSample`'s ``cfg_*``).

        Returns:
            float32 array in ``[-1, 1]``.
        """
        cols = []
        for k in self.knobs:
            v = np.asarray(values[k.name], dtype=np.float64)
            if k.name == "sleep":
                cols.append(np.where(v > 0.5, 1.0, -1.0))
            else:
                cols.append(2.0 * (v - k.low) / (k.high - k.low) - 1.0)
        return np.clip(np.stack(cols, -1), -1.0, 1.0).astype(np.float32)

    def table(self) -> str:
        """The mapping as a Markdown table (for docs and ``repr``)."""
        lines = ["| column | knob | -1 | +1 | mapping |", "|---|---|---|---|---|"]
        for j, k in enumerate(self.knobs):
            if k.name == "sleep":
                lines.append(f"| {j} | sleep | awake | asleep | asleep if a > 0 |")
            else:
                lines.append(f"| {j} | {k.name} | {k.low:g} | {k.high:g} | linear |")
        return "\n".join(lines)
