"""BS antenna patterns: TR 38.901 Table 7.3-1 element and the M×1 vertical sub-array.

Angles in degrees (contract): azimuth offset φ = UE azimuth − boresight azimuth, wrapped to
[-180, 180); zenith θ with 0 = straight up, 90 = horizon, > 90 below the horizon
(TR 38.901 §7.1). Electrical / mechanical downtilt is positive towards the ground, so a beam
tilted by ``tilt_deg`` points at θ = 90° + tilt.
"""

from __future__ import annotations

import math

import torch

from ._tensor import as_float

Tensor = torch.Tensor

__all__ = [
    "G_MAX_DBI",
    "PHI_3DB_DEG",
    "THETA_3DB_DEG",
    "SLA_V_DB",
    "A_MAX_DB",
    "element_gain_dbi",
    "sector_gain_dbi",
]

G_MAX_DBI = 8.0
"""Maximum directional gain of an antenna element G_E,max (TR 38.901 Table 7.3-1)."""
PHI_3DB_DEG = 65.0
"""Horizontal half-power beamwidth φ_3dB (TR 38.901 Table 7.3-1)."""
THETA_3DB_DEG = 65.0
"""Vertical half-power beamwidth θ_3dB (TR 38.901 Table 7.3-1)."""
SLA_V_DB = 30.0
"""Vertical side-lobe attenuation SLA_V (TR 38.901 Table 7.3-1)."""
A_MAX_DB = 30.0
"""Front-back ratio / maximum attenuation A_max (TR 38.901 Table 7.3-1)."""


def _wrap_deg(x: Tensor) -> Tensor:
    """Wrap an angle in degrees to [-180, 180)."""
    return torch.remainder(x + 180.0, 360.0) - 180.0


def _element_attenuation_db(phi: Tensor, theta: Tensor) -> Tensor:
    """TR 38.901 Table 7.3-1 element attenuation A(θ, φ) in dB (<= 0)."""
    phi = _wrap_deg(phi)
    # TR 38.901 Table 7.3-1: A_dB(θ, φ=0) = -min(12 ((θ - 90°)/θ_3dB)^2, SLA_V)
    a_v = -torch.clamp(12.0 * ((theta - 90.0) / THETA_3DB_DEG) ** 2, max=SLA_V_DB)
    # TR 38.901 Table 7.3-1: A_dB(θ=90°, φ) = -min(12 (φ/φ_3dB)^2, A_max)
    a_h = -torch.clamp(12.0 * (phi / PHI_3DB_DEG) ** 2, max=A_MAX_DB)
    # TR 38.901 Table 7.3-1: A(θ, φ) = -min(-(A(θ, 0) + A(90°, φ)), A_max)
    return -torch.clamp(-(a_v + a_h), max=A_MAX_DB)


def element_gain_dbi(azimuth_offset_deg: Tensor | float, zenith_deg: Tensor | float) -> Tensor:
    """Gain of one TR 38.901 antenna element (no tilt), in dBi.

    G(θ, φ) = G_E,max + A(θ, φ) with G_E,max = 8 dBi, φ_3dB = θ_3dB = 65°,
    SLA_V = A_max = 30 dB (TR 38.901 Table 7.3-1).

    **Input**

    - ``azimuth_offset_deg``: ``[...]`` float, φ relative to boresight (any value; wrapped).
    - ``zenith_deg``: ``[...]`` float, θ in [0, 180] (90 = horizon).

    **Output**

    - ``gain_dbi``: ``[broadcast shape]`` float, in [G_max − 30, G_max] = [-22, 8] dBi.
    """
    phi, theta = as_float(azimuth_offset_deg, zenith_deg)
    return G_MAX_DBI + _element_attenuation_db(phi, theta)


def _array_factor_db(
    theta: Tensor,
    theta_steer: Tensor,
    n_vertical: Tensor,
    spacing_lambda: float,
    m_max: int | None = None,
) -> Tensor:
    """Power gain 10 log10 |AF|² of an M×1 vertical array with unit-norm steering weights.

    TR 38.901 §7.3 / TR 36.897 §5.2.2: w_m = exp(-j 2π (m-1) d_V/λ cos θ_etilt)/sqrt(M),
    v_m(θ) = exp(j 2π (m-1) d_V/λ cos θ); |Σ_m w_m v_m|² peaks at M for θ = θ_etilt.
    Nulls are floored at -A_max (30 dB) relative to isotropic so the log stays finite.
    ``m_max``: the largest ``n_vertical`` if the caller knows it (else read from the tensor).
    """
    if m_max is None:
        m_max = int(n_vertical.max().item())
    m = torch.arange(m_max, dtype=theta.dtype, device=theta.device)  # [M_max]
    # phase progression per element ψ = 2π d_V/λ (cos θ - cos θ_etilt)
    psi = (
        2.0
        * math.pi
        * spacing_lambda
        * (torch.cos(torch.deg2rad(theta)) - torch.cos(torch.deg2rad(theta_steer)))
    )  # [...]
    mask = (m < n_vertical.unsqueeze(-1)).to(theta.dtype)  # [..., M_max]
    ang = psi.unsqueeze(-1) * m  # [..., M_max]
    re = (torch.cos(ang) * mask).sum(-1)  # [...]
    im = (torch.sin(ang) * mask).sum(-1)  # [...]
    power = (re**2 + im**2) / n_vertical.to(theta.dtype)  # [...] in [0, M]
    power = torch.clamp(power, min=10.0 ** (-A_MAX_DB / 10.0))
    return 10.0 * torch.log10(power)


def sector_gain_dbi(
    azimuth_offset_deg: Tensor | float,
    zenith_deg: Tensor | float,
    tilt_deg: Tensor | float,
    n_vertical: Tensor | int = 1,
    spacing_lambda: float = 0.5,
) -> Tensor:
    """Gain of a sector antenna with downtilt, in dBi.

    - ``n_vertical == 1``: the Table 7.3-1 element pattern tilted by ``tilt_deg``
      (θ' = θ − tilt, so the peak G_E,max = 8 dBi lies at θ = 90° + tilt).
    - ``n_vertical == M > 1``: an M×1 vertical sub-array (TR 38.901 §7.3, TR 36.897 §5.2.2;
      the TR 38.901 §7.8 calibration uses M = 10, d_V = 0.5 λ, electrical tilt 12°, i.e.
      θ_etilt = 102°) whose untilted elements follow Table 7.3-1 and whose phase taper
      steers the beam to θ_etilt = 90° + tilt. The composite pattern is
      G = G_E(θ, φ) + 10 log10 |AF(θ)|² with unit-norm weights, so the array adds exactly
      10 log10 M dB at the steering direction: the gain there is
      G_E,max − 12 (tilt/65)² + 10 log10 M (17.59 dBi for M = 10, tilt 12°), which is the
      composite peak up to ~0.01 dB (the element roll-off pulls the maximum ~0.3° towards
      the horizon); it never exceeds G_E,max + 10 log10 M. Array nulls are floored at
      −30 dB (A_max).

    **Input**

    - ``azimuth_offset_deg``: ``[...]`` float, φ relative to boresight.
    - ``zenith_deg``: ``[...]`` float, θ (90 = horizon).
    - ``tilt_deg``: ``[...]`` float, downtilt (positive towards the ground).
    - ``n_vertical``: int or ``[...]`` integer tensor, elements per vertical column (>= 1).
    - ``spacing_lambda``: vertical element spacing d_V / λ.

    **Output**

    - ``gain_dbi``: ``[broadcast shape]`` float, differentiable in angles and tilt.

    Raises:
        ValueError: if ``n_vertical`` < 1 or ``spacing_lambda`` <= 0.
    """
    phi, theta, tilt = as_float(azimuth_offset_deg, zenith_deg, tilt_deg)
    if not spacing_lambda > 0:
        raise ValueError(f"spacing_lambda must be > 0, got {spacing_lambda}")
    m_max: int | None = None
    if isinstance(n_vertical, int):  # one count for every cell: decided without reading a
        if n_vertical < 1:  # tensor, so torch.compile traces it as one graph
            raise ValueError(f"n_vertical must be >= 1, got {n_vertical}")
        m_max = n_vertical
    n_v = torch.as_tensor(n_vertical, device=theta.device)
    if n_v.is_floating_point():
        if bool((n_v != torch.round(n_v)).any()):
            raise ValueError(f"n_vertical must be an integer count, got {n_v}")
        n_v = n_v.round()
    n_v = n_v.to(torch.long)
    if m_max is None and bool((n_v < 1).any()):
        raise ValueError(f"n_vertical must be >= 1, got {n_v.min().item()}")
    # n_vertical = 1: mechanically / electrically tilted element, θ' = θ - tilt
    g_single = G_MAX_DBI + _element_attenuation_db(phi, theta - tilt)  # [...]
    if m_max == 1 or (m_max is None and bool((n_v == 1).all())):
        return g_single
    shape = torch.broadcast_shapes(phi.shape, theta.shape, tilt.shape, n_v.shape)
    theta_b = theta.broadcast_to(shape)
    n_b = n_v.broadcast_to(shape)
    # composite pattern: element (not tilted) + array factor steered to θ_etilt = 90° + tilt
    g_elem = G_MAX_DBI + _element_attenuation_db(phi, theta)  # [...]
    g_array = g_elem + _array_factor_db(
        theta_b, 90.0 + tilt.broadcast_to(shape), n_b, spacing_lambda, m_max
    )
    if m_max is not None:  # every element is an M > 1 array
        return g_array
    return torch.where(n_b == 1, g_single.broadcast_to(shape), g_array)
