"""Train-from-datasets pipeline shared by the CLI and the default-checkpoint build."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import HeteroData

from .checkpoint import save_checkpoint
from .data import TARGET_SCALE, load_graphs
from .graph import GraphConfig
from .model import TwinConfig
from .train import TrainConfig, TrainResult, train_config_dict, train_twin


def manifest_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of a dataset's manifest file (identifies exactly which data trained a twin)."""
    return hashlib.sha256((Path(path) / "manifest.json").read_bytes()).hexdigest()


def feature_ranges(graphs: list[HeteroData]) -> dict[str, dict[str, list[float]]]:
    """Per node type, min and max of every input feature over the training graphs."""
    out = {}
    for nt in ("cell", "ue"):
        x = torch.cat([g[nt].x for g in graphs])
        out[nt] = {"min": x.min(0).values.tolist(), "max": x.max(0).values.tolist()}
    return out


def split_by_world(graphs: list[HeteroData], val_fraction: float = 0.2):
    """Hold out whole worlds (unseen layouts), never single samples of a seen world."""
    worlds = sorted({(int(g.scene[0]), int(g.scene[1])) for g in graphs})
    n_val = max(1, round(len(worlds) * val_fraction))
    held = set(worlds[-n_val:])
    train = [g for g in graphs if (int(g.scene[0]), int(g.scene[1])) not in held]
    val = [g for g in graphs if (int(g.scene[0]), int(g.scene[1])) in held]
    return train, val


def train_from_datasets(
    data: list[str],
    val_data: list[str] | None,
    out: str,
    model_cfg: TwinConfig,
    train_cfg: TrainConfig,
    progress: bool = True,
    preset: str = "",
) -> tuple[TrainResult, Path]:
    """Load datasets, train, and write a checkpoint (with CSV log) into ``out``.

    Without ``val_data`` the last 20 % of worlds (per dataset order) are held out.
    """
    if not data:
        raise ValueError("--data: give at least one dataset directory")
    t0 = time.monotonic()
    graph_cfg = GraphConfig()
    graphs = load_graphs(data, graph_cfg, progress)
    if val_data:
        train, val = graphs, load_graphs(val_data, graph_cfg, progress)
        for g in val:
            g.scene = g.scene.clone()
            g.scene[0] += len(data)
    else:
        train, val = split_by_world(graphs)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = train_twin(train, val, model_cfg, train_cfg, out_dir / "metrics.csv", progress)
    extra: dict[str, Any] = {
        "preset": preset,
        "train": train_config_dict(train_cfg),
        "target_scale": TARGET_SCALE,
        "feature_ranges": feature_ranges(train),
        "data": [{"path": str(p), "manifest_sha256": manifest_digest(p)} for p in data],
        "val_data": [
            {"path": str(p), "manifest_sha256": manifest_digest(p)} for p in (val_data or [])
        ],  # fmt: skip
        "metrics": {
            "best_val_loss": result.best_val,
            "epochs_run": result.epochs_run,
            "stopped": result.stopped,
            "train_graphs": len(train),
            "val_graphs": len(val),
            "seconds": round(time.monotonic() - t0, 1),
        },
    }
    save_checkpoint(out_dir, result.model, graph_cfg, extra)
    (out_dir / "history.json").write_text(json.dumps(result.history, indent=1))
    return result, out_dir


def with_overrides(cfg, **kw):
    """``dataclasses.replace`` ignoring ``None`` values (CLI options left unset)."""
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})
