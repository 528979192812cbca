"""Column coercion and value checks shared by the writer and the validator.

The writer raises on the problems these functions find; the validator collects them. Both
use the same code, so a shard the writer accepts passes :func:`validate_dataset`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .schema import Column, TableSpec

_INT32 = np.iinfo(np.int32)


def coerce_column(table: str, col: Column, values: Any) -> np.ndarray:
    """Cast ``values`` to the column's dtype when that is safe.

    Safe casts: integer -> int32 (values within int32), integer/float -> float32 (no overflow
    to inf), bool -> bool. Anything else (float -> int, int -> bool, strings, objects) is
    refused, so a mistaken column cannot be silently truncated.

    **Input**: ``values``: ``[n_rows]`` array-like.

    **Output**: ``[n_rows]`` numpy array of ``col.numpy_dtype``.

    Raises:
        ValueError: names the table, the column and the problem.
    """
    where = f"table {table!r} column {col.name!r}"
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{where} must be a 1-D array, got shape {arr.shape}")
    kind = arr.dtype.kind
    if col.dtype == "bool":
        if kind != "b":
            raise ValueError(
                f"{where} must be bool, got dtype {arr.dtype} (cast explicitly, e.g. x != 0)"
            )
        return arr.astype(np.bool_, copy=False)
    if col.dtype == "int32":
        if kind not in "iu":
            raise ValueError(
                f"{where} must be int32, got dtype {arr.dtype}; only integer dtypes are cast "
                "safely (round and cast explicitly)"
            )
        if arr.size and (int(arr.min()) < _INT32.min or int(arr.max()) > _INT32.max):
            raise ValueError(
                f"{where} has values outside the int32 range "
                f"[{_INT32.min}, {_INT32.max}] (min {arr.min()}, max {arr.max()})"
            )
        return arr.astype(np.int32, copy=False)
    if col.dtype == "float32":
        if kind not in "fiu":
            raise ValueError(
                f"{where} must be float32, got dtype {arr.dtype}; only integer and float "
                "dtypes are cast safely"
            )
        with np.errstate(over="ignore"):
            out = arr.astype(np.float32, copy=False)
        if kind == "f" and arr.dtype.itemsize > 4:
            overflow = np.isinf(out) & np.isfinite(arr)
            if overflow.any():
                raise ValueError(
                    f"{where} has {int(overflow.sum())} finite values that overflow float32 "
                    f"(first {arr[overflow][0]})"
                )
        return out
    raise AssertionError(f"unknown schema dtype {col.dtype!r}")  # schema invariant


def coerce_table(spec: TableSpec, columns: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Check a dict of columns against a table spec and cast each to its schema dtype.

    **Input**: ``columns``: column name -> ``[n_rows]`` array-like, exactly the spec's columns.

    **Output**: column name -> ``[n_rows]`` numpy array, in schema order.

    Raises:
        ValueError: a missing or unexpected column, a column that cannot be cast safely, or
            columns of different lengths (names the table and the column).
    """
    if not isinstance(columns, Mapping):
        raise ValueError(
            f"table {spec.name!r} must be a dict of column name -> numpy array, "
            f"got {type(columns).__name__}"
        )
    names = spec.column_names
    missing = [n for n in names if n not in columns]
    if missing:
        raise ValueError(f"table {spec.name!r} is missing column(s) {missing}")
    unexpected = sorted(str(n) for n in columns if n not in names)
    if unexpected:
        raise ValueError(
            f"table {spec.name!r} has unexpected column(s) {unexpected}; "
            f"the schema's columns are {list(names)}"
        )
    out = {c.name: coerce_column(spec.name, c, columns[c.name]) for c in spec.columns}
    n = len(out[names[0]])
    for name, arr in out.items():
        if len(arr) != n:
            raise ValueError(
                f"table {spec.name!r} column {name!r} has {len(arr)} rows, "
                f"but column {names[0]!r} has {n}"
            )
    return out


def duplicate_keys(key_cols: list[np.ndarray]) -> tuple[int, tuple[int, ...] | None]:
    """Count rows whose key repeats an earlier row's key.

    **Input**: ``key_cols``: list of ``[n_rows]`` integer arrays.

    **Output**: (number of duplicate rows, the first duplicated key or ``None``).
    """
    n = len(key_cols[0]) if key_cols else 0
    if n < 2:
        return 0, None
    order = np.lexsort(key_cols[::-1])
    same = np.ones(n - 1, dtype=bool)
    for k in key_cols:
        s = k[order]
        same &= s[1:] == s[:-1]
    count = int(same.sum())
    if count == 0:
        return 0, None
    i = int(order[1:][same][0])
    return count, tuple(int(k[i]) for k in key_cols)


def check_table_values(
    where: str,
    spec: TableSpec,
    cols: Mapping[str, np.ndarray],
    world: int | None = None,
    episode: int | None = None,
) -> list[str]:
    """Return the problems of one table's values (an empty list when it is valid).

    Checks: ``world`` / ``episode`` columns equal the shard's, no NaN/inf in float columns,
    each column within its schema range, unique keys, and (for ``cells``) contiguous steps.
    Columns absent from ``cols`` are skipped (the caller reports them).

    Args:
        where: prefix of each message, e.g. ``"w00000-e0000/cells"``.
        spec: the table spec.
        cols: column name -> ``[n_rows]`` numpy array of the schema dtype.
        world: the shard's world id, or ``None`` to skip that check.
        episode: the shard's episode, or ``None`` to skip that check.
    """
    problems: list[str] = []
    for name, expected in (("world", world), ("episode", episode)):
        if expected is not None and name in cols:
            bad = cols[name] != expected
            if bad.any():
                problems.append(
                    f"{where}: column {name!r} must equal the shard's {name} {expected} in "
                    f"every row, {int(bad.sum())} rows differ (first {cols[name][bad][0]})"
                )
    for c in spec.columns:
        if c.name not in cols:
            continue
        v = cols[c.name]
        finite = np.ones(len(v), dtype=bool)
        if c.dtype == "float32":
            finite = np.isfinite(v)
            n_bad = len(v) - int(finite.sum())
            if n_bad:
                first = int(np.flatnonzero(~finite)[0])
                problems.append(
                    f"{where}: column {c.name!r} has {n_bad} NaN/inf values "
                    f"(first at row {first}: {v[first]})"
                )
        if c.dtype == "bool" or (c.min is None and c.max is None):
            continue
        vf = v[finite]
        out = np.zeros(len(vf), dtype=bool)
        if c.min is not None:
            out |= vf < c.min
        if c.max is not None:
            out |= vf > c.max
        if out.any():
            problems.append(
                f"{where}: column {c.name!r} has {int(out.sum())} values outside "
                f"{c.range_text} {c.unit if c.unit != '-' else ''}".rstrip()
                + f" (min {vf.min()}, max {vf.max()})"
            )
    if all(k in cols for k in spec.key):
        n_dup, first_dup = duplicate_keys([cols[k] for k in spec.key])
        if n_dup:
            problems.append(
                f"{where}: {n_dup} duplicate keys ({', '.join(spec.key)}), first {first_dup}"
            )
    if spec.name == "cells" and "step" in cols and len(cols["step"]):
        steps = np.unique(cols["step"])
        expected_n = int(steps[-1]) - int(steps[0]) + 1
        if len(steps) != expected_n:
            present = set(steps.tolist())
            missing = next(s for s in range(int(steps[0]), int(steps[-1]) + 1) if s not in present)
            problems.append(
                f"{where}: steps are not contiguous: {expected_n - len(steps)} missing between "
                f"{steps[0]} and {steps[-1]} (first missing {missing})"
            )
    return problems


def _pair_key(step: np.ndarray, idx: np.ndarray, width: int) -> np.ndarray:
    return step.astype(np.int64) * width + idx.astype(np.int64)


def check_shard_cross(
    where: str,
    tables: Mapping[str, Mapping[str, np.ndarray]],
    n_cells: int | None,
) -> list[str]:
    """Return the problems between the tables of one shard.

    Checks: ``ues.serving_cell < n_cells``, every ``ues`` step has ``cells`` rows, every
    ``ue_tti`` (step, ue) has a ``ues`` row, and a UE's walk starts where it ended the
    previous step (``x_start_m, y_start_m`` of step k = ``x_m, y_m`` of step k − 1, within
    :data:`START_TOLERANCE_M`). Tables or columns absent are skipped.

    Args:
        where: prefix of each message (the shard id).
        tables: table name -> column name -> ``[n_rows]`` numpy array.
        n_cells: number of cells of the world (max cell index + 1), ``None`` to skip.
    """
    problems: list[str] = []
    cells, ues, tti = tables.get("cells", {}), tables.get("ues", {}), tables.get("ue_tti", {})
    if n_cells is not None and "serving_cell" in ues:
        bad = ues["serving_cell"] >= n_cells
        if bad.any():
            problems.append(
                f"{where}/ues: column 'serving_cell' has {int(bad.sum())} values >= n_cells "
                f"{n_cells} of the world's cells table (max {ues['serving_cell'].max()})"
            )
    if "step" in ues and "step" in cells:
        missing = ~np.isin(ues["step"], cells["step"])
        if missing.any():
            problems.append(
                f"{where}/ues: {int(missing.sum())} rows at steps without cells rows "
                f"(first step {ues['step'][missing][0]})"
            )
    if all(k in tti for k in ("step", "ue")) and all(k in ues for k in ("step", "ue")):
        if len(tti["ue"]):
            width = int(max(tti["ue"].max(), ues["ue"].max() if len(ues["ue"]) else 0)) + 1
            ref = _pair_key(ues["step"], ues["ue"], width)
            got = _pair_key(tti["step"], tti["ue"], width)
            missing = ~np.isin(got, ref)
            if missing.any():
                i = int(np.flatnonzero(missing)[0])
                problems.append(
                    f"{where}/ue_tti: {int(missing.sum())} rows reference (step, ue) without a "
                    f"ues row (first ({tti['step'][i]}, {tti['ue'][i]}))"
                )
    problems += _check_walk_starts(where, ues)
    return problems


#: How far (m) a walk's recorded start may lie from the previous step's end position.
START_TOLERANCE_M = 1e-3


def _check_walk_starts(where: str, ues: Mapping[str, np.ndarray]) -> list[str]:
    """Problems of ``x_start_m`` / ``y_start_m`` against the previous step's ``x_m`` / ``y_m``."""
    cols = ("step", "ue", "x_m", "y_m", "x_start_m", "y_start_m")
    if not all(k in ues for k in cols) or not len(ues["ue"]):
        return []
    width = int(ues["ue"].max()) + 1
    key = _pair_key(ues["step"], ues["ue"], width)
    order = np.argsort(key)
    prev_key = _pair_key(ues["step"] - 1, ues["ue"], width)
    pos = np.clip(np.searchsorted(key[order], prev_key), 0, len(key) - 1)
    j = order[pos]  # the row of (step − 1, ue), where it exists
    has_prev = key[j] == prev_key
    gap = np.hypot(ues["x_start_m"] - ues["x_m"][j], ues["y_start_m"] - ues["y_m"][j])
    bad = has_prev & ~(gap <= START_TOLERANCE_M)
    if not bad.any():
        return []
    i = int(np.flatnonzero(bad)[0])
    return [
        f"{where}/ues: {int(bad.sum())} rows whose walk does not start where the UE ended the "
        f"previous step (first: step {ues['step'][i]}, ue {ues['ue'][i]}: start "
        f"({ues['x_start_m'][i]}, {ues['y_start_m'][i]}), previous end ({ues['x_m'][j[i]]}, "
        f"{ues['y_m'][j[i]]}))"
    ]
