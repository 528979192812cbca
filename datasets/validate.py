"""Check a dataset on disk and report every problem found."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from .checks import check_shard_cross, check_table_values
from .manifest import MANIFEST_FIELDS, config_hash, sha256_file
from .schema import (
    FORMAT,
    MANIFEST_NAME,
    SCHEMA_VERSION,
    TABLE_NAMES,
    TABLES,
    TMP_SUFFIX,
    WORLDS_DIR,
    parse_shard_id,
    shard_path,
    version_hint,
    world_path,
)


def validate_dataset(path: str | os.PathLike[str]) -> list[str]:
    """Check a dataset directory and return one message per problem (``[]`` = valid).

    Checks, without stopping at the first problem: the manifest (present, JSON, format,
    fields, ``schema_version``, ``run_config_hash``, ``complete``, totals); the worlds
    (referenced by shards, listed, file present, scenario hash); each shard (id, files
    present, sha256, readable Parquet, missing/unexpected columns and dtypes, nulls, row
    counts against the manifest, the shard's world/episode in every row, NaN/inf, values
    outside the schema ranges, duplicate keys, contiguous steps, ``ue_tti`` rows without a
    ``ues`` row, ``ues`` steps without ``cells`` rows, ``serving_cell`` < the world's number
    of cells); shard files not in the manifest; leftover ``*.tmp`` files.

    Args:
        path: the dataset directory.

    Returns:
        Problem messages; each names the file or shard/table/column concerned.
    """
    root = Path(path)
    problems: list[str] = []
    if not root.is_dir():
        return [f"{str(root)!r} is not a directory"]
    problems += _tmp_files(root)
    mpath = root / MANIFEST_NAME
    if not mpath.is_file():
        return [f"{MANIFEST_NAME}: missing (not a rantwin dataset)", *problems]
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return [f"{MANIFEST_NAME}: not valid JSON: {e}", *problems]
    if not isinstance(manifest, dict):
        return [f"{MANIFEST_NAME}: must be a JSON object, got {type(manifest).__name__}"]

    problems += _check_manifest(manifest)
    shards = _obj(manifest.get("shards"))
    worlds = _obj(manifest.get("worlds"))
    problems += _check_worlds(root, worlds, shards)

    # per shard: files, sha, schema, values; keep what the cross-shard check needs
    max_cell: dict[int, int] = {}
    serving: dict[str, tuple[int, int, dict[str, np.ndarray]]] = {}
    for sid in sorted(shards):
        entry = shards[sid]
        try:
            world, episode = parse_shard_id(sid)
        except ValueError as e:
            problems.append(f"shards: {e}")
            continue
        if not isinstance(entry, dict):
            problems.append(f"shards.{sid}: must be an object")
            continue
        if entry.get("world") != world or entry.get("episode") != episode:
            problems.append(
                f"shards.{sid}: world/episode fields ({entry.get('world')!r}, "
                f"{entry.get('episode')!r}) do not match the id ({world}, {episode})"
            )
        arrays: dict[str, dict[str, np.ndarray]] = {}
        for name in TABLE_NAMES:
            cols, msgs = _check_table_file(root, sid, name, entry, world, episode)
            problems += msgs
            arrays[name] = cols
        problems += check_shard_cross(sid, arrays, None)
        cell = arrays["cells"].get("cell")
        if cell is not None and len(cell):
            max_cell[world] = max(max_cell.get(world, -1), int(cell.max()))
        if "serving_cell" in arrays["ues"]:
            serving[sid] = (world, episode, {"serving_cell": arrays["ues"]["serving_cell"]})

    for sid, (world, _, ues) in sorted(serving.items()):
        problems += check_shard_cross(sid, {"ues": ues}, max_cell.get(world, -1) + 1)

    problems += _unlisted_files(root, shards, worlds)
    return problems


def _check_manifest(m: dict[str, Any]) -> list[str]:
    p = []
    missing = [f for f in MANIFEST_FIELDS if f not in m]
    if missing:
        p.append(f"{MANIFEST_NAME}: missing field(s) {missing}")
    if m.get("format") != FORMAT:
        p.append(f"{MANIFEST_NAME}: format must be {FORMAT!r}, got {m.get('format')!r}")
    if "schema_version" in m and m["schema_version"] != SCHEMA_VERSION:
        p.append(
            f"{MANIFEST_NAME}: schema_version {m['schema_version']!r} does not match this "
            f"rantwin's {SCHEMA_VERSION}{version_hint(m['schema_version'])}"
        )
    for field in ("shards", "worlds"):
        if field in m and not isinstance(m[field], dict):
            p.append(f"{MANIFEST_NAME}: {field!r} must be an object")
    if "run_config" in m and "run_config_hash" in m:
        try:
            if config_hash(m["run_config"]) != m["run_config_hash"]:
                p.append(f"{MANIFEST_NAME}: run_config_hash does not match run_config")
        except ValueError as e:
            p.append(f"{MANIFEST_NAME}: {e}")
    if m.get("complete") is not True:
        p.append(f"{MANIFEST_NAME}: complete is {m.get('complete')!r}: the run was not finalized")
    totals = m.get("totals")
    if isinstance(totals, dict) and isinstance(m.get("shards"), dict):
        shards = [s for s in m["shards"].values() if isinstance(s, dict)]
        if totals.get("shards") != len(m["shards"]):
            p.append(f"{MANIFEST_NAME}: totals.shards {totals.get('shards')!r} != {len(shards)}")
        rows = _obj(totals.get("rows"))
        for t in TABLE_NAMES:
            n = sum(_rows(s, t) for s in shards)
            if rows.get(t) != n:
                p.append(f"{MANIFEST_NAME}: totals.rows.{t} {rows.get(t)!r} != sum of shards {n}")
    return p


def _obj(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _rows(entry: dict[str, Any], table: str) -> int:
    rows = entry.get("rows")
    n = rows.get(table, 0) if isinstance(rows, dict) else 0
    return n if isinstance(n, int) else 0


def _check_worlds(root: Path, worlds: dict[str, Any], shards: dict[str, Any]) -> list[str]:
    p = []
    referenced = set()
    for sid in shards:
        try:
            referenced.add(parse_shard_id(sid)[0])
        except ValueError:
            pass  # reported with the shard
    for w in sorted(referenced):
        if str(w) not in worlds:
            p.append(f"worlds: world {w} is referenced by shards but not listed in the manifest")
        elif not (root / world_path(w)).is_file():
            p.append(f"{world_path(w)}: missing (world {w} is referenced by shards)")
    for key, entry in sorted(worlds.items()):
        if not isinstance(entry, dict) or "path" not in entry:
            p.append(f"worlds.{key}: must be an object with 'path' and 'scenario_hash'")
            continue
        f = root / entry["path"]
        if not f.is_file():
            if not key.isdigit() or int(key) not in referenced:
                p.append(f"{entry['path']}: missing (listed in the manifest)")
            continue
        try:
            doc = json.loads(f.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            p.append(f"{entry['path']}: not valid JSON: {e}")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("scenario"), dict):
            p.append(f"{entry['path']}: must be an object with a 'scenario' object")
        elif doc.get("scenario_hash") != entry.get("scenario_hash"):
            p.append(
                f"{entry['path']}: scenario_hash {doc.get('scenario_hash')!r} != manifest's "
                f"{entry.get('scenario_hash')!r}"
            )
    return p


def _check_table_file(
    root: Path, sid: str, name: str, entry: dict[str, Any], world: int, episode: int
) -> tuple[dict[str, np.ndarray], list[str]]:
    spec = TABLES[name]
    rel = shard_path(name, sid)
    where = f"{sid}/{name}"
    p: list[str] = []
    f = root / rel
    if not f.is_file():
        return {}, [f"{rel}: missing (listed in the manifest for shard {sid})"]
    sha = _obj(entry.get("sha256"))
    if rel not in sha:
        p.append(f"{rel}: no sha256 in the manifest")
    elif sha256_file(f) != sha[rel]:
        p.append(f"{rel}: sha256 mismatch with the manifest (file changed or corrupt)")
    try:
        table = pq.read_table(f)
    except Exception as e:  # noqa: BLE001 - any read failure is a reported problem
        return {}, [*p, f"{rel}: not a readable Parquet file: {e}"]
    rows = _obj(entry.get("rows"))
    if rows.get(name) != table.num_rows:
        p.append(f"{rel}: {table.num_rows} rows, manifest says {rows.get(name)!r}")
    names = set(table.column_names)
    missing = [c for c in spec.column_names if c not in names]
    if missing:
        p.append(f"{where}: missing column(s) {missing}")
    unexpected = [c for c in table.column_names if c not in spec.column_names]
    if unexpected:
        p.append(f"{where}: unexpected column(s) {unexpected}")
    cols: dict[str, np.ndarray] = {}
    for c in spec.columns:
        if c.name not in names:
            continue
        arr = table.column(c.name)
        if arr.type != c.arrow_type:
            p.append(f"{where}: column {c.name!r} has dtype {arr.type}, schema says {c.dtype}")
            continue
        if arr.null_count:
            p.append(f"{where}: column {c.name!r} has {arr.null_count} null values")
            continue
        cols[c.name] = arr.to_numpy()
    p += check_table_values(where, spec, cols, world, episode)
    return cols, p


def _tmp_files(root: Path) -> list[str]:
    p = []
    for dirpath, _, files in os.walk(root):
        for fn in sorted(files):
            if fn.endswith(TMP_SUFFIX):
                rel = Path(dirpath, fn).relative_to(root).as_posix()
                p.append(f"{rel}: orphan temporary file (an interrupted write; resume removes it)")
    return p


def _unlisted_files(root: Path, shards: dict[str, Any], worlds: dict[str, Any]) -> list[str]:
    p = []
    for name in TABLE_NAMES:
        d = root / name
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            if f.name.endswith(TMP_SUFFIX):
                continue
            sid = f.name.removesuffix(".parquet")
            if sid not in shards or f.suffix != ".parquet":
                p.append(f"{name}/{f.name}: file not listed in the manifest")
    d = root / WORLDS_DIR
    if d.is_dir():
        listed = {e.get("path") for e in worlds.values() if isinstance(e, dict)}
        for f in sorted(d.iterdir()):
            rel = f"{WORLDS_DIR}/{f.name}"
            if not f.name.endswith(TMP_SUFFIX) and rel not in listed:
                p.append(f"{rel}: file not listed in the manifest")
    return p
