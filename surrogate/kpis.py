"""From a twin's normalised draws to KPIs in physical units: the last step of a twin sample.

The heads draw in normalised units (:data:`.data.TARGET_SCALE`): UE RSRP and SINR as
residuals on Φ's, UE and cell throughput as ``log1p``, PRB utilisation as a fraction. This
module turns one ensemble of such draws into the KPIs of :class:`.twin.TwinSample`, with the
simulator's structure imposed where the simulator has it:

- a UE's throughput is 0 when the UE is not active in that draw;
- a cell carries load (PRB utilisation and throughput above 0) only if it is awake and
  some UE it serves (Φ serving) is active in that draw: the simulator reports 0 exactly
  then, and the cell heads are trained given an active UE (:mod:`.data`);
- with the mixed PRB head the draw sits on the atom at exactly 1 when ``full``;
- with ``cell_share`` (opt-in, ``Twin(ue_throughput="cell-share")``) a cell's throughput is
  the sum of its UEs', as the simulator reports it (``simulator/engine.py`` adds the UEs'
  throughputs by serving cell): each loaded cell's throughput is drawn by the cell head and
  shared out among its Φ-served UEs in proportion to their own draws, a top-down
  reconciliation of a hierarchical forecast (Athanasopoulos, Ahmed & Hyndman 2009,
  Int. J. Forecasting 25(1); probabilistic: Panagiotelis et al. 2023, Eur. J. Oper. Res.
  306(2)). The UE heads then set how a cell's throughput splits, the cell head how much
  there is. By default the UE draws are the UE heads' own: with the bundled twin the shares
  bring the held-out UE means from 7–27 % above the simulator's to within 8 %, but the cell
  head's errors reach the cell-edge UEs (``docs/twin.md``, *UE throughput as a share of the
  cell's*);
- a cell's mains power follows the EARTH model from its PRB utilisation, transmit power
  and sleep state (:func:`rantwin.radio.energy.cell_power_w`; Auer et al. 2011).

It is pure tensor arithmetic, about forty small operations, so a compiled twin compiles it
as one graph (:mod:`.compiled`); the EARTH model's input checks do nothing while it is
traced (the draws are clamped into range here, so there is nothing to check).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rantwin.radio.energy import cell_power_w

from .data import TARGET_SCALE


@dataclass(frozen=True)
class KpiFields:
    """KPIs of ``S`` draws of a batch of scenes (nodes of all scenes concatenated)."""

    ue_rsrp_dbm: torch.Tensor  # [S, n_ues]
    ue_sinr_db: torch.Tensor  # [S, n_ues]
    ue_throughput_mbps: torch.Tensor  # [S, n_ues], 0 where the UE is not active
    cell_prb_util: torch.Tensor  # [S, n_cells] in [0, 1]
    cell_throughput_mbps: torch.Tensor  # [S, n_cells]
    cell_energy_w: torch.Tensor  # [S, n_cells] mains power, EARTH model
    cell_n_active: torch.Tensor  # [S, n_cells] float: active UEs it serves (Φ serving)


def kpi_fields(
    ue_draw: torch.Tensor,  # [S, n_ues, 3] normalised (RSRP res., SINR res., log1p thr)
    cell_draw: torch.Tensor,  # [S, n_cells, 2] normalised (PRB utilisation, log1p thr)
    active: torch.Tensor,  # [S, n_ues] bool
    full: torch.Tensor | None,  # [S, n_cells] bool: on the PRB atom at 1 (mixed head)
    phi_rsrp_dbm: torch.Tensor,  # [n_ues] Φ RSRP of the serving link
    phi_sinr_db: torch.Tensor,  # [n_ues] Φ SINR
    ue_cell: torch.Tensor,  # [n_ues] long: global index of the UE's Φ serving cell
    cell_awake: torch.Tensor,  # [n_cells] bool
    cell_x: torch.Tensor,  # [n_cells, len(CELL_FEATURES)] the graph's cell features
    cell_share: bool = False,
) -> KpiFields:
    """The KPIs of one ensemble of draws (see the module docstring).

    **Input:** as annotated; ``cell_x`` supplies the transmit power (feature 0,
    ``(P_tx − 40) / 10``) and the small-cell flag (feature 8) of :data:`.graph.CELL_FEATURES`.
    **Output:** :class:`KpiFields`. Throughput draws are bounded: ``log1p(thr) ≤ 7`` per UE
    (1.1 Gbit/s), ``≤ 9`` per cell (8 Gbit/s); with ``cell_share`` a UE's share of its
    cell's throughput is bounded by the cell's only.
    """
    s = TARGET_SCALE
    thr = torch.expm1((ue_draw[..., 2] * s["ue_log_thr"]).clamp(0, 7)) * active
    n_active = torch.zeros(active.shape[0], cell_awake.numel(), device=active.device).index_add_(
        1, ue_cell, active.float()
    )  # [S, n_cells]
    loaded = cell_awake & (n_active > 0)  # [S, n_cells]
    prb = cell_draw[..., 0].clamp(0, 1)  # [S, n_cells]
    if full is not None:  # mixed head: the atom at 1, else the unsaturated quantiles
        prb = torch.where(full, torch.ones_like(prb), prb)
    prb = prb * loaded
    cell_thr = torch.expm1((cell_draw[..., 1] * s["cell_log_thr"]).clamp(0, 9)) * loaded
    if cell_share:  # the cell's throughput, shared in proportion to its UEs' draws
        ue_sum = torch.zeros_like(cell_thr).index_add_(1, ue_cell, thr)[:, ue_cell]  # [S, n_ues]
        # where every active UE drew 0 (their draws clamped at 0), equal shares
        share = torch.where(
            ue_sum > 0,
            thr / ue_sum.clamp_min(1e-30),
            active.float() / n_active.clamp_min(1)[:, ue_cell],
        )  # [S, n_ues]
        thr = share * cell_thr[:, ue_cell]
    tx = cell_x[:, 0] * 10 + 40  # CELL_FEATURES[0] = (P_tx − 40) / 10
    small = cell_x[:, 8] > 0.5
    energy = cell_power_w(prb, tx.expand_as(prb), cell_awake.expand_as(prb), small)
    return KpiFields(
        ue_rsrp_dbm=phi_rsrp_dbm + s["rsrp_db"] * ue_draw[..., 0],
        ue_sinr_db=phi_sinr_db + s["sinr_db"] * ue_draw[..., 1],
        ue_throughput_mbps=thr,
        cell_prb_util=prb,
        cell_throughput_mbps=cell_thr,
        cell_energy_w=energy,
        cell_n_active=n_active,
    )
