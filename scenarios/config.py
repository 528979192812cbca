"""Per-cell configuration in force: the values of the control knobs.

A :class:`CellConfig` is immutable: its arrays are read-only copies. Changing a knob creates a
new config (:meth:`CellConfig.replace`); the scenario itself never changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - import for annotations only
    from .schema import Scenario

__all__ = ["CellConfig"]

_FLOAT_FIELDS = ("power_offset_db", "tilt_deg", "cio_db")
_FIELDS = (*_FLOAT_FIELDS, "sleep")


def _as_readonly(name: str, value: Any, dtype: type) -> np.ndarray:
    arr: np.ndarray = np.array(value, dtype=dtype, copy=True)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array [n_cells], got shape {arr.shape}")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class CellConfig:
    """The knob values of every cell (read-only arrays ``[n_cells]``).

    Attributes:
        power_offset_db: ``[n_cells]`` float64, dB added to each sector's ``tx_power_dbm``.
        tilt_deg: ``[n_cells]`` float64, absolute electrical downtilt in degrees.
        cio_db: ``[n_cells]`` float64, cell individual offset (A3 event, handover bias) in dB.
        sleep: ``[n_cells]`` bool, ``True`` = the cell is switched off.

    Construction copies the inputs into read-only arrays and rejects NaN / inf (naming the
    cell and knob) and mismatched lengths; :meth:`validate` checks the ranges of a scenario.
    """

    power_offset_db: np.ndarray
    tilt_deg: np.ndarray
    cio_db: np.ndarray
    sleep: np.ndarray

    def __post_init__(self) -> None:
        for name in _FLOAT_FIELDS:
            try:
                arr = _as_readonly(name, getattr(self, name), np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name}: cannot convert to float64 [n_cells]: {exc}") from exc
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"{name} for cell {i} must be finite, got {arr[i]}")
            object.__setattr__(self, name, arr)
        sleep = np.asarray(self.sleep)
        if sleep.dtype != np.bool_:
            if sleep.dtype.kind == "f":
                bad = np.flatnonzero(~np.isfinite(sleep))
                if bad.size:
                    i = int(bad[0])
                    raise ValueError(f"sleep for cell {i} must be finite, got {sleep[i]}")
            if sleep.dtype.kind not in "biuf" or not np.all((sleep == 0) | (sleep == 1)):
                raise ValueError(f"sleep must be boolean (or 0/1) [n_cells], got {sleep!r}")
        object.__setattr__(self, "sleep", _as_readonly("sleep", sleep, np.bool_))
        n = {name: getattr(self, name).shape[0] for name in _FIELDS}
        if len(set(n.values())) != 1:
            raise ValueError(f"all knob arrays must have the same length n_cells, got {n}")

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.sleep.shape[0])

    @classmethod
    def default(cls, scenario: Scenario) -> CellConfig:
        """The configuration at reset: offset 0 dB, the sector tilts, CIO 0 dB, all awake.

        Args:
            scenario: The scenario.

        Returns:
            A validated :class:`CellConfig`.
        """
        cells = scenario.cells()
        n = cells.n_cells
        return cls(
            power_offset_db=np.zeros(n),
            tilt_deg=cells.tilt_deg,
            cio_db=np.zeros(n),
            sleep=np.zeros(n, dtype=bool),
        ).validate(scenario)

    def validate(self, scenario: Scenario) -> CellConfig:
        """Check the config against a scenario's cells and knob ranges.

        A knob listed in ``scenario.knobs`` must lie in its ``[low, high]``; a knob that is
        not controllable must keep its default (offset 0, sector tilt, CIO 0, awake).

        Args:
            scenario: The scenario the config is for.

        Returns:
            ``self``, for chaining.

        Raises:
            ValueError: Wrong number of cells, or a value outside its knob's range, naming
                ``cell {i}``, the knob, the value and the range.
        """
        n = scenario.n_cells
        if self.n_cells != n:
            raise ValueError(
                f"config has {self.n_cells} cells, scenario {scenario.name!r} has {n} cells"
            )
        defaults = {
            "power_offset_db": np.zeros(n),
            "tilt_deg": scenario.cells().tilt_deg,
            "cio_db": np.zeros(n),
            "sleep": np.zeros(n, dtype=bool),
        }
        for name in _FIELDS:
            values = getattr(self, name)
            knob = scenario.knob(name)
            if knob is None:
                bad = np.flatnonzero(values != defaults[name])
                if bad.size:
                    i = int(bad[0])
                    raise ValueError(
                        f"{name} for cell {i} is not controllable in scenario "
                        f"{scenario.name!r} and must stay {defaults[name][i]}, got {values[i]}"
                    )
                continue
            if name == "sleep":
                continue  # a bool is always within [0, 1]
            bad = np.flatnonzero((values < knob.low) | (values > knob.high))
            if bad.size:
                i = int(bad[0])
                raise ValueError(
                    f"{name} for cell {i} must be in [{knob.low:g}, {knob.high:g}], got {values[i]}"
                )
        return self

    def replace(self, scenario: Scenario | None = None, **arrays: Any) -> CellConfig:
        """A new config with some knob arrays replaced (``self`` is unchanged).

        Args:
            scenario: If given, the new config is also range-checked against it
                (:meth:`validate`); the finite / length checks always run.
            **arrays: New values for ``power_offset_db``, ``tilt_deg``, ``cio_db``,
                ``sleep`` (each ``[n_cells]``).

        Returns:
            The new :class:`CellConfig`.

        Raises:
            ValueError: Unknown knob name, NaN / inf, wrong length, or out of range.
        """
        unknown = sorted(set(arrays) - set(_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown knob(s) {', '.join(unknown)}; valid knobs: {', '.join(_FIELDS)}"
            )
        new = dataclasses.replace(self, **arrays)
        if new.n_cells != self.n_cells:
            raise ValueError(f"replace changed n_cells from {self.n_cells} to {new.n_cells}")
        return new.validate(scenario) if scenario is not None else new

    def to_dict(self) -> dict[str, list[Any]]:
        """JSON-safe form: ``{knob: list of per-cell values}``.

        Returns:
            A dict of plain Python lists.
        """
        return {name: getattr(self, name).tolist() for name in _FIELDS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], scenario: Scenario | None = None) -> CellConfig:
        """Inverse of :meth:`to_dict`.

        Args:
            d: Mapping with exactly the keys ``power_offset_db``, ``tilt_deg``, ``cio_db``,
                ``sleep``.
            scenario: If given, the config is validated against it.

        Returns:
            The :class:`CellConfig`.

        Raises:
            ValueError: Unknown or missing key, or an invalid value.
        """
        if not isinstance(d, Mapping):
            raise ValueError(f"CellConfig.from_dict expects a mapping, got {type(d).__name__}")
        unknown = sorted(set(d) - set(_FIELDS))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key; valid keys: {', '.join(_FIELDS)}")
        missing = [k for k in _FIELDS if k not in d]
        if missing:
            raise ValueError(f"{missing[0]}: required key missing")
        config = cls(**{k: d[k] for k in _FIELDS})
        return config.validate(scenario) if scenario is not None else config

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CellConfig):
            return NotImplemented
        return all(np.array_equal(getattr(self, f), getattr(other, f)) for f in _FIELDS)

    __hash__ = None  # type: ignore[assignment]
