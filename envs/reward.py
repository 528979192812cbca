r"""The default reward, computed from a :class:`~.types.KpiSample` by one function.

.. math::

    r = w_{thr} \, T - w_{energy} \, E - w_{cov} \, H - w_{ho} \, R

with the weights of ``scenario.reward`` (:class:`~rantwin.scenarios.RewardWeights`) and the
terms (each one also in the env's ``info`` under ``reward_<term>``, unweighted):

- ``throughput`` *T*: mean over active UEs of ``log(1 + throughput_mbps)``, divided by
  ``log(1 + 100)`` (:data:`THROUGHPUT_REF_MBPS`): 1.0 ≈ every active UE at 100 Mbit/s;
  0 if no UE is active;
- ``energy`` *E*: mean base-station input power per cell over :data:`ENERGY_REF_W` (500 W,
  about a 46 dBm macro sector at full load in the EARTH model);
- ``coverage_holes`` *H*: fraction of active UEs whose SINR is below
  ``reward.coverage_sinr_db``;
- ``handover_rate`` *R*: handovers per UE in the super-step (mean over all UEs).

:func:`cell_reward` is the local version used by the multi-agent env (``reward="local"``):
the same terms restricted to a cell (its served UEs, its energy, its outgoing handovers per
served UE).
"""

from __future__ import annotations

import math

import torch

from rantwin.scenarios import RewardWeights

from .types import KpiSample

__all__ = ["ENERGY_REF_W", "TERMS", "THROUGHPUT_REF_MBPS", "cell_reward", "compute_reward"]

#: Throughput that scores 1.0 in the throughput term (Mbit/s).
THROUGHPUT_REF_MBPS = 100.0
#: Per-cell input power that scores 1.0 in the energy term (W).
ENERGY_REF_W = 500.0
#: Names of the reward terms, in ``info`` as ``reward_<name>``.
TERMS: tuple[str, ...] = ("throughput", "energy", "coverage_holes", "handover_rate")

_LOG_REF = math.log1p(THROUGHPUT_REF_MBPS)


def _combine(terms: dict[str, torch.Tensor], w: RewardWeights) -> torch.Tensor:
    return (
        w.throughput * terms["throughput"]
        - w.energy * terms["energy"]
        - w.coverage * terms["coverage_holes"]
        - w.handover * terms["handover_rate"]
    )


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    n = mask.sum(-1)
    s = torch.where(mask, x, torch.zeros_like(x)).sum(-1)
    return torch.where(n > 0, s / n.clamp(min=1), torch.zeros_like(s))


def compute_reward(
    kpi: KpiSample, weights: RewardWeights
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Reward of every member of every batch element.

    **Input:** ``kpi`` (batch ``B``, ``M`` members), the reward weights.

    **Output:** ``(reward, terms)``: ``reward`` ``[B, M]`` float64; ``terms`` maps each name
    of :data:`TERMS` to its unweighted value ``[B, M]`` float64.
    """
    active = kpi.ue_active  # [B, M, n_ues]
    thr = torch.log1p(kpi.ue_throughput_mbps.double().clamp(min=0.0)) / _LOG_REF
    hole = (kpi.ue_sinr_db.double() < weights.coverage_sinr_db).double()
    terms = {
        "throughput": _masked_mean(thr, active),
        "energy": kpi.cell_energy_w.double().mean(-1) / ENERGY_REF_W,
        "coverage_holes": _masked_mean(hole, active),
        "handover_rate": kpi.ue_handovers.double().mean(-1),
    }
    return _combine(terms, weights), terms


def cell_reward(
    kpi: KpiSample, weights: RewardWeights
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Local reward of every cell (same terms over the cell's own UEs).

    **Output:** ``(reward, terms)`` with ``reward`` and each term ``[B, M, n_cells]`` float64.
    """
    cells = torch.arange(kpi.n_cells)
    served = kpi.ue_serving[:, :, None, :] == cells[None, None, :, None]  # [B, M, C, U]
    active = served & kpi.ue_active[:, :, None, :]
    thr = torch.log1p(kpi.ue_throughput_mbps.double().clamp(min=0.0)) / _LOG_REF
    hole = (kpi.ue_sinr_db.double() < weights.coverage_sinr_db).double()
    n_served = served.sum(-1).double().clamp(min=1.0)
    terms = {
        "throughput": _masked_mean(thr[:, :, None, :].expand_as(active), active),
        "energy": kpi.cell_energy_w.double() / ENERGY_REF_W,
        "coverage_holes": _masked_mean(hole[:, :, None, :].expand_as(active), active),
        "handover_rate": kpi.cell_handovers_out.double() / n_served,
    }
    return _combine(terms, weights), terms
