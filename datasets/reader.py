"""Read a dataset written by :class:`~rantwin.datasets.writer.DatasetWriter` (or by hand)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import NotADatasetError
from .manifest import read_manifest
from .schema import SCHEMA_VERSION, parse_shard_id, shard_path, table_spec, version_hint


@dataclass(frozen=True)
class Dataset:
    """An opened dataset (read-only view; the manifest is read once at open time).

    Attributes:
        path: the dataset directory.
        manifest: the parsed ``manifest.json`` (treat as read-only).
    """

    path: Path
    manifest: dict[str, Any]

    @property
    def shard_ids(self) -> tuple[str, ...]:
        """Shard ids in sorted order (by world, then episode)."""
        return tuple(sorted(self.manifest["shards"]))

    @property
    def complete(self) -> bool:
        """Whether the writer finalized the dataset."""
        return bool(self.manifest.get("complete", False))

    @property
    def run_config(self) -> dict[str, Any]:
        """The run configuration stored in the manifest."""
        return self.manifest.get("run_config", {})

    @property
    def world_ids(self) -> tuple[int, ...]:
        """World ids with a scenario file, sorted."""
        return tuple(sorted(int(w) for w in self.manifest["worlds"]))

    def table(
        self,
        name: str,
        columns: Sequence[str] | None = None,
        filter_worlds: Iterable[int] | None = None,
    ) -> pa.Table:
        """Read one table of all (or some worlds') shards, concatenated in sorted shard order.

        Args:
            name: ``"cells"``, ``"ues"`` or ``"ue_tti"``.
            columns: columns to read (default: all, in schema order).
            filter_worlds: world ids to keep (default: all).

        Returns:
            A ``pyarrow.Table`` with the schema's types (an empty one when no shard matches).

        Raises:
            ValueError: unknown table, column or world id, or a shard file whose columns do
                not match the schema.
            FileNotFoundError: a shard file listed in the manifest is missing.
        """
        spec = table_spec(name)
        if columns is None:
            columns = list(spec.column_names)
        else:
            columns = list(columns)
            bad = [c for c in columns if c not in spec.column_names]
            if bad:
                raise ValueError(
                    f"table {name!r} has no column(s) {bad}; columns are {list(spec.column_names)}"
                )
        schema = pa.schema([spec.arrow_schema.field(c) for c in columns])
        shards = self.shard_ids
        if filter_worlds is not None:
            wanted = {int(w) for w in filter_worlds}
            known = {parse_shard_id(s)[0] for s in shards} | set(self.world_ids)
            unknown = sorted(wanted - known)
            if unknown:
                raise ValueError(
                    f"filter_worlds has world id(s) {unknown} not in dataset {str(self.path)!r}"
                )
            shards = tuple(s for s in shards if parse_shard_id(s)[0] in wanted)
        parts = []
        for sid in shards:
            p = self.path / shard_path(name, sid)
            if not p.is_file():
                raise FileNotFoundError(
                    f"shard file {str(p)!r} listed in the manifest is missing; "
                    "run validate_dataset() on this dataset"
                )
            t = pq.read_table(p, columns=columns)
            if not t.schema.equals(schema, check_metadata=False):
                try:
                    t = t.select(columns).cast(schema)
                except (KeyError, ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                    raise ValueError(
                        f"shard file {str(p)!r} does not match the {name!r} schema: {e}"
                    ) from e
            parts.append(t)
        if not parts:
            return schema.empty_table()
        return pa.concat_tables(parts)

    def worlds(self) -> dict[int, dict[str, Any]]:
        """Return the scenario dict of every world, by world id."""
        out = {}
        for w in self.world_ids:
            entry = self.manifest["worlds"][str(w)]
            with open(self.path / entry["path"]) as f:
                out[w] = json.load(f)["scenario"]
        return out

    def rows(self, name: str) -> int:
        """Number of rows of table ``name`` over all shards (from the manifest)."""
        table_spec(name)
        return sum(int(s["rows"].get(name, 0)) for s in self.manifest["shards"].values())


def open_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Open a dataset directory.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        NotADatasetError: ``path`` has no readable rantwin ``manifest.json`` or the manifest
            lacks its ``shards`` / ``worlds`` objects.
        ValueError: the dataset's ``schema_version`` is not the one this code reads.
    """
    root = Path(path)
    manifest = read_manifest(root)
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"dataset {str(root)!r} has schema_version {manifest.get('schema_version')!r}, "
            f"this rantwin reads schema_version {SCHEMA_VERSION}"
            f"{version_hint(manifest.get('schema_version'))}"
        )
    for field in ("shards", "worlds"):
        if not isinstance(manifest.get(field), dict):
            raise NotADatasetError(
                f"manifest of {str(root)!r} has no {field!r} object; run validate_dataset()"
            )
    return Dataset(path=root, manifest=manifest)
