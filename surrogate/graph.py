"""Scene → torch-geometric ``HeteroData``: cell and UE nodes, Φ-attributed edges.

Node types: ``cell``, ``ue``. Edge types (:data:`EDGE_TYPES`):

- ``(cell, serves, ue)``: the Φ serving cell of each UE (strongest RSRP + CIO, awake);
- ``(cell, interferes, ue)``: the ``k_interferers`` strongest other co-channel awake cells;
- ``(cell, neighbours, cell)``: the ``k_neighbours`` nearest other cells (both directions);
- ``(ue, rev_serves, cell)`` and ``(ue, rev_interferes, cell)``: reverses, so a cell hears
  about its load and its victims.

Edge attributes carry the Φ link (RSRP, gain, LOS probability, distance, angles). All
features are normalised with the fixed constants below (not data statistics), so a world
never seen in training is normalised the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.data import HeteroData

from .features import PhiLinks, SceneInputs, phi_links

NodeType = str
EdgeType = tuple[str, str, str]

EDGE_TYPES: tuple[EdgeType, ...] = (
    ("cell", "serves", "ue"),
    ("cell", "interferes", "ue"),
    ("cell", "neighbours", "cell"),
    ("ue", "rev_serves", "cell"),
    ("ue", "rev_interferes", "cell"),
)
NODE_TYPES: tuple[NodeType, ...] = ("cell", "ue")
METADATA = (list(NODE_TYPES), list(EDGE_TYPES))

CELL_FEATURES = (
    "tx_power",  # (P_tx − 40 dBm) / 10
    "power_offset",  # dB / 10
    "tilt",  # deg / 15
    "cio",  # dB / 6
    "sleep",
    "log_carrier",  # log(f / 1 GHz)
    "height",  # m / 30
    "n_prb",  # / 100
    "small",
    "n_vertical",  # / 10
    "load_factor",
    "hour_sin",
    "hour_cos",
    "phi_served",  # Φ-served UEs / (n_ues / n_cells)
    "phi_sinr",  # mean Φ SINR of its Φ UEs, dB / 10
)
UE_FEATURES = (
    "indoor",
    "speed",  # m/s / 10
    "phi_rsrp",  # (dBm + 90) / 20
    "phi_sinr",  # dB / 10
    "best_margin",  # (best − second best RSRP) dB / 10
    "log_distance",  # log10(d / 1 m) / 3, to the Φ server
    "az_cos",
    "az_sin",
    "zenith",  # (θ − 90°) / 10
    "load_factor",
)
LINK_FEATURES = (
    "rsrp",  # (dBm + 90) / 20
    "rel_rsrp",  # (RSRP − serving RSRP) / 10
    "p_los",
    "log_distance",  # log10(d) / 3
    "az_cos",
    "az_sin",
    "zenith",  # (θ − 90) / 10
)
NEIGHBOUR_FEATURES = ("log_distance", "same_site", "same_carrier", "az_cos")


@dataclass(frozen=True)
class GraphConfig:
    """How the graph is built."""

    k_interferers: int = 6
    k_neighbours: int = 6


def _link_attr(phi: PhiLinks, cells: torch.Tensor, ues: torch.Tensor) -> torch.Tensor:
    """Edge attributes ``[n_edges, len(LINK_FEATURES)]`` for links (cells[i], ues[i])."""
    serving_rsrp = phi.rsrp_dbm[phi.serving[ues], ues]
    rsrp = phi.rsrp_dbm[cells, ues]
    az = torch.deg2rad(phi.azimuth_offset_deg[cells, ues])
    return torch.stack(
        [
            (rsrp + 90) / 20,
            (rsrp - serving_rsrp) / 10,
            phi.p_los[cells, ues],
            torch.log10(phi.distance_2d_m[cells, ues].clamp_min(1.0)) / 3,
            torch.cos(az),
            torch.sin(az),
            (phi.zenith_deg[cells, ues] - 90) / 10,
        ],
        -1,
    )


def build_graph(inp: SceneInputs, cfg: GraphConfig | None = None) -> HeteroData:
    """Build the heterogeneous graph of one scene.

    **Output:** ``HeteroData`` with ``data["cell"].x: [n_cells, len(CELL_FEATURES)]``,
    ``data["ue"].x: [n_ues, len(UE_FEATURES)]``, one ``edge_index`` / ``edge_attr`` per
    edge type, and Φ baselines ``data["ue"].phi_rsrp_dbm``, ``phi_sinr_db`` ``[n_ues]`` and
    ``data["cell"].awake`` ``[n_cells]`` used by the heads.

    Raises:
        ValueError: A scene with no UE, or NaN in the inputs (naming the input).
    """
    cfg = cfg or GraphConfig()
    sc, conf = inp.scenario, inp.config
    xy = np.asarray(inp.ue_xy_m, dtype=float)
    if xy.ndim != 2 or xy.shape[0] == 0 or xy.shape[1] != 2:
        raise ValueError(f"ue_xy_m must have shape [n_ues >= 1, 2], got {xy.shape}")
    for name, v in (("ue_xy_m", xy), ("ue_speed_mps", np.asarray(inp.ue_speed_mps, float)),
                    ("load_factor", np.asarray(inp.load_factor, float)),
                    ("hour", np.asarray(inp.hour, float))):  # fmt: skip
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite, got NaN/inf in the scene inputs")
    phi = phi_links(inp)
    t = sc.cells()
    n_cells, n_ues = sc.n_cells, xy.shape[0]
    awake = torch.tensor(~np.asarray(conf.sleep))
    ues = torch.arange(n_ues)
    serving = phi.serving

    # cell → ue "serves" and "interferes" (strongest other co-channel awake cells)
    masked = phi.rsrp_dbm.clone()
    masked[~(phi.cochannel & awake[:, None])] = -torch.inf
    masked[serving, ues] = -torch.inf
    k = min(cfg.k_interferers, max(n_cells - 1, 0))
    top = masked.topk(k, dim=0) if k > 0 else None
    if top is not None:
        valid = torch.isfinite(top.values)  # [k, n_ues]
        i_cells = top.indices[valid]
        i_ues = ues[None, :].expand(k, -1)[valid]
    else:
        i_cells = i_ues = torch.zeros(0, dtype=torch.long)

    # cell ↔ cell nearest neighbours
    cxy = torch.tensor(np.stack([t.x_m, t.y_m], -1), dtype=torch.float64)
    d = torch.cdist(cxy, cxy)  # [C, C]
    site = torch.tensor(np.array(t.site))
    d_rank = d + (site[:, None] == site[None, :]).double() * 1e-3  # co-site sectors first
    d_rank.fill_diagonal_(torch.inf)
    kn = min(cfg.k_neighbours, n_cells - 1)
    if kn > 0:
        nb = d_rank.topk(kn, dim=1, largest=False).indices  # [C, kn]
        src = nb.reshape(-1)
        dst = torch.arange(n_cells).repeat_interleave(kn)
        pairs = torch.unique(
            torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1), dim=1
        )
    else:
        pairs = torch.zeros(2, 0, dtype=torch.long)
    carrier = torch.tensor(np.array(t.carrier_ghz))
    az = torch.tensor(np.array(t.azimuth_deg))
    nb_attr = torch.stack(
        [
            torch.log10(d[pairs[0], pairs[1]].clamp_min(1.0)) / 3,
            (site[pairs[0]] == site[pairs[1]]).double(),
            (carrier[pairs[0]] == carrier[pairs[1]]).double(),
            torch.cos(torch.deg2rad(az[pairs[0]] - az[pairs[1]])),
        ],
        -1,
    ).float()

    # node features
    hour = 2 * math.pi * float(inp.hour) / 24
    lf = float(inp.load_factor)
    served = torch.bincount(serving, minlength=n_cells).float()
    sinr_sum = torch.zeros(n_cells).index_add_(0, serving, phi.sinr_db)
    tx = np.array(t.tx_power_dbm) + np.array(conf.power_offset_db)
    cell_x = torch.tensor(
        np.stack(
            [
                (tx - 40) / 10,
                np.array(conf.power_offset_db) / 10,
                np.array(conf.tilt_deg) / 15,
                np.array(conf.cio_db) / 6,
                np.asarray(conf.sleep, float),
                np.log(np.array(t.carrier_ghz)),
                np.array(t.height_m) / 30,
                np.array(t.n_prb) / 100,
                (np.asarray(t.kind) == "small").astype(float),
                np.array(t.n_vertical) / 10,
                np.full(n_cells, lf),
                np.full(n_cells, math.sin(hour)),
                np.full(n_cells, math.cos(hour)),
                served.numpy() / (n_ues / n_cells),
                (sinr_sum / served.clamp_min(1)).numpy() / 10,
            ],
            -1,
        ),
        dtype=torch.float32,
    )
    best2 = phi.rsrp_dbm.masked_fill(~awake[:, None], -torch.inf).topk(min(2, n_cells), 0).values
    margin = (best2[0] - best2[-1]).clamp(max=30) if n_cells > 1 else torch.zeros(n_ues)
    s_az = torch.deg2rad(phi.azimuth_offset_deg[serving, ues])
    ue_x = torch.stack(
        [
            torch.tensor(np.asarray(inp.ue_indoor, float), dtype=torch.float32),
            torch.tensor(np.asarray(inp.ue_speed_mps, float), dtype=torch.float32) / 10,
            (phi.rsrp_dbm[serving, ues] + 90) / 20,
            phi.sinr_db / 10,
            margin.float() / 10,
            torch.log10(phi.distance_2d_m[serving, ues].clamp_min(1.0)) / 3,
            torch.cos(s_az),
            torch.sin(s_az),
            (phi.zenith_deg[serving, ues] - 90) / 10,
            torch.full((n_ues,), lf),
        ],
        -1,
    ).float()

    data = HeteroData()
    data["cell"].x = cell_x  # [n_cells, len(CELL_FEATURES)]
    data["cell"].awake = awake  # [n_cells]
    data["ue"].x = ue_x  # [n_ues, len(UE_FEATURES)]
    data["ue"].phi_rsrp_dbm = phi.rsrp_dbm[serving, ues]  # [n_ues]
    data["ue"].phi_sinr_db = phi.sinr_db  # [n_ues]
    data["ue"].phi_serving = serving  # [n_ues]
    s_idx = torch.stack([serving, ues])
    i_idx = torch.stack([i_cells, i_ues])
    data["cell", "serves", "ue"].edge_index = s_idx
    data["cell", "serves", "ue"].edge_attr = _link_attr(phi, serving, ues)
    data["cell", "interferes", "ue"].edge_index = i_idx
    data["cell", "interferes", "ue"].edge_attr = _link_attr(phi, i_cells, i_ues)
    data["ue", "rev_serves", "cell"].edge_index = s_idx.flip(0)
    data["ue", "rev_serves", "cell"].edge_attr = data["cell", "serves", "ue"].edge_attr
    data["ue", "rev_interferes", "cell"].edge_index = i_idx.flip(0)
    data["ue", "rev_interferes", "cell"].edge_attr = data["cell", "interferes", "ue"].edge_attr
    data["cell", "neighbours", "cell"].edge_index = pairs
    data["cell", "neighbours", "cell"].edge_attr = nb_attr
    return data
