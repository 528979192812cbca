"""Φ: the one deterministic coupling-gain entry shared by the simulator and the surrogate."""

from __future__ import annotations

import torch

from ._tensor import as_float
from .antenna import sector_gain_dbi
from .geometry import LinkGeometry
from .pathloss import pathloss_db, pathloss_los_nlos_db

Tensor = torch.Tensor

__all__ = ["coupling_gain_db", "mean_coupling_gain_db"]


def _per_cell(x: Tensor) -> Tensor:
    """``[..., n_cells]`` → ``[..., n_cells, 1]`` (scalars stay scalars)."""
    return x if x.dim() == 0 else x.unsqueeze(-1)


def _antenna_and_args(
    geometry: LinkGeometry,
    carrier_ghz: Tensor | float,
    cell_h_m: Tensor | float,
    ue_h_m: Tensor | float,
    tilt_deg: Tensor | float,
    n_vertical: Tensor | int,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Antenna gain ``[..., n_cells, n_ues]`` and the path-loss arguments, broadcast ready."""
    fc, h_bs, tilt, h_ut = as_float(carrier_ghz, cell_h_m, tilt_deg, ue_h_m)
    fc = _per_cell(fc)  # [..., n_cells, 1]
    h_bs = _per_cell(h_bs)  # [..., n_cells, 1]
    tilt = _per_cell(tilt)  # [..., n_cells, 1]
    h_ut = h_ut if h_ut.dim() == 0 else h_ut.unsqueeze(-2)  # [..., 1, n_ues]
    n_v: Tensor | int = n_vertical  # a Python count stays one (see sector_gain_dbi)
    if not isinstance(n_vertical, int):
        n_v = torch.as_tensor(n_vertical, device=fc.device)
        n_v = n_v if n_v.dim() == 0 else n_v.unsqueeze(-1)  # [..., n_cells, 1]
    gain = sector_gain_dbi(geometry.azimuth_offset_deg, geometry.zenith_deg, tilt, n_v)
    return gain, fc, h_bs, h_ut


def coupling_gain_db(
    geometry: LinkGeometry,
    model: str,
    carrier_ghz: Tensor | float,
    cell_h_m: Tensor | float,
    ue_h_m: Tensor | float,
    tilt_deg: Tensor | float,
    n_vertical: Tensor | int = 1,
    los: Tensor | None = None,
) -> Tensor:
    """Deterministic coupling gain G = antenna gain − path loss for every (cell, UE) link.

    G = ``sector_gain_dbi(φ, θ, tilt, n_vertical)`` − ``pathloss_db(model, d_2D, f_c,
    h_BS, h_UT, los)``. Shadowing, O2I loss and fast fading are *not* included (they are
    stochastic: the caller adds them). UE antennas are isotropic (0 dBi, TR 38.901 Table 7.8-1).

    **Input**

    - ``geometry``: :class:`~rantwin.radio.geometry.LinkGeometry`, fields
      ``[..., n_cells, n_ues]``.
    - ``model``: one of ``pathloss.MODELS``.
    - ``carrier_ghz``: ``[n_cells]`` (or ``[..., n_cells]`` / scalar) float.
    - ``cell_h_m``: ``[n_cells]`` float, BS antenna heights.
    - ``ue_h_m``: ``[..., n_ues]`` float (or scalar), UE heights.
    - ``tilt_deg``: ``[n_cells]`` float, downtilt (positive towards the ground).
    - ``n_vertical``: int or ``[n_cells]`` int tensor, vertical elements per column.
    - ``los``: ``[..., n_cells, n_ues]`` bool or ``None`` (= NLOS, see ``pathloss_db``).

    **Output**

    - ``gain_db``: ``[..., n_cells, n_ues]`` float (negative dB), differentiable in the
      geometry, heights, carrier and tilt.

    Warns:
        PathlossValidityWarning: forwarded from :func:`~rantwin.radio.pathloss.pathloss_db`.
    """
    gain, fc, h_bs, h_ut = _antenna_and_args(
        geometry, carrier_ghz, cell_h_m, ue_h_m, tilt_deg, n_vertical
    )
    pl = pathloss_db(model, geometry.distance_2d_m, fc, h_bs, h_ut, los)
    return gain - pl  # [..., n_cells, n_ues]


def mean_coupling_gain_db(
    geometry: LinkGeometry,
    model: str,
    carrier_ghz: Tensor | float,
    cell_h_m: Tensor | float,
    ue_h_m: Tensor | float,
    tilt_deg: Tensor | float,
    n_vertical: Tensor | int,
    p_los: Tensor,
) -> Tensor:
    """Coupling gain averaged (in dB) over the LOS state: G − (p PL_LOS + (1 − p) PL_NLOS).

    The same quantities as :func:`coupling_gain_db`, with the antenna pattern and the path
    loss each evaluated once for both LOS states (the antenna does not depend on the state;
    :func:`~rantwin.radio.pathloss.pathloss_los_nlos_db` gives both path losses).

    **Input:** as :func:`coupling_gain_db`, plus ``p_los: [..., n_cells, n_ues]`` in [0, 1]
    (e.g. :func:`~rantwin.radio.pathloss.los_probability`).

    **Output:** ``gain_db: [..., n_cells, n_ues]``.
    """
    gain, fc, h_bs, h_ut = _antenna_and_args(
        geometry, carrier_ghz, cell_h_m, ue_h_m, tilt_deg, n_vertical
    )
    # both LOS states from one pass (the NLOS value is max(PL_LOS, PL'_NLOS), Table 7.4.1-1)
    pl_los, pl_nlos = pathloss_los_nlos_db(model, geometry.distance_2d_m, fc, h_bs, h_ut)
    return gain - (p_los * pl_los + (1 - p_los) * pl_nlos)  # [..., n_cells, n_ues]
