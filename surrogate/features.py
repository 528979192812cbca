"""Φ features of a scene: what physics alone says about every (cell, UE) link.

The twin conditions on these deterministic quantities and learns the rest (shadowing,
fading, scheduling, traffic, handover hysteresis) as distributions. Everything here comes
from :mod:`rantwin.radio` — the same functions the simulator uses — with the stochastic
parts replaced by their means:

- coupling gain = antenna gain − path loss, as LOS and NLOS, and the LOS probability
  (TR 38.901 Tables 7.4.1-1 / 7.4.2-1); the expected gain mixes them in dB;
- O2I loss of indoor UEs at the mean indoor distance with no random part (§7.4.3);
- RSRP per RE (TS 38.215), Φ serving cell = strongest RSRP + CIO among awake cells;
- Φ geometry SINR: all co-channel awake cells transmitting, no fading.

UE heights are the scenario's ``ue_height_m`` (the simulator's indoor floors are unknown to
the twin, as they are to an operator).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rantwin.radio import geometry, noise, o2i, pathloss, phi
from rantwin.radio.link import rsrp_dbm
from rantwin.scenarios import CellConfig, Scenario

#: Mean of min(U(0, a), U(0, a)) = a/3, TR 38.901 §7.4.3.1 (a = 25 m; 10 m for RMa).
_MEAN_INDOOR_DISTANCE_M = {True: 10.0 / 3, False: 25.0 / 3}


@dataclass(frozen=True)
class SceneInputs:
    """What the twin conditions on for one super-step of one world.

    ``ue_xy_m`` etc. come from a dataset (training) or from the UE population process of the
    environment (inference).
    """

    scenario: Scenario
    config: CellConfig
    ue_xy_m: np.ndarray  # [n_ues, 2]
    ue_indoor: np.ndarray  # [n_ues] bool
    ue_speed_mps: np.ndarray  # [n_ues]
    load_factor: float
    hour: float


@dataclass(frozen=True)
class PhiLinks:
    """Φ quantities of every link, float32 tensors ``[n_cells, n_ues]`` unless noted."""

    gain_db: torch.Tensor  # expected coupling gain (LOS/NLOS mixed in dB, minus mean O2I)
    p_los: torch.Tensor
    rsrp_dbm: torch.Tensor
    distance_2d_m: torch.Tensor
    azimuth_offset_deg: torch.Tensor
    zenith_deg: torch.Tensor
    cochannel: torch.Tensor  # bool: cell shares the carrier of the UE's Φ serving cell
    serving: torch.Tensor  # [n_ues] long, Φ serving cell
    sinr_db: torch.Tensor  # [n_ues] Φ geometry SINR
    rx_prb_dbm: torch.Tensor  # received power per PRB


def _wrap_offsets(sc: Scenario) -> torch.Tensor | None:
    dep = sc.deployment
    if dep.wraparound and dep.n_rings is not None and dep.isd_m is not None:
        return geometry.wraparound_offsets(dep.n_rings, dep.isd_m).double()
    return None


def phi_links(inp: SceneInputs) -> PhiLinks:
    """Compute the Φ link table of a scene (float64 inside, float32 out)."""
    sc, cfg = inp.scenario, inp.config
    t = sc.cells()
    prop = sc.propagation
    cell_xy = torch.tensor(np.stack([t.x_m, t.y_m], -1), dtype=torch.float64)  # [C, 2]
    cell_h = torch.tensor(np.array(t.height_m), dtype=torch.float64)
    ue_xy = torch.tensor(np.asarray(inp.ue_xy_m), dtype=torch.float64)  # [U, 2]
    n_ues = ue_xy.shape[0]
    h_ue = torch.full((n_ues,), prop.ue_height_m, dtype=torch.float64)
    geo = geometry.link_geometry(
        ue_xy, h_ue, cell_xy, cell_h, torch.tensor(np.array(t.azimuth_deg)), _wrap_offsets(sc)
    )
    carrier = torch.tensor(np.array(t.carrier_ghz), dtype=torch.float64)
    tilt = torch.tensor(np.array(cfg.tilt_deg), dtype=torch.float64)
    n_v = torch.tensor(np.array(t.n_vertical), dtype=torch.long)
    args = (geo, prop.model, carrier, cell_h, h_ue, tilt, n_v)
    ones = torch.ones_like(geo.distance_2d_m, dtype=torch.bool)
    g_los = phi.coupling_gain_db(*args, los=ones)
    g_nlos = phi.coupling_gain_db(*args, los=~ones)
    p_los = pathloss.los_probability(prop.model, geo.distance_2d_m, h_ue[None, :])
    gain = p_los * g_los + (1 - p_los) * g_nlos  # [C, U]
    indoor = torch.tensor(np.asarray(inp.ue_indoor, dtype=bool))
    if bool(indoor.any()):
        d_in = _MEAN_INDOOR_DISTANCE_M[prop.model == "38901-rma"]
        models = ("low", "high") if prop.o2i_model == "mixed" else (prop.o2i_model,)
        loss = sum(o2i.o2i_loss_db(m, carrier[:, None], d_in) for m in models) / len(models)
        gain = gain - indoor[None, :].double() * loss
    tx = torch.tensor(np.array(t.tx_power_dbm) + np.array(cfg.power_offset_db))  # [C]
    n_prb = torch.tensor(np.array(t.n_prb), dtype=torch.float64)
    rsrp = rsrp_dbm(tx[:, None], n_prb[:, None], gain)  # [C, U]
    awake = torch.tensor(~np.asarray(cfg.sleep))
    cio = torch.tensor(np.array(cfg.cio_db))
    score = torch.where(awake[:, None], rsrp + cio[:, None], torch.full_like(rsrp, -torch.inf))
    serving = score.argmax(0)  # [U]
    rx = (tx - 10 * torch.log10(n_prb))[:, None] + gain  # [C, U] dBm per PRB
    rx_mw = 10 ** (rx / 10)
    cochannel = carrier[:, None] == carrier[serving][None, :]  # [C, U]
    ues = torch.arange(n_ues)
    s = rx_mw[serving, ues]
    i = (rx_mw * (cochannel & awake[:, None])).sum(0) - s
    scs_hz = sc.deployment.scs_khz * 1e3
    n_mw = 10 ** (float(noise.thermal_noise_dbm(12 * scs_hz, prop.noise_figure_db)) / 10)
    sinr = 10 * torch.log10(s / (i.clamp_min(0) + n_mw))
    f = torch.float32
    return PhiLinks(
        gain_db=gain.to(f),
        p_los=p_los.to(f),
        rsrp_dbm=rsrp.to(f),
        distance_2d_m=geo.distance_2d_m.to(f),
        azimuth_offset_deg=geo.azimuth_offset_deg.to(f),
        zenith_deg=geo.zenith_deg.to(f),
        cochannel=cochannel,
        serving=serving,
        sinr_db=sinr.to(f),
        rx_prb_dbm=rx.to(f),
    )
