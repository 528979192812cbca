"""Slow timescale of the twin: a per-UE Gaussian state carried from super-step to super-step.

The simulator's UE residuals persist in time: shadowing moves with the UE (correlation
exp(−Δd / d_corr), Gudmundson 1991; TR 38.901 Table 7.5-6 gives d_corr), O2I losses and the
local interference situation stay. On the held-out family the lag-1 correlation of the
normal scores of the UE RSRP residual is 0.42 (0.78 on ``hex7-uma``), of SINR 0.20 (0.58);
a twin drawing every super-step afresh has 0. Per UE and KPI j the twin therefore carries a
state s, one step of a discretised Ornstein–Uhlenbeck (AR(1)) recurrence,

    s_k = ρ s_{k−1} + sqrt(1 − ρ²) ε_k,   ε_k ~ N(0, 1),   s_0 = ε_0,

and the quantile head's draw at step k reads the level u_k = Φ_N(s_k) — a Gaussian copula
in time, so every step's marginal (and calibration) is exactly the quantile head's. The
transition is conditioned on the graph and the config of step k: ρ comes per UE from the
UE's embedding at step k and its motion features ``[exp(−Δd/d_corr), log1p(Δd/d_corr)]``
(Δd: distance moved since the previous super-step; d_corr: the scenario's NLOS shadowing
decorrelation distance) through :class:`SlowHead`. The head is fitted after the backbone, on
consecutive super-steps of the training data, by the copula likelihood of the normal scores
of the simulator's values under the frozen twin (:func:`fit_slow_head`).

The fast timescale (per TTI, :mod:`.ssm`) then fluctuates around each super-step's draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.data import Batch, HeteroData
from tqdm import tqdm

from .quantiles import LEVELS

#: UE KPIs with a slow state (the quantile head's UE outputs, in order).
SLOW_KPIS = ("rsrp_res", "sinr_res", "log_thr")
#: |ρ| is kept below this (a state must keep some innovation).
RHO_MAX = 0.995


@dataclass(frozen=True)
class SlowState:
    """What one step of the slow recurrence needs from the previous step.

    Attributes:
        score: Normal scores s_{k−1} of the previous step's UE draws.
        moved_m: Distance each UE moved since the previous step, metres.
        d_corr_m: Shadowing decorrelation distance of each UE's scenario, metres.
    """

    score: torch.Tensor  # [S, n_ues, 3] float32
    moved_m: torch.Tensor  # [n_ues] float32
    d_corr_m: torch.Tensor  # [n_ues] float32


def motion_features(moved_m: torch.Tensor, d_corr_m: torch.Tensor) -> torch.Tensor:
    """Motion features ``[exp(−Δd/d_corr), log1p(Δd/d_corr)]``.

    **Input:** ``moved_m [n]``, ``d_corr_m [n]``. **Output:** ``[n, 2]``.
    """
    r = (moved_m / d_corr_m).float().clamp_min(0)  # [n]
    return torch.stack([torch.exp(-r), torch.log1p(r)], -1)


class SlowHead(nn.Module):
    """ρ of the slow recurrence per UE and KPI from the UE embedding and its motion.

    Initialised to ρ = 0 (last layer zero): an unfitted head changes nothing.

    Args:
        in_dim: UE embedding size.
        hidden: Hidden width.
    """

    def __init__(self, in_dim: int, hidden: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim + 2, hidden), nn.SiLU(), nn.Linear(hidden, len(SLOW_KPIS))
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Default init, then a zero last layer (ρ = 0)."""
        first, last = self.net[0], self.net[2]
        assert isinstance(first, nn.Linear) and isinstance(last, nn.Linear)
        first.reset_parameters()
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, h_ue: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
        """**Input:** ``h_ue [n, H]``, ``motion [n, 2]``. **Output:** ρ ``[n, 3]`` in (−1, 1)."""
        return RHO_MAX * torch.tanh(self.net(torch.cat([h_ue, motion], -1)))


def advance(
    u: torch.Tensor,  # [S, n_ues, 3] uniforms of this step's draw
    prev: SlowState | None,
    rho: torch.Tensor | None,  # [n_ues, 3]
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the recurrence on the quantile levels of the UE draws.

    **Output:** the levels to read the quantile functions at ``[S, n_ues, 3]`` and the new
    state ``s_k [S, n_ues, 3]``. Without a previous state (first step), and for UEs whose
    previous score is NaN (batch elements at their first step), ``u`` is returned as it is
    and ``s_0 = Φ_N^{-1}(u)``: a first step is bitwise the same with or without the state.
    """
    eps = torch.special.ndtri(u)  # [S, n, 3] ε_k = Φ_N^{-1}(u_k)
    if prev is None or rho is None:
        return u, eps
    if prev.score.shape != u.shape:
        raise ValueError(
            f"slow state score has shape {tuple(prev.score.shape)}, the draw {tuple(u.shape)}: "
            "the ensemble size and the UEs must not change within an episode"
        )
    first = torch.isnan(prev.score)  # [S, n, 3]
    s = rho * prev.score.nan_to_num(0.0) + torch.sqrt(1 - rho**2) * eps  # AR(1) / OU step
    s = torch.where(first, eps, s)
    u_out = torch.where(first, u, torch.special.ndtr(s).clamp(1e-6, 1 - 1e-6))
    return u_out, s


def copula_nll(a: torch.Tensor, b: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """−log of the bivariate Gaussian copula density of normal scores ``(a, b)``, elementwise.

    ``0.5 log(1 − ρ²) + (ρ² (a² + b²) − 2ρab) / (2 (1 − ρ²))`` (the bivariate normal with unit
    variances and correlation ρ, divided by its two marginals).
    """
    one_m = 1 - rho**2
    return 0.5 * torch.log(one_m) + (rho**2 * (a**2 + b**2) - 2 * rho * a * b) / (2 * one_m)


def normal_scores(q: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Normal scores Φ_N^{-1}(F(y)) of values under piecewise-linear quantile functions.

    The inverse of :func:`.quantiles.quantile_at` (same linear tails), clipped to the levels
    1e-3 … 1 − 1e-3. **Input:** ``q [n, L]`` quantiles at LEVELS, ``y [n]``. **Output:** ``[n]``.
    """
    tau = torch.tensor((0.0, *LEVELS, 1.0), dtype=q.dtype, device=q.device)  # [L + 2]
    lo = q[:, :1] - (q[:, 1:2] - q[:, :1])
    hi = q[:, -1:] + (q[:, -1:] - q[:, -2:-1])
    knots = torch.cat([lo, q, hi], -1).contiguous()  # [n, L + 2] increasing
    j = torch.searchsorted(knots, y[:, None].contiguous()).clamp(1, tau.numel() - 1)  # [n, 1]
    y0, y1 = knots.gather(1, j - 1)[:, 0], knots.gather(1, j)[:, 0]
    t0, t1 = tau[j - 1][:, 0], tau[j][:, 0]
    u = t0 + (y - y0).clamp_min(0) / (y1 - y0).clamp_min(1e-9) * (t1 - t0)
    return torch.special.ndtri(u.clamp(1e-3, 1 - 1e-3))


@torch.no_grad()
def prior_mean_scores(model, batch) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Normal scores of the simulator's UE values under the twin's quantiles at the prior mean.

    **Input:** a batched graph with targets. **Output:** the node embeddings
    (``{"ue": [n_ues, H], "cell": [n_cells, H]}``) and the scores ``[n_ues, 3]`` (the slow
    state a twin would carry had it drawn the simulator's values).
    """
    x = model.embed(batch)
    z = model.prior_params(batch, x)[0] if model.cfg.latent_dim else None
    q = model.heads(batch, x, z).ue_q  # [n_ues, 3, L]
    y = batch["ue"].y
    return x, torch.stack([normal_scores(q[:, j], y[:, j]) for j in range(len(SLOW_KPIS))], -1)


@dataclass(frozen=True)
class SlowPairs:
    """Consecutive super-steps of the data, per UE, for fitting :class:`SlowHead`."""

    h: torch.Tensor  # [N, H] UE embedding at step k
    motion: torch.Tensor  # [N, 2]
    a: torch.Tensor  # [N, 3] normal scores at step k − 1
    b: torch.Tensor  # [N, 3] normal scores at step k
    mask: torch.Tensor  # [N, 3] bool: both steps have the KPI


@torch.no_grad()
def slow_pairs(model, graphs: list[HeteroData], batch_size: int = 32) -> SlowPairs:
    """Embeddings, motion and normal scores of every UE present in two consecutive steps.

    Graphs need ``scene = (dataset, world, episode, step)``, ``ue.xy_m`` and ``d_corr_m``
    (as :func:`.data.load_graphs` writes them). Scores are taken under the prior-mean latent.
    """
    out: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
    for i in range(0, len(graphs), batch_size):
        chunk = graphs[i : i + batch_size]
        batch = Batch.from_data_list(chunk)
        x, scores = prior_mean_scores(model, batch)  # [n_ues, 3]
        ue = batch["ue"]
        ptr = ue.ptr.tolist()
        for gi, g in enumerate(chunk):
            sl = slice(ptr[gi], ptr[gi + 1])
            out[tuple(g.scene.tolist())] = (x["ue"][sl], scores[sl], ue.y_mask[sl])
    hs, ms, as_, bs, ks = [], [], [], [], []
    by_key = {tuple(g.scene.tolist()): g for g in graphs}
    for key, (h, sc, mk) in out.items():
        prev_key = (*key[:3], key[3] - 1)
        if prev_key not in out:
            continue
        g, g0 = by_key[key], by_key[prev_key]
        if g["ue"].num_nodes != g0["ue"].num_nodes:
            continue
        moved = (g["ue"].xy_m - g0["ue"].xy_m).norm(dim=-1)  # [n]
        d_corr = torch.full_like(moved, float(g.d_corr_m))
        hs.append(h)
        ms.append(motion_features(moved, d_corr))
        as_.append(out[prev_key][1])
        bs.append(sc)
        ks.append(mk & out[prev_key][2])
    if not hs:
        raise ValueError("no consecutive super-steps in the data: the slow state needs episodes")
    return SlowPairs(torch.cat(hs), torch.cat(ms), torch.cat(as_), torch.cat(bs), torch.cat(ks))


def pairs_nll(head: SlowHead, p: SlowPairs) -> torch.Tensor:
    """Mean copula NLL per KPI ``[3]`` of the pairs (masked)."""
    rho = head(p.h, p.motion)  # [N, 3]
    nll = copula_nll(p.a, p.b, rho) * p.mask  # [N, 3]
    return nll.sum(0) / p.mask.sum(0).clamp_min(1)


def fit_slow_head(
    model,
    train: list[HeteroData],
    val: list[HeteroData],
    steps: int = 300,
    lr: float = 3e-3,
    progress: bool = True,
) -> dict[str, float]:
    """Fit ``model.slow_head`` (backbone frozen) by the copula likelihood; keep the best.

    Full-batch Adam on the training pairs; the head with the lowest held-out NLL is kept.

    **Output:** metrics: held-out NLL per KPI before (ρ = 0 gives 0) and after, mean ρ.
    """
    head = model.slow_head
    tr, va = slow_pairs(model, train), slow_pairs(model, val)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    best = (math.inf, {k: v.clone() for k, v in head.state_dict().items()})
    for _ in tqdm(range(steps), desc="slow state", disable=not progress):
        opt.zero_grad()
        loss = pairs_nll(head, tr).sum()
        loss.backward()
        opt.step()
        with torch.no_grad():
            v = float(pairs_nll(head, va).sum())
        if v < best[0]:
            best = (v, {k: t.clone() for k, t in head.state_dict().items()})
    head.load_state_dict(best[1])
    with torch.no_grad():
        nll = pairs_nll(head, va)
        rho = head(va.h, va.motion)
        mean_rho = (rho * va.mask).sum(0) / va.mask.sum(0).clamp_min(1)
    metrics = {f"val_nll_{k}": float(nll[j]) for j, k in enumerate(SLOW_KPIS)}
    metrics.update({f"mean_rho_{k}": float(mean_rho[j]) for j, k in enumerate(SLOW_KPIS)})
    metrics["train_pairs"] = int(tr.h.shape[0])
    metrics["val_pairs"] = int(va.h.shape[0])
    return metrics
