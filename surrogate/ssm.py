"""Fast timescale of the twin: a selective diagonal linear state-space model per TTI.

Within a super-step the UE's wideband SINR fluctuates around its super-step mean (fast
fading, scheduling of the interferers). The twin models that fluctuation with a one-state
diagonal linear recurrence per UE — the S4D / Mamba family in its smallest form:

    x_t = ρ x_{t−1} + sqrt(1 − ρ²) ε_t,   ε_t ~ N(0, 1),   x_0 ~ N(0, 1)
    SINR_t = SINR_step + σ x_t

with ρ = exp(−Δ) and σ produced **per UE from its embedding** (selective: Δ depends on the
input, Gu & Dao 2023, "Mamba", §3.2; S4D: Gu et al. 2022). It is a discretised
Ornstein–Uhlenbeck process, so at lag k TTIs the correlation is ρ^k — the irregularly
spaced per-TTI samples of the datasets give its likelihood in closed form. Sampling runs
the recurrence as a parallel (associative) scan over the TTIs of the super-step.

Per-TTI throughput follows the SINR: rate_t = rate_step · 2^{(SINR_t − SINR_step) / 3}, a
log-linear Shannon slope (≈ 1 bit/s/Hz per 3 dB at high SINR) — the scheduler's on/off
pattern is not modelled (documented limitation).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def linear_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Parallel scan of ``h_t = a_t h_{t−1} + b_t`` (``h_{−1} = 0``) along dim 0.

    Hillis–Steele doubling (Blelloch 1990, "Prefix sums and their applications"): the pairs
    ``(a, b)`` compose associatively, ``(a2, b2) ∘ (a1, b1) = (a2 a1, a2 b1 + b2)``, so
    ⌈log2 T⌉ vectorised steps replace T sequential ones.

    **Input:** ``a, b: [T, ...]``. **Output:** ``h: [T, ...]``.
    """
    a, b = a.clone(), b.clone()
    t = a.shape[0]
    step = 1
    while step < t:
        a_prev, b_prev = a[:-step], b[:-step]
        b = torch.cat([b[:step], a[step:] * b_prev + b[step:]], 0)
        a = torch.cat([a[:step], a[step:] * a_prev], 0)
        step *= 2
    return b


class TtiHead(nn.Module):
    """Per-UE parameters of the fast recurrence: log σ (dB) and Δ (per TTI).

    Args:
        in_dim: UE embedding size.
        hidden: Hidden width.
    """

    def __init__(self, in_dim: int, hidden: int = 32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.SiLU(), nn.Linear(hidden, 2))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the layers."""
        for m in self.net:
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """**Input:** ``h: [n, in_dim]``. **Output:** ``log_sigma_db, log_delta: [n]``."""
        out = self.net(h)
        return out[:, 0].clamp(-5, 3), out[:, 1].clamp(-9, 3)


def ou_nll(
    resid: torch.Tensor,  # [n, K] SINR_t − SINR_step at the sampled TTIs
    tti: torch.Tensor,  # [n, K] TTI indices of the samples (increasing along K)
    log_sigma: torch.Tensor,  # [n]
    log_delta: torch.Tensor,  # [n]
    mask: torch.Tensor,  # [n] bool: UE has per-TTI samples
) -> torch.Tensor:
    """Mean negative log-likelihood (per sample) of the OU model at irregular lags."""
    if not bool(mask.any()):
        return resid.new_zeros(())
    r, ls, ld = resid[mask], log_sigma[mask], log_delta[mask]
    var = torch.exp(2 * ls)[:, None]  # [n, 1]
    lag = tti[mask].diff(dim=-1).to(r.dtype)  # [n, K−1]
    rho_k = torch.exp(-torch.exp(ld)[:, None] * lag)  # [n, K−1]
    mean = rho_k * r[:, :-1]
    cvar = var * (1 - rho_k**2).clamp_min(1e-6)
    nll0 = 0.5 * (r[:, 0] ** 2 / var[:, 0] + torch.log(2 * math.pi * var[:, 0]))
    nll = 0.5 * ((r[:, 1:] - mean) ** 2 / cvar + torch.log(2 * math.pi * cvar))
    return (nll0.sum() + nll.sum()) / r.numel()


def sample_tti(
    sinr_db: torch.Tensor,  # [S, n] super-step SINR draws
    rate_mbps: torch.Tensor,  # [S, n] super-step throughput draws
    log_sigma: torch.Tensor,  # [n]
    log_delta: torch.Tensor,  # [n]
    n_ttis: int,
    generator: torch.Generator | None = None,
    eps: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-TTI SINR and throughput around each super-step draw.

    ``eps: [n_ttis, S, n]`` standard normals may be passed instead of drawing them.

    **Output:** ``sinr_db, rate_mbps: [S, n_ttis, n]``.
    """
    s, n = sinr_db.shape
    if eps is None:
        # drawn on the CPU (where the generators are), then moved to the draws' device
        eps = torch.randn(
            (n_ttis, s, n), generator=generator, dtype=sinr_db.dtype, device="cpu"
        ).to(sinr_db.device)  # [T, S, n]
    rho = torch.exp(-torch.exp(log_delta))[None, None, :].expand(n_ttis, s, n)
    a = rho.clone()
    a[0] = 0.0
    b = torch.sqrt(1 - rho**2) * eps
    b[0] = eps[0]  # stationary start x_0 ~ N(0, 1)
    x = linear_scan(a, b).permute(1, 0, 2)  # [S, T, n]
    dev = torch.exp(log_sigma)[None, None, :] * x
    sinr = sinr_db[:, None, :] + dev
    rate = rate_mbps[:, None, :] * torch.pow(2.0, dev / 3.0)
    return sinr, rate


__all__ = ["TtiHead", "linear_scan", "ou_nll", "sample_tti"]
