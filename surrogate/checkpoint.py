"""Twin checkpoints: ``model.safetensors`` (weights) + ``twin.json`` (everything else).

Loading never unpickles: weights come from safetensors and the rest is JSON, validated
before use. A corrupted file or a mismatched architecture gives an error that says which.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .graph import CELL_FEATURES, LINK_FEATURES, UE_FEATURES, GraphConfig
from .model import TwinConfig, TwinModel

FORMAT = "rantwin-twin"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
META = "twin.json"


def features_signature() -> dict[str, list[str]]:
    """The input features' names per node and edge type, as a checkpoint records them."""
    return {"cell": list(CELL_FEATURES), "ue": list(UE_FEATURES), "link": list(LINK_FEATURES)}


def graph_signature(graph_cfg: GraphConfig) -> dict[str, Any]:
    """The graph configuration as a checkpoint records it (``twin.json``'s ``"graph"``)."""
    return {f.name: getattr(graph_cfg, f.name) for f in fields(graph_cfg)}


def save_weights(state: dict[str, torch.Tensor], path: Path) -> None:
    """Write a state dict as safetensors, atomically (a temporary file, then a rename)."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: TwinModel,
    graph_cfg: GraphConfig,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``path/model.safetensors`` and ``path/twin.json`` (atomically, each)."""
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    save_weights(model.state_dict(), out / WEIGHTS)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model.cfg.to_dict(),
        "graph": graph_signature(graph_cfg),
        "features": features_signature(),
        **(extra or {}),
    }
    tmp = out / (META + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, out / META)
    return out


def dataclass_from(cls, d: Any, what: str):
    """A config dataclass from a JSON object; unknown keys and invalid values name ``what``."""
    if not isinstance(d, dict):
        raise ValueError(f"{what} must be a JSON object, got {type(d).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(
            f"{what}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(names))}"
        )
    try:
        return cls(**d)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: {exc}") from exc


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[TwinModel, GraphConfig, dict[str, Any]]:
    """Load a checkpoint directory. Returns ``(model in eval mode, graph config, metadata)``.

    Raises:
        FileNotFoundError: Missing directory or file.
        ValueError: Not a twin checkpoint, wrong format version, features that differ from
            this version of rantwin, unreadable weights, or weights that do not fit the
            architecture (each message says which).
    """
    root = Path(path)
    meta_path, w_path = root / META, root / WEIGHTS
    for p in (meta_path, w_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p}: not found (a twin checkpoint is a directory with "
                                    f"{META} and {WEIGHTS})")  # fmt: skip
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{meta_path}: not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{meta_path}: not a rantwin twin checkpoint (format != {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{meta_path}: format_version {meta.get('format_version')!r}, this rantwin reads "
            f"{FORMAT_VERSION}"
        )
    if meta.get("features") != features_signature():
        raise ValueError(f"{meta_path}: the checkpoint was trained on other features than this "
                         "rantwin builds; retrain it")  # fmt: skip
    cfg = dataclass_from(TwinConfig, meta.get("model"), f"{meta_path}: model")
    graph_cfg = dataclass_from(GraphConfig, meta.get("graph"), f"{meta_path}: graph")
    try:
        tensors = load_file(str(w_path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{w_path}: unreadable safetensors file: {exc}") from exc
    model = TwinModel(cfg)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(
            f"{w_path}: weights do not fit the architecture in {META}: {first}"
        ) from exc
    model.eval()
    return model, graph_cfg, meta
