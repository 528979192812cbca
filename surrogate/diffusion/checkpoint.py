"""Diffusion-head checkpoints: ``diffusion.safetensors`` (weights) + ``diffusion.json`` (the rest).

As for the twin (:mod:`rantwin.surrogate.checkpoint`), loading never unpickles and every
failure names the file and the rule. The JSON holds the denoiser and schedule configs and the
fingerprint of the twin the head was trained on (:func:`~.head.twin_fingerprint`): a head
only makes sense on top of that twin's embeddings, so loading it against another twin fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file

from ..checkpoint import dataclass_from, save_weights
from ..model import TwinModel
from .denoiser import DenoiserConfig
from .head import DiffusionHead, twin_fingerprint
from .schedule import CosineSchedule

FORMAT = "rantwin-diffusion-head"
FORMAT_VERSION = 1
WEIGHTS = "diffusion.safetensors"
META = "diffusion.json"


def save_diffusion(
    path: str | os.PathLike[str],
    head: DiffusionHead,
    twin: TwinModel,
    twin_path: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``path/diffusion.safetensors`` and ``path/diffusion.json`` (atomically, each)."""
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    save_weights(head.denoiser.state_dict(), out / WEIGHTS)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "denoiser": head.cfg.to_dict(),
        "schedule": head.schedule.to_dict(),
        "twin": {"path": twin_path, "sha256": twin_fingerprint(twin)},
        **(extra or {}),
    }
    tmp = out / (META + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, out / META)
    return out


def load_diffusion(
    path: str | os.PathLike[str], twin: TwinModel | None = None
) -> tuple[DiffusionHead, dict[str, Any]]:
    """Load a diffusion head. Returns ``(head in eval mode, metadata)``.

    Args:
        path: Checkpoint directory.
        twin: If given, the twin network the head will run on: its fingerprint must match the
            one recorded at training time.

    Raises:
        FileNotFoundError: Missing directory or file.
        ValueError: Not a diffusion-head checkpoint, wrong format version, invalid configs,
            unreadable weights, weights that do not fit the architecture, or a twin other than
            the one the head was trained on (each message names the file).
    """
    root = Path(path)
    meta_path, w_path = root / META, root / WEIGHTS
    for p in (meta_path, w_path):
        if not p.is_file():
            raise FileNotFoundError(
                f"{p}: not found (a diffusion-head checkpoint is a directory "
                f"with {META} and {WEIGHTS})"
            )
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{meta_path}: not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(
            f"{meta_path}: not a rantwin diffusion-head checkpoint (format != {FORMAT!r})"
        )
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{meta_path}: format_version {meta.get('format_version')!r}, this rantwin reads "
            f"{FORMAT_VERSION}"
        )
    cfg = dataclass_from(DenoiserConfig, meta.get("denoiser"), f"{meta_path}: denoiser")
    schedule = dataclass_from(CosineSchedule, meta.get("schedule"), f"{meta_path}: schedule")
    if twin is not None:
        want = (meta.get("twin") or {}).get("sha256")
        got = twin_fingerprint(twin)
        if want != got:
            raise ValueError(
                f"{meta_path}: this head was trained on the twin with weights sha256 {want!r} "
                f"(path {(meta.get('twin') or {}).get('path')!r}), not on the given twin "
                f"({got}); load the matching twin or retrain the head"
            )
    try:
        tensors = load_file(str(w_path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{w_path}: unreadable safetensors file: {exc}") from exc
    head = DiffusionHead(cfg, schedule)
    try:
        head.denoiser.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(
            f"{w_path}: weights do not fit the architecture in {META}: {first}"
        ) from exc
    return head.eval(), meta
