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

from .checkpoint import load_checkpoint, save_checkpoint
from .data import TARGET_SCALE, load_graphs
from .graph import GraphConfig
from .model import TwinConfig, TwinModel
from .slow import fit_slow_head
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
    graph_cfg: GraphConfig | None = None,
) -> tuple[TrainResult, Path]:
    """Load datasets, train, and write a checkpoint (with CSV log) into ``out``.

    Without ``val_data`` the last 20 % of worlds (per dataset order) are held out.
    ``graph_cfg`` (default :class:`.graph.GraphConfig`) is stored in the checkpoint.
    """
    if not data:
        raise ValueError("--data: give at least one dataset directory")
    t0 = time.monotonic()
    graph_cfg = graph_cfg or GraphConfig()
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
    slow_metrics = None
    if model_cfg.slow:  # v1 slow timescale: fitted on the trained, frozen backbone
        slow_metrics = fit_slow_head(result.model, train, val, progress=progress)
        result.model.eval()
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
    if slow_metrics is not None:
        extra["slow"] = slow_metrics
    save_checkpoint(out_dir, result.model, graph_cfg, extra)
    (out_dir / "history.json").write_text(json.dumps(result.history, indent=1))
    return result, out_dir


def add_slow_state(
    ckpt: str | os.PathLike[str],
    data: list[str],
    val_data: list[str],
    out: str | os.PathLike[str],
    progress: bool = True,
) -> tuple[dict[str, float], Path]:
    """Give a trained twin the slow timescale: fit its :class:`.slow.SlowHead` and save.

    The backbone and every other head keep their weights (the slow head reads them frozen);
    the checkpoint's metadata is kept and gains ``"slow"`` (held-out copula NLL, mean ρ).
    """
    if not data or not val_data:
        raise ValueError("--data and --val-data: the slow state is fitted on training data "
                         "and selected on held-out data; give both")  # fmt: skip
    old, graph_cfg, meta = load_checkpoint(ckpt)
    model = TwinModel(replace(old.cfg, slow=True))
    missing, unexpected = model.load_state_dict(old.state_dict(), strict=False)
    if unexpected or any(not k.startswith("slow_head.") for k in missing):
        raise ValueError(f"{ckpt}: weights do not fit (missing {missing}, unexpected {unexpected})")
    train = load_graphs(data, graph_cfg, progress)
    val = load_graphs(val_data, graph_cfg, progress)
    metrics = fit_slow_head(model.eval(), train, val, progress=progress)
    extra = {k: v for k, v in meta.items() if k not in ("format", "format_version", "model",
                                                       "graph", "features")}  # fmt: skip
    extra["slow"] = {**metrics, "data": [str(p) for p in data],
                     "val_data": [str(p) for p in val_data]}  # fmt: skip
    out_dir = save_checkpoint(out, model.eval(), graph_cfg, extra)
    return metrics, out_dir


def with_overrides(cfg, **kw):
    """``dataclasses.replace`` ignoring ``None`` values (CLI options left unset)."""
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})
