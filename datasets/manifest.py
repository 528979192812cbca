"""Manifest helpers: canonical JSON, config hashing, atomic writes and sha256 of files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .errors import NotADatasetError
from .schema import FORMAT, MANIFEST_NAME, TMP_SUFFIX

MANIFEST_FIELDS: tuple[str, ...] = (
    "schema_version",
    "format",
    "run_config",
    "run_config_hash",
    "created",
    "shards",
    "worlds",
    "complete",
)
"""Fields every manifest has (``finalize`` adds ``totals``, ``finalized`` and ``extra``)."""


def canonical_json(obj: Any, what: str = "value") -> str:
    """Serialise ``obj`` as canonical JSON (sorted keys, no spaces, no NaN).

    Raises:
        ValueError: ``obj`` is not JSON-serialisable or holds NaN/inf (``what`` names it).
    """
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} must be JSON-serialisable without NaN/inf: {e}") from e


def config_hash(config: Any) -> str:
    """Return the sha256 hex digest of the canonical JSON of ``config``."""
    return hashlib.sha256(canonical_json(config, "run_config").encode()).hexdigest()


def diff_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Return the dotted key paths where two JSON values differ (sorted)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b), key=str):
            path = f"{prefix}.{k}" if prefix else str(k)
            if k not in a or k not in b:
                out.append(path)
            else:
                out.extend(diff_keys(a[k], b[k], path))
        return out
    if a != b:
        return [prefix or "<root>"]
    return []


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Return the sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory entry to disk (best effort; a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same dir, fsync, ``os.replace``."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_bytes_atomic(path, text.encode())


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and minimally check ``<root>/manifest.json``.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        NotADatasetError: no manifest, unreadable JSON, not a JSON object, or a ``format``
            other than ``"rantwin-dataset"``.
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"dataset path {str(root)!r} does not exist")
    path = root / MANIFEST_NAME
    if not root.is_dir() or not path.is_file():
        raise NotADatasetError(
            f"{str(root)!r} is not a rantwin dataset: it has no {MANIFEST_NAME} "
            "(write one with DatasetWriter or see docs/dataset-schema.md)"
        )
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NotADatasetError(f"{str(path)!r} is not valid JSON: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise NotADatasetError(
            f"{str(path)!r} is not a rantwin dataset manifest: format must be {FORMAT!r}, "
            f"got {got!r}"
        )
    return manifest
