"""Write a dataset: Parquet shards + ``worlds/`` scenario files + an atomic JSON manifest.

Crash safety: every file is written to ``<name>.tmp`` in its final directory, fsynced and
moved into place with :func:`os.replace`; the manifest is rewritten the same way *after* a
shard's files. A shard is complete only when the manifest lists it and its files match the
recorded sha256, so a crash at any point leaves either the old or the new shard, never a
half one; resuming rewrites incomplete shards and deletes leftover ``*.tmp`` files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .checks import check_shard_cross, check_table_values, coerce_table
from .errors import DatasetExistsError, NotADatasetError
from .manifest import (
    canonical_json,
    config_hash,
    diff_keys,
    fsync_dir,
    read_manifest,
    sha256_file,
    write_json_atomic,
)
from .schema import (
    FORMAT,
    MANIFEST_NAME,
    REQUIRED_TABLES,
    SCHEMA_VERSION,
    TABLE_NAMES,
    TABLES,
    TMP_SUFFIX,
    WORLDS_DIR,
    check_world_episode,
    shard_id,
    shard_path,
    world_path,
)

PARQUET_COMPRESSION = "zstd"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def remove_tmp_files(root: Path) -> list[Path]:
    """Delete leftover ``*.tmp`` files in a dataset dir and its table/world sub-dirs.

    Returns:
        The deleted paths.
    """
    removed = []
    for d in [root, *(root / n for n in (*TABLE_NAMES, WORLDS_DIR))]:
        if d.is_dir():
            for p in d.iterdir():
                if p.name.endswith(TMP_SUFFIX) and p.is_file():
                    p.unlink()
                    removed.append(p)
    return removed


class DatasetWriter:
    """Write shards of a dataset, crash-safe and resumable.

    One writer per directory at a time (no locking). Typical use::

        with DatasetWriter("out/ds", run_config, resume=True) as w:
            done = w.completed_shards()
            for world, scenario in worlds:
                w.write_world(world, scenario_dict, scenario_hash)
                for ep in range(n_episodes):
                    if shard_id(world, ep) in done:
                        continue
                    w.write_shard(world, ep, simulate(...))
        # leaving the block without an exception calls finalize()

    Args:
        out_dir: dataset directory. Created if absent; an empty directory is used as is.
        run_config: JSON-serialisable configuration of the run (stored in the manifest, its
            sha256 decides whether a resume is allowed).
        resume: continue a dataset already in ``out_dir`` written with the same
            ``run_config``; without it an existing dataset is never touched.

    Raises:
        DatasetExistsError: ``out_dir`` holds a dataset and ``resume`` is False, or ``resume``
            is True and the dataset's run_config (the message names the differing keys) or
            schema_version differ.
        NotADatasetError: ``out_dir`` is a non-empty directory without a rantwin manifest
            (nothing is written into it), or a file.
        ValueError: ``run_config`` is not a JSON-serialisable dict.
    """

    def __init__(
        self, out_dir: str | os.PathLike[str], run_config: dict[str, Any], resume: bool = False
    ) -> None:
        if not isinstance(run_config, dict):
            raise ValueError(f"run_config must be a dict, got {type(run_config).__name__}")
        self.path = Path(out_dir)
        run_hash = config_hash(run_config)
        # a JSON round trip, so tuples compare equal to the lists a stored manifest holds
        run_config = json.loads(canonical_json(run_config, "run_config"))
        self._finalized = False
        self._completed: set[str] | None = None

        if self.path.exists() and not self.path.is_dir():
            raise NotADatasetError(f"out_dir {str(self.path)!r} is a file, not a directory")
        if self.path.is_dir() and (self.path / MANIFEST_NAME).exists():
            manifest = read_manifest(self.path)  # NotADatasetError if foreign
            self._check_resume(manifest, run_config, run_hash, resume)
            remove_tmp_files(self.path)
            self.manifest: dict[str, Any] = manifest
        elif self.path.is_dir() and any(self.path.iterdir()):
            raise NotADatasetError(
                f"out_dir {str(self.path)!r} is a non-empty directory that is not a rantwin "
                f"dataset (no {MANIFEST_NAME}); refusing to write into it: choose another --out"
            )
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            self.manifest = {
                "schema_version": SCHEMA_VERSION,
                "format": FORMAT,
                "run_config": run_config,
                "run_config_hash": run_hash,
                "created": _now(),
                "shards": {},
                "worlds": {},
                "complete": False,
            }
            self._completed = set()
            self._write_manifest()

    def _check_resume(
        self, manifest: dict[str, Any], run_config: dict[str, Any], run_hash: str, resume: bool
    ) -> None:
        where = repr(str(self.path))
        if not resume:
            raise DatasetExistsError(
                f"out_dir {where} already holds a dataset; pass --resume (resume=True) to "
                "continue it or choose another --out; an existing dataset is never overwritten"
            )
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise DatasetExistsError(
                f"dataset {where} has schema_version {manifest.get('schema_version')!r}, this "
                f"writer writes {SCHEMA_VERSION}; it cannot be resumed: choose another --out"
            )
        if manifest.get("run_config_hash") != run_hash:
            keys = diff_keys(manifest.get("run_config"), run_config) or ["<hash only>"]
            raise DatasetExistsError(
                f"cannot resume dataset {where}: its run_config differs from this run's in "
                f"key(s) {keys}; rerun with the same configuration or choose another --out"
            )
        for field in ("shards", "worlds"):
            if not isinstance(manifest.get(field), dict):
                raise NotADatasetError(f"manifest of {where} has no {field!r} object")

    # -- manifest ------------------------------------------------------------------------

    def _write_manifest(self) -> None:
        write_json_atomic(self.path / MANIFEST_NAME, self.manifest)

    def _shard_ok(self, sid: str, entry: Any) -> bool:
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(sha, dict) or set(sha) != {shard_path(t, sid) for t in TABLE_NAMES}:
            return False
        for rel, digest in sha.items():
            p = self.path / rel
            if not p.is_file() or sha256_file(p) != digest:
                return False
        return True

    def completed_shards(self) -> set[str]:
        """Return the ids of the shards that are done.

        A shard is done when the manifest lists it and all its files exist with the sha256 the
        manifest records (checked once per writer, then tracked as shards are written).
        """
        if self._completed is None:
            self._completed = {
                sid for sid, entry in self.manifest["shards"].items() if self._shard_ok(sid, entry)
            }
        return set(self._completed)

    # -- writing -------------------------------------------------------------------------

    def write_world(self, world_id: int, scenario_dict: dict[str, Any], scenario_hash: str) -> None:
        """Write ``worlds/<world_id:05d>.json`` and register it in the manifest.

        Writing a world again with the same ``scenario_hash`` is a no-op when its file is
        present (so resumed runs may call it unconditionally).

        Args:
            world_id: world id in ``[0, 99999]``.
            scenario_dict: the scenario as a JSON-serialisable dict (opaque to this package).
            scenario_hash: hash identifying the scenario (e.g. ``scenario_hash(scenario)``).

        Raises:
            ValueError: bad ``world_id``, a non-serialisable scenario, or the world is already
                written with a different ``scenario_hash``.
        """
        world_id, _ = check_world_episode(world_id, 0)
        if not isinstance(scenario_dict, dict):
            raise ValueError(f"scenario_dict must be a dict, got {type(scenario_dict).__name__}")
        if not isinstance(scenario_hash, str) or not scenario_hash:
            raise ValueError(f"scenario_hash must be a non-empty str, got {scenario_hash!r}")
        canonical_json(scenario_dict, f"scenario_dict of world {world_id}")
        rel = world_path(world_id)
        key = str(world_id)
        old = self.manifest["worlds"].get(key)
        if old is not None:
            if old.get("scenario_hash") != scenario_hash:
                raise ValueError(
                    f"world {world_id} is already written with scenario_hash "
                    f"{old.get('scenario_hash')!r}, got {scenario_hash!r}; a world id names one "
                    "scenario for the whole dataset"
                )
            if (self.path / rel).is_file():
                return
        (self.path / WORLDS_DIR).mkdir(exist_ok=True)
        write_json_atomic(
            self.path / rel,
            {"world": world_id, "scenario_hash": scenario_hash, "scenario": scenario_dict},
        )
        self.manifest["worlds"][key] = {"path": rel, "scenario_hash": scenario_hash}
        self.manifest["complete"] = False  # finalize() recounts (a world is new data)
        self._write_manifest()

    def write_shard(
        self, world: int, episode: int, tables: Mapping[str, Mapping[str, np.ndarray]]
    ) -> str:
        """Validate, cast and write one shard (one world × one episode) atomically.

        ``world`` and ``episode`` columns may be omitted from a table; they are then filled
        with the shard's values. ``ue_tti`` may be omitted (an empty table is written).

        Args:
            world: world id; :meth:`write_world` must have been called for it.
            episode: episode index in ``[0, 9999]``.
            tables: table name -> column name -> ``[n_rows]`` numpy array (see
                :mod:`rantwin.datasets.schema`).

        Returns:
            The shard id, ``f"w{world:05d}-e{episode:04d}"``.

        Raises:
            ValueError: unknown or missing table, a missing/unexpected column, a dtype that
                cannot be cast safely, unequal column lengths, NaN/inf, values outside the
                schema ranges, duplicate keys, non-contiguous steps, or dangling references
                (each message names the table, the column and the problem).
        """
        if self._finalized:
            raise ValueError("write_shard called after finalize(); open a new writer to resume")
        world, episode = check_world_episode(world, episode)
        sid = shard_id(world, episode)
        if str(world) not in self.manifest["worlds"]:
            raise ValueError(
                f"world {world} has no scenario in this dataset; call write_world({world}, ...) "
                f"before write_shard({world}, {episode}, ...)"
            )
        if not isinstance(tables, Mapping):
            raise ValueError(f"tables must be a dict of table name -> columns, got {tables!r}")
        unknown = sorted(str(t) for t in tables if t not in TABLES)
        if unknown:
            raise ValueError(f"unknown table(s) {unknown}; tables are {list(TABLE_NAMES)}")
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise ValueError(f"write_shard({world}, {episode}) is missing table(s) {missing}")

        arrays: dict[str, dict[str, np.ndarray]] = {}
        for name, spec in TABLES.items():
            given = tables.get(name)
            if given is None:
                given = {c.name: np.zeros(0, c.numpy_dtype) for c in spec.columns}
            cols = dict(given) if isinstance(given, Mapping) else given
            if isinstance(cols, dict):
                n = _n_rows(cols)
                cols.setdefault("world", np.full(n, world, np.int32))
                cols.setdefault("episode", np.full(n, episode, np.int32))
            arrays[name] = coerce_table(spec, cols)

        problems: list[str] = []
        for name, spec in TABLES.items():
            problems += check_table_values(f"{sid}/{name}", spec, arrays[name], world, episode)
        cell_idx = arrays["cells"]["cell"]
        n_cells = int(cell_idx.max()) + 1 if len(cell_idx) else 0
        problems += check_shard_cross(sid, arrays, n_cells)
        if problems:
            raise ValueError(
                f"write_shard({world}, {episode}) refused invalid data:\n  " + "\n  ".join(problems)
            )

        # 1. write every table to <final>.tmp, fsync; 2. rename all into place; 3. manifest.
        written: dict[str, tuple[Path, Path]] = {}
        sha: dict[str, str] = {}
        rows: dict[str, int] = {}
        for name, spec in TABLES.items():
            rel = shard_path(name, sid)
            final = self.path / rel
            final.parent.mkdir(exist_ok=True)
            tmp = final.with_name(final.name + TMP_SUFFIX)
            table = pa.Table.from_arrays(
                [pa.array(arrays[name][c.name], c.arrow_type) for c in spec.columns],
                schema=spec.arrow_schema,
            )
            with open(tmp, "wb") as f:
                pq.write_table(table, f, compression=PARQUET_COMPRESSION)
                f.flush()
                os.fsync(f.fileno())
            sha[rel] = sha256_file(tmp)
            rows[name] = table.num_rows
            written[name] = (tmp, final)
        for tmp, final in written.values():
            os.replace(tmp, final)
        for name in written:
            fsync_dir(self.path / name)

        self.manifest["shards"][sid] = {
            "world": world,
            "episode": episode,
            "rows": rows,
            "sha256": sha,
        }
        self.manifest["complete"] = False
        self.manifest.pop("totals", None)
        self._write_manifest()
        if self._completed is not None:
            self._completed.add(sid)
        return sid

    def finalize(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Mark the dataset complete and record totals.

        Adds ``"totals": {"shards", "worlds", "rows": {table: n}}``, ``"finalized"`` (UTC
        ISO time) and, when given, ``"extra"`` (JSON-serialisable, e.g. wall time).

        Returns:
            The manifest as written.

        Raises:
            ValueError: ``extra`` is not a JSON-serialisable dict.
        """
        if extra is not None:
            if not isinstance(extra, dict):
                raise ValueError(f"extra must be a dict or None, got {type(extra).__name__}")
            canonical_json(extra, "extra")
        if self.manifest.get("complete") is True and extra in (None, self.manifest.get("extra")):
            # a resumed run that found the dataset complete and added nothing: the manifest
            # stays byte for byte as it was (its sha256 identifies the data a twin was
            # trained on, rantwin.surrogate.pipeline.manifest_digest)
            self._finalized = True
            return self.manifest
        if extra is not None:
            self.manifest["extra"] = extra
        shards = self.manifest["shards"]
        self.manifest["totals"] = {
            "shards": len(shards),
            "worlds": len(self.manifest["worlds"]),
            "rows": {t: sum(int(s["rows"].get(t, 0)) for s in shards.values()) for t in TABLES},
        }
        self.manifest["finalized"] = _now()
        self.manifest["complete"] = True
        self._write_manifest()
        self._finalized = True
        return self.manifest

    # -- context manager -----------------------------------------------------------------

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Finalize on a clean exit; after an exception leave the dataset resumable."""
        if exc_type is None and not self._finalized:
            self.finalize()


def _n_rows(cols: Mapping[str, Any]) -> int:
    for v in cols.values():
        return len(np.asarray(v))
    return 0
