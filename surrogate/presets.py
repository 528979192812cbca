"""Named architecture + training presets for ``rantwin train-surrogate --preset``."""

from __future__ import annotations

from .model import TwinConfig
from .train import TrainConfig

PRESETS: dict[str, tuple[TwinConfig, TrainConfig, str]] = {
    "v0": (  # every preset has the mixed PRB head (atom at PRB = 1, model.py)
        TwinConfig(latent_dim=0, prb_full=True),
        TrainConfig(),
        "hetero-GNN + quantile/event heads, no scene latent",
    ),
    "v05": (
        TwinConfig(latent_dim=8, slow=True, prb_full=True),
        TrainConfig(epochs=80, patience=12),
        "v0 + scene latent z (CVAE, free bits): couples the nodes of a scene; + the slow "
        "state (UE draws persist across super-steps, fitted after the backbone)",
    ),
    "hgt": (
        TwinConfig(latent_dim=8, conv="hgt", prb_full=True),
        TrainConfig(),
        "v05 with HGTConv layers (no edge attributes) instead of edge-aware TransformerConv",
    ),
    "tiny": (
        TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2, prb_full=True),
        TrainConfig(epochs=3, physics_epochs=1, patience=2, batch_size=4, max_minutes=2.0),
        "a seconds-long smoke run (tests)",
    ),
}
DEFAULT_PRESET = "v05"


def get_preset(name: str) -> tuple[TwinConfig, TrainConfig]:
    """The (architecture, training) configs of a preset; unknown names list the valid ones."""
    if name not in PRESETS:
        raise ValueError(f"--preset {name!r} is unknown; valid presets: {', '.join(PRESETS)}")
    model_cfg, train_cfg, _ = PRESETS[name]
    return model_cfg, train_cfg
