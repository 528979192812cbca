"""Typed state of the simulator: what one episode drew once, and what evolves per super-step."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rantwin.scenarios import CellConfig

from .handover import HandoverState


@dataclass(frozen=True)
class EpisodeStatics:
    """Random draws fixed for a whole episode (one "drop" in 3GPP wording)."""

    indoor: torch.Tensor  # [n_ues] bool
    ue_height_m: torch.Tensor  # [n_ues] float64
    speed_mps: torch.Tensor  # [n_ues] float64
    o2i_db: torch.Tensor  # [n_cells, n_ues] outdoor-to-indoor loss (0 for outdoor UEs)
    los_draw: torch.Tensor  # [n_sites, n_ues] U(0,1); a link is LOS while draw < P_LOS(d)
    shadow_field: torch.Tensor  # [n_sites, H, W] unit-variance, inter-site correlated
    field_origin_m: tuple[float, float]  # (x, y) of pixel [0, 0]
    field_resolution_m: float


@dataclass(frozen=True)
class SimState:
    """Everything the next super-step depends on. ``step`` is the index of the next one.

    The random streams are stored as generator states, so a state can be stepped twice
    with different configs (branching) and give common random numbers.
    """

    step: int
    time_s: float  # mobility clock, seconds since reset
    ue_xy_m: torch.Tensor  # [n_ues, 2] float64
    waypoint_m: torch.Tensor  # [n_ues, 2] float64
    handover: HandoverState
    buffer_bits: torch.Tensor  # [n_ues] float64, FTP3 backlog
    avg_rate: torch.Tensor  # [n_ues] PF average rate, bits per TTI
    rng_mobility: torch.Tensor  # uint8 generator state
    rng_traffic: torch.Tensor  # uint8 generator state
    rng_fading: torch.Tensor  # uint8 generator state
    statics: EpisodeStatics
    config: CellConfig  # config in force during the last super-step (initially the default)
