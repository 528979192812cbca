"""The observation: per cell, the sampled KPI distribution of the super-step, normalised.

:func:`observe` turns a :class:`~.types.KpiSample` into ``[B, M, n_cells, n_features]``
float32 in ``[-1, 1]``. Each KPI ``x`` is first transformed (``f(x)``: identity or
``log1p``) and then mapped linearly from its documented range ``[lo, hi]`` (on the ``f``
scale) to ``[-1, 1]`` and clipped (:data:`KPI_FEATURES`):

==  =================  ===================================  ==========  ========  ==========
#   name               over                                 f           lo        hi
==  =================  ===================================  ==========  ========  ==========
0   rsrp_p10           served UEs, RSRP dBm                 x           -140      -40
1   rsrp_p50           served UEs, RSRP dBm                 x           -140      -40
2   rsrp_p90           served UEs, RSRP dBm                 x           -140      -40
3   sinr_p10           active served UEs, SINR dB           x           -20       40
4   sinr_p50           active served UEs, SINR dB           x           -20       40
5   sinr_p90           active served UEs, SINR dB           x           -20       40
6   throughput_p10     active served UEs, Mbit/s            log1p       0         log1p(1000)
7   throughput_p50     active served UEs, Mbit/s            log1p       0         log1p(1000)
8   throughput_p90     active served UEs, Mbit/s            log1p       0         log1p(1000)
9   prb_util           PRB utilisation                      x           0         1
10  active_ues         active served UEs (count)            log1p       0         log1p(200)
11  handover_rate      handovers out / served UEs           x           0         1
12  energy             base-station input power, W          x           0         1000
==  =================  ===================================  ==========  ========  ==========

then one column per controlled knob (its value in force, normalised like the action:
``-1`` = low end, ``+1`` = high end; sleep ``+1`` asleep, ``-1`` awake), then the hour of day
as ``sin(2π h/24)`` and ``cos(2π h/24)``. A cell without (active) served UEs reports ``-1``
for the quantiles it has no sample of. Quantiles are linear-interpolation quantiles
(:func:`torch.nanquantile`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .actions import ActionMap
from .types import KpiSample

__all__ = ["KPI_FEATURES", "Feature", "feature_names", "n_features", "observe"]


@dataclass(frozen=True)
class Feature:
    """One normalised KPI feature: ``2 (f(x) − lo) / (hi − lo) − 1``, clipped to [-1, 1]."""

    name: str
    log1p: bool
    lo: float
    hi: float


_RSRP = (-140.0, -40.0)
_SINR = (-20.0, 40.0)
_THR = (0.0, math.log1p(1000.0))
#: The KPI features, in column order (see the module docstring).
KPI_FEATURES: tuple[Feature, ...] = (
    *(Feature(f"rsrp_p{q}", False, *_RSRP) for q in (10, 50, 90)),
    *(Feature(f"sinr_p{q}", False, *_SINR) for q in (10, 50, 90)),
    *(Feature(f"throughput_p{q}", True, *_THR) for q in (10, 50, 90)),
    Feature("prb_util", False, 0.0, 1.0),
    Feature("active_ues", True, 0.0, math.log1p(200.0)),
    Feature("handover_rate", False, 0.0, 1.0),
    Feature("energy", False, 0.0, 1000.0),
)
_QUANTILES = (0.1, 0.5, 0.9)


def feature_names(actions: ActionMap) -> list[str]:
    """Names of the observation columns for an action map's knobs."""
    return (
        [f.name for f in KPI_FEATURES]
        + [f"knob_{k.name}" for k in actions.knobs]
        + [
            "hour_sin",
            "hour_cos",
        ]
    )


def n_features(actions: ActionMap) -> int:
    """Number of observation columns."""
    return len(KPI_FEATURES) + len(actions.knobs) + 2


def _norm(x: torch.Tensor, f: Feature) -> torch.Tensor:
    v = torch.log1p(x.clamp(min=0.0)) if f.log1p else x
    return (2.0 * (v - f.lo) / (f.hi - f.lo) - 1.0).clamp(-1.0, 1.0)


def _cell_quantiles(
    values: torch.Tensor,  # [B, M, n_ues]
    mask: torch.Tensor,  # [B, M, n_cells, n_ues] bool, UE counts for the cell
) -> torch.Tensor:
    """p10 / p50 / p90 per cell of the masked values: ``[B, M, n_cells, 3]`` (NaN if empty)."""
    nan = torch.full((), float("nan"), dtype=values.dtype)
    x = torch.where(mask, values[:, :, None, :], nan)  # [B, M, n_cells, n_ues]
    q = torch.tensor(_QUANTILES, dtype=values.dtype)
    out = torch.nanquantile(x, q, dim=-1)  # [3, B, M, n_cells]
    return out.permute(1, 2, 3, 0)


def observe(kpi: KpiSample, actions: ActionMap) -> torch.Tensor:
    """The observation of every member of every batch element.

    **Input:** ``kpi`` (batch ``B``, ``M`` members), the env's :class:`ActionMap`.

    **Output:** ``[B, M, n_cells, n_features]`` float32 in ``[-1, 1]``.
    """
    n_cells = kpi.n_cells
    cells = torch.arange(n_cells)
    # [B, M, n_cells, n_ues]: UE u is served by cell c
    served = kpi.ue_serving[:, :, None, :] == cells[None, None, :, None]
    active = served & kpi.ue_active[:, :, None, :]
    cols = []
    for values, mask, feats in (
        (kpi.ue_rsrp_dbm, served, KPI_FEATURES[0:3]),
        (kpi.ue_sinr_db, active, KPI_FEATURES[3:6]),
        (kpi.ue_throughput_mbps, active, KPI_FEATURES[6:9]),
    ):
        q = _cell_quantiles(values.float(), mask)  # [B, M, n_cells, 3]
        for i, f in enumerate(feats):
            col = _norm(q[..., i], f)
            cols.append(torch.nan_to_num(col, nan=-1.0))  # no sample: bottom of the range
    n_served = served.sum(-1).float()  # [B, M, n_cells]
    cols.append(_norm(kpi.cell_prb_util.float(), KPI_FEATURES[9]))
    cols.append(_norm(kpi.cell_n_active.float(), KPI_FEATURES[10]))
    cols.append(_norm(kpi.cell_handovers_out.float() / n_served.clamp(min=1.0), KPI_FEATURES[11]))
    cols.append(_norm(kpi.cell_energy_w.float(), KPI_FEATURES[12]))
    b, m = kpi.batch, kpi.members
    cfg = {
        "power_offset_db": kpi.cfg_power_offset_db,
        "tilt_deg": kpi.cfg_tilt_deg,
        "cio_db": kpi.cfg_cio_db,
        "sleep": kpi.cfg_sleep.float(),
    }
    knobs = torch.as_tensor(actions.normalise({k.name: cfg[k.name].numpy() for k in actions.knobs}))
    knobs = knobs[:, None].expand(b, m, n_cells, len(actions.knobs))  # [B, M, n_cells, n_knobs]
    angle = 2.0 * math.pi * kpi.hour.float() / 24.0  # [B]
    hour = torch.stack([torch.sin(angle), torch.cos(angle)], -1)  # [B, 2]
    hour = hour[:, None, None, :].expand(b, m, n_cells, 2)
    obs = torch.cat([torch.stack(cols, -1), knobs, hour], -1)  # [B, M, n_cells, n_features]
    return obs.clamp(-1.0, 1.0).to(torch.float32)
