"""Temporally correlated small-scale fading per link and sub-band.

Each (cell, UE, sub-band) link carries a complex Gaussian scattered component that evolves
as a first-order autoregression whose one-step correlation is Jakes' autocorrelation
``ρ = J0(2π f_D Δt)``, ``f_D = v f_c / c`` (Baddour & Beaulieu, "Autoregressive modeling for
fading channel simulation", IEEE Trans. Wireless Commun. 4(4), 2005, eq. (8)). LOS links add a
fixed-phase specular component with Rician K-factor K (linear):
``h = sqrt(K/(K+1)) e^{jφ} + sqrt(1/(K+1)) h_s``, so ``E|h|² = 1``.
Sub-bands are independent (frequency-selective channel whose coherence bandwidth is below
the sub-band width).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

SPEED_OF_LIGHT_MPS = 299_792_458.0


@dataclass(frozen=True)
class FadingState:
    """Fading of every link for one window (or, with a leading ``[B]``, for ``B`` windows)."""

    re: torch.Tensor  # [(B,) n_cells, n_ues, n_subbands] scattered part, real
    im: torch.Tensor  # [(B,) n_cells, n_ues, n_subbands] scattered part, imaginary
    rho: torch.Tensor  # [(B,) n_cells, n_ues, 1] one-TTI correlation
    los_amp: torch.Tensor  # [(B,) n_cells, n_ues, 1] sqrt(K/(K+1)) on LOS links, else 0
    nlos_amp: torch.Tensor  # [(B,) n_cells, n_ues, 1] sqrt(1/(K+1)) on LOS links, else 1
    phase_cos: torch.Tensor  # [(B,) n_cells, n_ues, 1]
    phase_sin: torch.Tensor  # [(B,) n_cells, n_ues, 1]


def jakes_rho(speed_mps: torch.Tensor, carrier_ghz: torch.Tensor, tti_s: float) -> torch.Tensor:
    """One-step Jakes correlation ``J0(2π v f_c / c · Δt)``.

    **Input:** ``speed_mps: [n_ues]``, ``carrier_ghz: [n_cells]``.
    **Output:** ``rho: [n_cells, n_ues]``.
    """
    f_d = speed_mps[None, :] * carrier_ghz[:, None] * 1e9 / SPEED_OF_LIGHT_MPS  # [n_cells, n_ues]
    return torch.special.bessel_j0(2 * torch.pi * f_d * tti_s)


def init_fading(
    generator: torch.Generator,
    rho: torch.Tensor,  # [n_cells, n_ues]
    los: torch.Tensor,  # [n_cells, n_ues] bool
    rician_k_db: float,
    n_subbands: int,
    dtype: torch.dtype = torch.float32,
) -> FadingState:
    """Draw the stationary start of the fading process for a window."""
    n_cells, n_ues = rho.shape
    z = torch.randn(2, n_cells, n_ues, n_subbands, generator=generator, dtype=dtype)
    z = z * (0.5**0.5)  # CN(0, 1): each part has variance 1/2
    phase = 2 * torch.pi * torch.rand(n_cells, n_ues, 1, generator=generator, dtype=dtype)
    k = 10 ** (rician_k_db / 10)
    los_f = los.to(dtype)[..., None]  # [n_cells, n_ues, 1]
    los_amp = los_f * (k / (k + 1)) ** 0.5
    nlos_amp = los_f * (1 / (k + 1)) ** 0.5 + (1 - los_f)
    return FadingState(
        re=z[0],
        im=z[1],
        rho=rho.to(dtype)[..., None],
        los_amp=los_amp,
        nlos_amp=nlos_amp,
        phase_cos=torch.cos(phase),
        phase_sin=torch.sin(phase),
    )


def advance(generator: torch.Generator | Sequence[torch.Generator], f: FadingState) -> FadingState:
    """One TTI of the AR(1) recursion ``h ← ρ h + sqrt(1 − ρ²) w``, ``w ~ CN(0, 1)``.

    Args:
        generator: One generator for a single window's state ``[n_cells, n_ues, n_sb]``, or
            a sequence of ``B`` generators for a batched state ``[B, n_cells, n_ues, n_sb]``:
            element ``b`` draws from ``generator[b]`` exactly what it would draw alone.
        f: The fading at this TTI.

    Returns:
        The fading one TTI later, same shape.
    """
    if isinstance(generator, torch.Generator):
        w = torch.randn((2, *f.re.shape), generator=generator, dtype=f.re.dtype)
    else:
        if len(generator) != f.re.shape[0]:
            raise ValueError(
                f"generator: expected one per batch element ({f.re.shape[0]}), got {len(generator)}"
            )
        shape = (2, *f.re.shape[1:])
        w = torch.stack([torch.randn(shape, generator=g, dtype=f.re.dtype) for g in generator], 1)
    w = w * (0.5**0.5)
    s = torch.sqrt((1 - f.rho * f.rho).clamp_min(0.0))
    return FadingState(
        re=f.rho * f.re + s * w[0],
        im=f.rho * f.im + s * w[1],
        rho=f.rho,
        los_amp=f.los_amp,
        nlos_amp=f.nlos_amp,
        phase_cos=f.phase_cos,
        phase_sin=f.phase_sin,
    )


def stack(states: Sequence[FadingState]) -> FadingState:
    """Single-window states stacked into a batched one (``[B, n_cells, n_ues, ...]``)."""
    return FadingState(
        **{name: torch.stack([vars(f)[name] for f in states]) for name in vars(states[0])}
    )


def power_gain(f: FadingState) -> torch.Tensor:
    """``|h|²`` per link and sub-band, mean one. **Output:** ``[(B,) n_cells, n_ues, n_sb]``."""
    re = f.los_amp * f.phase_cos + f.nlos_amp * f.re
    im = f.los_amp * f.phase_sin + f.nlos_amp * f.im
    return re * re + im * im
