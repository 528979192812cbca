"""Quantile heads: non-crossing by construction, pinball loss, inverse-CDF sampling.

A head predicts, for each node and KPI, the quantiles at :data:`LEVELS` (τ = 0.05 … 0.95).
Non-crossing: ``q_1 = a``, ``q_j = a + Σ_{i<j} softplus(δ_i)`` (monotone by construction;
cf. the "incremental" parameterisation of Zhou et al., "Non-crossing quantile regression
for distributional RL", NeurIPS 2020). Trained with the pinball loss
``ρ_τ(y − q) = max(τ (y − q), (τ − 1)(y − q))`` (Koenker & Bassett 1978), which is minimised
by the true τ-quantile. Sampling draws ``u ~ U(0, 1)`` and interpolates the quantile function
linearly between levels; beyond τ = 0.05 / 0.95 the end segments are extended with their
slope down to τ = 0 / 1 (a piecewise-linear CDF with bounded tails).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

#: Quantile levels predicted by every head.
LEVELS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))


class QuantileHead(nn.Module):
    """MLP → ``[n_nodes, n_kpis, n_levels]`` non-crossing quantiles.

    Args:
        in_dim: Input embedding size.
        n_kpis: Number of KPIs predicted by the head.
        hidden: Hidden width.
    """

    def __init__(self, in_dim: int, n_kpis: int, hidden: int = 64):
        super().__init__()
        self.n_kpis = n_kpis
        self.n_levels = len(LEVELS)
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.SiLU(), nn.Linear(hidden, n_kpis * self.n_levels)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the layers."""
        for m in self.net:
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """**Input:** ``h: [n, in_dim]``. **Output:** ``q: [n, n_kpis, n_levels]``, sorted."""
        raw = self.net(h).view(-1, self.n_kpis, self.n_levels)  # [n, K, L]
        base = raw[..., :1]
        steps = F.softplus(raw[..., 1:]) + 1e-4
        return torch.cat([base, base + torch.cumsum(steps, -1)], -1)


def pinball_loss(
    q: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean pinball loss over levels and (masked) nodes.

    **Input:** ``q: [n, K, L]`` quantiles, ``y: [n, K]`` targets, ``mask: [n, K]`` bool.
    **Output:** scalar.
    """
    tau = torch.tensor(LEVELS, dtype=q.dtype, device=q.device)  # [L]
    diff = y[..., None] - q  # [n, K, L]
    loss = torch.maximum(tau * diff, (tau - 1) * diff).mean(-1)  # [n, K]
    if mask is None:
        return loss.mean()
    m = mask.to(loss.dtype)
    return (loss * m).sum() / m.sum().clamp_min(1.0)


def quantile_at(q: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Evaluate the piecewise-linear quantile function at levels ``u``.

    **Input:** ``q: [..., L]`` quantiles at :data:`LEVELS`; ``u: [S, ...]`` in (0, 1).
    **Output:** ``[S, ...]``.
    """
    tau = torch.tensor((0.0, *LEVELS, 1.0), dtype=q.dtype, device=q.device)  # [L + 2]
    lo = q[..., :1] - (q[..., 1:2] - q[..., :1])  # extend the end slopes to τ = 0 and 1
    hi = q[..., -1:] + (q[..., -1:] - q[..., -2:-1])
    knots = torch.cat([lo, q, hi], -1).expand(u.shape + (tau.numel(),))  # [S, ..., L + 2]
    j = torch.searchsorted(tau, u.contiguous()).clamp(1, tau.numel() - 1)  # [S, ...]
    t0, t1 = tau[j - 1], tau[j]
    y0 = knots.gather(-1, (j - 1)[..., None])[..., 0]
    y1 = knots.gather(-1, j[..., None])[..., 0]
    return y0 + (u - t0) / (t1 - t0) * (y1 - y0)


def sample(q: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw ``n`` independent samples per node and KPI. **Output:** ``[n, *q.shape[:-1]]``."""
    u = torch.rand((n, *q.shape[:-1]), generator=generator, dtype=q.dtype, device=q.device)
    return quantile_at(q, u.clamp(1e-6, 1 - 1e-6))
