"""Hexagonal layouts, wrap-around and BS–UE link geometry.

Coordinates are metres in a local Cartesian frame; azimuths are degrees counter-clockwise
from +x in [-180, 180); zenith angles are degrees from straight up (90 = horizon,
TR 38.901 §7.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._tensor import as_float, check_min

Tensor = torch.Tensor

__all__ = ["LinkGeometry", "hex_site_positions", "wraparound_offsets", "link_geometry"]

_EPS_M2 = 1e-12  # squared-distance floor (1 µm) that keeps sqrt / atan2 gradients finite


def _check_rings(n_rings: int, isd_m: float) -> None:
    if not isinstance(n_rings, int) or isinstance(n_rings, bool) or n_rings < 0:
        raise ValueError(f"n_rings must be an integer >= 0, got {n_rings!r}")
    if not float(isd_m) > 0:
        raise ValueError(f"isd_m must be > 0, got {isd_m}")


def hex_site_positions(n_rings: int, isd_m: float, *, dtype: torch.dtype | None = None) -> Tensor:
    """Site positions of a hexagonal layout with ``n_rings`` rings around a central site.

    Sites are ordered centre first, then ring by ring; within a ring counter-clockwise,
    starting at the site on the +x axis. Inter-site distance ``isd_m`` (TR 38.901 Table 7.8-1
    uses 500 m UMa, 200 m UMi, 1732 m RMa).

    **Input**

    - ``n_rings``: int >= 0 (0 → 1 site, 1 → 7, 2 → 19; 1 + 3 R (R + 1) sites).
    - ``isd_m``: float > 0.

    **Output**

    - ``xy_m``: ``[n_sites, 2]`` float (default dtype unless ``dtype`` given).
    """
    _check_rings(n_rings, isd_m)
    dtype = dtype or torch.get_default_dtype()
    # axial hex coordinates (q, r): x = isd (q + r/2), y = isd (sqrt(3)/2) r
    dirs = [(1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1)]  # CCW unit steps
    coords = [(0, 0)]
    for ring in range(1, n_rings + 1):
        q, r = ring, 0  # start on +x axis
        for k in range(6):
            dq, dr = dirs[(k + 2) % 6]  # walk along the ring side, counter-clockwise
            for _ in range(ring):
                coords.append((q, r))
                q, r = q + dq, r + dr
    qr = torch.tensor(coords, dtype=torch.float64)  # [n_sites, 2]
    x = isd_m * (qr[:, 0] + 0.5 * qr[:, 1])
    y = isd_m * (math.sqrt(3.0) / 2.0) * qr[:, 1]
    return torch.stack([x, y], dim=-1).to(dtype)  # [n_sites, 2]


def wraparound_offsets(n_rings: int, isd_m: float, *, dtype: torch.dtype | None = None) -> Tensor:
    """Translations of the 6 mirror clusters used for wrap-around (plus the zero shift).

    A hexagonal cluster of N = 1 + 3 R (R + 1) sites tiles the plane by the super-lattice
    spanned by the axial vector (R + 1, R) and its 60° rotations (|v|² = N · isd²), which is
    the wrap-around of TR 36.814 Annex A.2.1.1 / TR 38.901 §7.8 (19 sites: shift √19·ISD).

    **Input**

    - ``n_rings``: int >= 0; ``isd_m``: float > 0.

    **Output**

    - ``offsets_m``: ``[7, 2]`` float; row 0 is (0, 0), rows 1..6 counter-clockwise.
    """
    _check_rings(n_rings, isd_m)
    dtype = dtype or torch.get_default_dtype()
    r = n_rings
    v = torch.tensor(
        [isd_m * ((r + 1) + 0.5 * r), isd_m * (math.sqrt(3.0) / 2.0) * r], dtype=torch.float64
    )  # [2]
    ang = torch.arange(6, dtype=torch.float64) * (math.pi / 3.0)  # [6]
    c, s = torch.cos(ang), torch.sin(ang)
    rot = torch.stack([c * v[0] - s * v[1], s * v[0] + c * v[1]], dim=-1)  # [6, 2]
    return torch.cat([torch.zeros(1, 2, dtype=torch.float64), rot], dim=0).to(dtype)  # [7, 2]


@dataclass(frozen=True)
class LinkGeometry:
    """Geometry of every (cell, UE) link; all fields ``[..., n_cells, n_ues]`` float.

    Attributes:
        distance_2d_m: horizontal distance d_2D to the (closest image of the) cell, metres.
        distance_3d_m: d_3D = sqrt(d_2D² + (h_BS − h_UT)²), metres.
        azimuth_offset_deg: direction to the UE minus the cell boresight, in [-180, 180).
        zenith_deg: zenith angle of the UE seen from the cell antenna (90 = horizon).
    """

    distance_2d_m: Tensor  # [..., n_cells, n_ues]
    distance_3d_m: Tensor  # [..., n_cells, n_ues]
    azimuth_offset_deg: Tensor  # [..., n_cells, n_ues]
    zenith_deg: Tensor  # [..., n_cells, n_ues]


def link_geometry(
    ue_xy_m: Tensor,
    ue_h_m: Tensor | float,
    cell_xy_m: Tensor,
    cell_h_m: Tensor | float,
    cell_azimuth_deg: Tensor | float,
    wrap_offsets_m: Tensor | None = None,
) -> LinkGeometry:
    """Distances and angles between every cell and every UE, with optional wrap-around.

    With ``wrap_offsets_m`` each cell is replicated at every offset and, per (cell, UE),
    the image with the smallest 2D distance is used (TR 36.814 A.2.1.1 / TR 38.901 §7.8
    wrap-around); angles are then measured from that image.

    **Input**

    - ``ue_xy_m``: ``[..., n_ues, 2]`` float, UE positions.
    - ``ue_h_m``: ``[..., n_ues]`` float (or scalar), UE antenna heights.
    - ``cell_xy_m``: ``[n_cells, 2]`` float, cell (site) positions.
    - ``cell_h_m``: ``[n_cells]`` float (or scalar), BS antenna heights.
    - ``cell_azimuth_deg``: ``[n_cells]`` float (or scalar), boresight azimuths.
    - ``wrap_offsets_m``: ``[n_wrap, 2]`` float or ``None`` (no wrap-around).

    **Output**

    - :class:`LinkGeometry` with fields ``[..., n_cells, n_ues]`` (dtype of the inputs),
      differentiable in positions and heights (the image selection is piecewise constant).

    Raises:
        ValueError: if the last dimension of a position tensor is not 2.
    """
    tensors = [ue_xy_m, ue_h_m, cell_xy_m, cell_h_m, cell_azimuth_deg]
    if wrap_offsets_m is not None:
        tensors.append(wrap_offsets_m)
    conv = as_float(*tensors)
    ue_xy, ue_h, cell_xy, cell_h, cell_az = conv[:5]
    for name, t in (("ue_xy_m", ue_xy), ("cell_xy_m", cell_xy)):
        if t.dim() < 2 or t.shape[-1] != 2:
            raise ValueError(f"{name} must have shape [..., n, 2], got {tuple(t.shape)}")
    check_min("ue_h_m", ue_h, 0.0)
    check_min("cell_h_m", cell_h, 0.0)
    n_cells = cell_xy.shape[-2]
    cell_h = cell_h.broadcast_to(cell_xy.shape[:-1])  # [n_cells]
    cell_az = cell_az.broadcast_to(cell_xy.shape[:-1])  # [n_cells]

    ue = ue_xy.unsqueeze(-3)  # [..., 1, n_ues, 2]
    if wrap_offsets_m is None:
        delta = ue - cell_xy.unsqueeze(-2)  # [..., n_cells, n_ues, 2]
    else:
        offs = conv[5]  # [n_wrap, 2]
        if offs.dim() != 2 or offs.shape[-1] != 2:
            raise ValueError(f"wrap_offsets_m must have shape [n_wrap, 2], got {tuple(offs.shape)}")
        images = cell_xy.unsqueeze(-2) + offs  # [n_cells, n_wrap, 2]
        delta_all = ue.unsqueeze(-3) - images.unsqueeze(-2)  # [..., n_cells, n_wrap, n_ues, 2]
        # dx² + dy² as two elementwise passes: the same bits as ``(delta ** 2).sum(-1)`` and
        # several times faster than a reduction over a last dimension of size 2
        dx_all, dy_all = delta_all[..., 0].detach(), delta_all[..., 1].detach()
        d2_all = dx_all * dx_all + dy_all * dy_all  # [..., n_cells, n_wrap, n_ues]
        # min(dim).indices: a reduction over a middle dim is several times faster than argmin
        best = d2_all.min(dim=-2, keepdim=True).indices  # [..., n_cells, 1, n_ues]
        idx = best.unsqueeze(-1).expand(*best.shape, 2)  # [..., n_cells, 1, n_ues, 2]
        delta = torch.gather(delta_all, -3, idx).squeeze(-3)  # [..., n_cells, n_ues, 2]
    assert delta.shape[-2] == ue_xy.shape[-2] and delta.shape[-3] == n_cells

    dx, dy = delta[..., 0], delta[..., 1]  # [..., n_cells, n_ues]
    r2 = dx**2 + dy**2
    far = r2 > _EPS_M2
    d2d = torch.sqrt(torch.clamp(r2, min=_EPS_M2))  # [..., n_cells, n_ues]
    ue_h_b = ue_h if ue_h.dim() == 0 else ue_h.unsqueeze(-2)  # [..., 1, n_ues]
    dh = ue_h_b - cell_h.unsqueeze(-1)  # [..., n_cells, n_ues]  h_UT - h_BS
    shape = torch.broadcast_shapes(d2d.shape, dh.shape)  # [..., n_cells, n_ues]
    d2d, dh = d2d.broadcast_to(shape), dh.broadcast_to(shape)
    d3d = torch.sqrt(d2d**2 + dh**2)
    # azimuth of the UE seen from the cell; atan2(0, 0) is undefined -> 0 (and zero gradient)
    dx_safe = torch.where(far, dx, torch.ones_like(dx))
    dy_safe = torch.where(far, dy, torch.zeros_like(dy))
    az = torch.rad2deg(torch.atan2(dy_safe, dx_safe))  # [..., n_cells, n_ues]
    az_off = torch.remainder(az - cell_az.unsqueeze(-1) + 180.0, 360.0) - 180.0
    az_off = az_off.broadcast_to(shape)
    # zenith angle (TR 38.901 §7.1): θ = atan2(d_2D, h_UT - h_BS); 90° = horizon
    zen = torch.rad2deg(torch.atan2(d2d, dh))
    return LinkGeometry(
        distance_2d_m=d2d, distance_3d_m=d3d, azimuth_offset_deg=az_off, zenith_deg=zen
    )


def expand_to_cells(
    site_geometry: LinkGeometry, cell_site: Tensor, cell_azimuth_deg: Tensor
) -> LinkGeometry:
    """Per-cell geometry from per-site geometry (sectors of a site share its position).

    Computing :func:`link_geometry` once per *site* (with azimuth 0) and expanding here is
    exact and costs ``n_sites / n_cells`` of the per-cell call (a third for 3-sector sites),
    the wrap-around image search included.

    **Input**

    - ``site_geometry``: :class:`LinkGeometry` with fields ``[..., n_sites, n_ues]``,
      computed with ``cell_azimuth_deg=0`` (so its azimuth is the absolute one).
    - ``cell_site``: ``[n_cells]`` long, site index of every cell.
    - ``cell_azimuth_deg``: ``[n_cells]`` float, boresight azimuth of every cell.

    **Output**

    - :class:`LinkGeometry` with fields ``[..., n_cells, n_ues]``.
    """
    idx = cell_site.long()

    def pick(t: Tensor) -> Tensor:
        return t.index_select(-2, idx)  # [..., n_cells, n_ues]

    az = pick(site_geometry.azimuth_offset_deg)
    az_cell = torch.as_tensor(cell_azimuth_deg, dtype=az.dtype, device=az.device).unsqueeze(-1)
    az_off = torch.remainder(az - az_cell + 180.0, 360.0) - 180.0
    return LinkGeometry(
        distance_2d_m=pick(site_geometry.distance_2d_m),
        distance_3d_m=pick(site_geometry.distance_3d_m),
        azimuth_offset_deg=az_off,
        zenith_deg=pick(site_geometry.zenith_deg),
    )
