"""The on-disk schema of a rantwin dataset: tables, columns, dtypes, units, keys, ranges.

A dataset is a directory of Parquet shards plus a JSON manifest (see
``docs/dataset-schema.md``). One shard is one world (a scenario) times one episode and holds
three tables:

- ``cells``: one row per (super-step, cell): the configuration in force and the cell KPIs.
- ``ues``: one row per (super-step, UE): position, serving cell and the UE KPIs.
- ``ue_tti``: one row per (super-step, UE, TTI): per-TTI samples (may be empty).

This module is the single source of truth: the writer casts and checks against it, the
validator reports against it and the documentation tables are generated from it
(:func:`schema_markdown`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

SCHEMA_VERSION: int = 2
"""Version of the table layout; bumped on any incompatible change of columns or meaning.

History: 2 (2026-12-01) added the ``ues`` columns ``x_start_m`` / ``y_start_m``, where
each UE's walk of the super-step began (a handover happens along the walk, not at its end).
"""


def version_hint(found: object) -> str:
    """What an error about a dataset of schema version ``found`` tells the user to do."""
    if isinstance(found, int) and not isinstance(found, bool) and found < SCHEMA_VERSION:
        return (
            f"; version {SCHEMA_VERSION} added the ues columns x_start_m / y_start_m (where "
            "each UE's walk began): regenerate the dataset with `rantwin simulate` or "
            "`rantwin rollout`"
        )
    return ""


FORMAT: str = "rantwin-dataset"
"""Value of the manifest's ``format`` field."""

MANIFEST_NAME: str = "manifest.json"
WORLDS_DIR: str = "worlds"
TMP_SUFFIX: str = ".tmp"

MAX_WORLD: int = 99_999  # shard ids use f"{world:05d}"
MAX_EPISODE: int = 9_999  # shard ids use f"{episode:04d}"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "int32": pa.int32(),
    "float32": pa.float32(),
    "bool": pa.bool_(),
}
_NUMPY_TYPES: dict[str, np.dtype] = {
    "int32": np.dtype(np.int32),
    "float32": np.dtype(np.float32),
    "bool": np.dtype(np.bool_),
}


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Attributes:
        name: column name.
        dtype: ``"int32"``, ``"float32"`` or ``"bool"``.
        unit: physical unit (``"-"`` for indices, counts and flags).
        description: meaning of the column.
        min: smallest valid value (inclusive), ``None`` for no lower bound.
        max: largest valid value (inclusive), ``None`` for no upper bound.
    """

    name: str
    dtype: str
    unit: str
    description: str
    min: float | None = None
    max: float | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        """The pyarrow type of the column."""
        return _ARROW_TYPES[self.dtype]

    @property
    def numpy_dtype(self) -> np.dtype:
        """The numpy dtype of the column."""
        return _NUMPY_TYPES[self.dtype]

    @property
    def range_text(self) -> str:
        """The valid range as text, e.g. ``[0, 1]``, ``>= 0`` or ``""`` when unbounded."""
        if self.min is not None and self.max is not None:
            return f"[{_fmt(self.min)}, {_fmt(self.max)}]"
        if self.min is not None:
            return f">= {_fmt(self.min)}"
        if self.max is not None:
            return f"<= {_fmt(self.max)}"
        return ""


@dataclass(frozen=True)
class TableSpec:
    """One table of a shard.

    Attributes:
        name: table name, also the shard sub-directory (``cells/<shard>.parquet``).
        description: what one row is.
        key: columns whose combination is unique within the dataset.
        columns: the columns, in file order.
    """

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of the columns in file order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """Return the column called ``name``.

        Raises:
            KeyError: ``name`` is not a column of this table (the message lists the valid ones).
        """
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(
            f"table {self.name!r} has no column {name!r}; columns are {list(self.column_names)}"
        )

    @property
    def arrow_schema(self) -> pa.Schema:
        """The pyarrow schema of the table."""
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _index(name: str, what: str) -> Column:
    return Column(name, "int32", "-", what, min=0)


_WORLD = _index("world", "world (scenario) id; its scenario is in `worlds/<world:05d>.json`")
_EPISODE = _index("episode", "episode index within the world")
_STEP = _index("step", "super-step index within the episode (contiguous, usually from 0)")
_UE = _index("ue", "UE index within the world")

CELLS = TableSpec(
    name="cells",
    description="one row per (world, episode, super-step, cell): config in force and cell KPIs",
    key=("world", "episode", "step", "cell"),
    columns=(
        _WORLD,
        _EPISODE,
        _STEP,
        _index("cell", "cell (sector) index within the world, 0..n_cells-1"),
        Column("hour", "float32", "h", "time of day at the super-step", min=0, max=24),
        Column(
            "load_factor",
            "float32",
            "-",
            "diurnal load envelope multiplier applied to traffic arrivals",
            min=0,
        ),
        Column(
            "power_offset_db",
            "float32",
            "dB",
            "transmit-power offset knob in force, relative to the nominal power",
        ),
        Column("tx_power_dbm", "float32", "dBm", "total transmit power in force"),
        Column("tilt_deg", "float32", "deg", "electrical downtilt in force (positive = down)"),
        Column("cio_db", "float32", "dB", "cell individual offset (A3 handover) in force"),
        Column("sleep", "bool", "-", "cell is asleep during the super-step"),
        Column(
            "prb_util",
            "float32",
            "-",
            "fraction of PRBs scheduled, mean over the super-step's TTIs",
            min=0,
            max=1,
        ),
        Column("n_served", "int32", "-", "UEs attached to (served by) the cell", min=0),
        Column("n_active", "int32", "-", "served UEs with traffic (active)", min=0),
        Column(
            "throughput_mbps",
            "float32",
            "Mbit/s",
            "cell throughput, mean over the super-step",
            min=0,
        ),
        Column(
            "energy_w",
            "float32",
            "W",
            "base-station input power, mean over the super-step (EARTH model)",
            min=0,
        ),
        Column(
            "handovers_out",
            "int32",
            "-",
            "handovers out of this cell during the super-step",
            min=0,
        ),
    ),
)

UES = TableSpec(
    name="ues",
    description="one row per (world, episode, super-step, UE): position, serving cell, UE KPIs",
    key=("world", "episode", "step", "ue"),
    columns=(
        _WORLD,
        _EPISODE,
        _STEP,
        _UE,
        Column("x_m", "float32", "m", "UE x position at the end of the super-step"),
        Column("y_m", "float32", "m", "UE y position at the end of the super-step"),
        Column(
            "x_start_m",
            "float32",
            "m",
            "UE x position at the start of the super-step, where its walk began (the previous "
            "super-step's end; the drop position on the first)",
        ),
        Column("y_start_m", "float32", "m", "UE y position at the start of the super-step"),
        Column("indoor", "bool", "-", "UE is indoor (O2I loss applies)"),
        Column("speed_mps", "float32", "m/s", "UE speed", min=0),
        Column("active", "bool", "-", "UE has traffic during the super-step"),
        Column(
            "serving_cell",
            "int32",
            "-",
            "serving cell index at the end of the super-step, 0..n_cells-1",
            min=0,
        ),
        Column(
            "rsrp_dbm",
            "float32",
            "dBm",
            "RSRP of the serving cell (per resource element, TS 38.215)",
            min=-200,
            max=0,
        ),
        Column(
            "coupling_loss_db",
            "float32",
            "dB",
            "coupling loss to the serving cell: path loss + shadowing + O2I - antenna gain",
        ),
        Column(
            "sinr_db",
            "float32",
            "dB",
            "wideband SINR, mean over the super-step's TTIs (mean in dB)",
            min=-50,
            max=60,
        ),
        Column(
            "throughput_mbps",
            "float32",
            "Mbit/s",
            "UE throughput, mean over the super-step",
            min=0,
        ),
        Column("handovers", "int32", "-", "handovers of the UE during the super-step", min=0),
        Column(
            "pingpongs",
            "int32",
            "-",
            "ping-pong handovers (back to the previous cell) during the super-step",
            min=0,
        ),
        Column("rlf", "bool", "-", "a radio link failure occurred during the super-step"),
    ),
)

UE_TTI = TableSpec(
    name="ue_tti",
    description="one row per (world, episode, super-step, UE, TTI): per-TTI samples",
    key=("world", "episode", "step", "ue", "tti"),
    columns=(
        _WORLD,
        _EPISODE,
        _STEP,
        _UE,
        _index("tti", "TTI index within the super-step"),
        Column("sinr_db", "float32", "dB", "wideband SINR in this TTI", min=-50, max=60),
        Column(
            "throughput_mbps",
            "float32",
            "Mbit/s",
            "UE throughput in this TTI",
            min=0,
        ),
    ),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (CELLS, UES, UE_TTI)}
"""Table specs by name, in shard order (``cells``, ``ues``, ``ue_tti``)."""

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
REQUIRED_TABLES: tuple[str, ...] = ("cells", "ues")
"""Tables :meth:`DatasetWriter.write_shard` requires; ``ue_tti`` may be omitted (empty)."""

SCHEMAS: dict[str, pa.Schema] = {name: t.arrow_schema for name, t in TABLES.items()}
KEYS: dict[str, tuple[str, ...]] = {name: t.key for name, t in TABLES.items()}

_SHARD_RE = re.compile(r"^w(\d{5})-e(\d{4})$")


def table_spec(name: str) -> TableSpec:
    """Return the spec of table ``name``.

    Raises:
        ValueError: unknown table name (the message lists the valid ones).
    """
    if name not in TABLES:
        raise ValueError(f"table must be one of {list(TABLE_NAMES)}, got {name!r}")
    return TABLES[name]


def check_world_episode(world: int, episode: int) -> tuple[int, int]:
    """Check and return ``(world, episode)`` as Python ints.

    Raises:
        ValueError: not an integer, or outside ``[0, 99999]`` / ``[0, 9999]``.
    """
    out = []
    for arg, value, hi in (("world", world, MAX_WORLD), ("episode", episode, MAX_EPISODE)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{arg} must be an integer in [0, {hi}], got {value!r}")
        if not 0 <= int(value) <= hi:
            raise ValueError(f"{arg} must be in [0, {hi}], got {value}")
        out.append(int(value))
    return out[0], out[1]


def shard_id(world: int, episode: int) -> str:
    """Return the shard id ``f"w{world:05d}-e{episode:04d}"`` (sorts by world, then episode)."""
    world, episode = check_world_episode(world, episode)
    return f"w{world:05d}-e{episode:04d}"


def parse_shard_id(shard: str) -> tuple[int, int]:
    """Return ``(world, episode)`` of a shard id.

    Raises:
        ValueError: ``shard`` does not match ``w<5 digits>-e<4 digits>``.
    """
    m = _SHARD_RE.match(shard) if isinstance(shard, str) else None
    if m is None:
        raise ValueError(f"shard id must look like 'w00012-e0003', got {shard!r}")
    return int(m.group(1)), int(m.group(2))


def shard_path(table: str, shard: str) -> str:
    """Relative path (POSIX) of a table's file of a shard, e.g. ``cells/w00000-e0000.parquet``."""
    return f"{table}/{shard}.parquet"


def world_path(world: int) -> str:
    """Relative path (POSIX) of a world's scenario file, e.g. ``worlds/00003.json``."""
    return f"{WORLDS_DIR}/{int(world):05d}.json"


def schema_markdown(name: str) -> str:
    """Return the Markdown column table of table ``name`` (used by docs/dataset-schema.md)."""
    spec = table_spec(name)
    lines = [
        "| column | dtype | unit | valid range | meaning |",
        "|---|---|---|---|---|",
    ]
    for c in spec.columns:
        lines.append(f"| `{c.name}` | {c.dtype} | {c.unit} | {c.range_text} | {c.description} |")
    return "\n".join(lines)
