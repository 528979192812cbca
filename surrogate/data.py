"""Datasets → training graphs: one ``HeteroData`` per (world, episode, step) with targets.

Reads the Parquet tables through :mod:`rantwin.datasets` (never the simulator). Targets are
normalised relative to Φ (see :mod:`.model`):

- ``data["ue"].y``: ``[n_ues, 3]`` = ((RSRP − Φ RSRP)/10, (SINR − Φ SINR)/10, log1p(thr)/2),
  ``y_mask`` marks throughput of inactive UEs as not applicable;
- ``data["cell"].y``: ``[n_cells, 2]`` = (PRB utilisation, log1p(thr)/3), masked for sleeping
  cells and for cells none of whose Φ-served UEs is active (both 0 by construction: in the
  simulator's data PRB utilisation and cell throughput are 0 exactly when no served UE is
  active, and the twin's sampler imposes that from its own UE activity draws, so the cell
  heads learn the load *given* that some UE is active);
- ``data["ue"].active``, ``data["ue"].handovers``, ``data["cell"].handovers_out``: events.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import torch
from torch_geometric.data import HeteroData
from tqdm import tqdm

from rantwin.datasets import open_dataset
from rantwin.radio.pathloss import decorrelation_distance_m
from rantwin.scenarios import CellConfig, Scenario, scenario_from_dict

from .features import SceneInputs
from .graph import GraphConfig, build_graph

#: Per-TTI samples per UE and super-step used to train the fast timescale (scenes recorded
#: with another count get no per-TTI supervision).
TTI_SAMPLES = 8

#: Normalisation of the targets (fixed constants, stored in checkpoints).
TARGET_SCALE = {"rsrp_db": 10.0, "sinr_db": 10.0, "ue_log_thr": 2.0, "cell_log_thr": 3.0}


def _groups(keys: list[np.ndarray]) -> list[np.ndarray]:
    """Row indices of each distinct key tuple, in sorted key order."""
    order = np.lexsort(tuple(reversed(keys)))
    sk = np.stack([k[order] for k in keys], 1)
    cuts = np.flatnonzero(np.any(np.diff(sk, axis=0) != 0, axis=1)) + 1
    return np.split(order, cuts)


def scene_inputs_and_targets(
    scenario: Scenario, cells: dict[str, np.ndarray], ues: dict[str, np.ndarray]
) -> tuple[SceneInputs, dict[str, np.ndarray]]:
    """Inputs of one scene and its raw KPI targets, from its cell and UE rows (sorted).

    The walks' starts (``prev_ue_xy_m``, :mod:`.path`) come from the ``x_start_m`` /
    ``y_start_m`` columns (every dataset of schema version 2 has them; rows without them
    leave the starts unknown). The start's Φ cell is taken under the scene's own config
    unless :meth:`SceneInputs.following` gives the previous one: ``rantwin simulate`` and
    open-loop ``rantwin rollout`` reset each episode under its first super-step's config.
    """
    c_order = np.argsort(cells["cell"])
    u_order = np.argsort(ues["ue"])
    start = None
    if "x_start_m" in ues and "y_start_m" in ues:
        start = np.stack([ues["x_start_m"][u_order], ues["y_start_m"][u_order]], -1)
    cfg = CellConfig(
        power_offset_db=cells["power_offset_db"][c_order].astype(float),
        tilt_deg=cells["tilt_deg"][c_order].astype(float),
        cio_db=cells["cio_db"][c_order].astype(float),
        sleep=cells["sleep"][c_order].astype(bool),
    )
    inp = SceneInputs(
        scenario=scenario,
        config=cfg,
        ue_xy_m=np.stack([ues["x_m"][u_order], ues["y_m"][u_order]], -1).astype(float),
        ue_indoor=ues["indoor"][u_order].astype(bool),
        ue_speed_mps=ues["speed_mps"][u_order].astype(float),
        load_factor=float(cells["load_factor"][0]),
        hour=float(cells["hour"][0]),
        prev_ue_xy_m=None if start is None else start.astype(float),
    )
    raw = {
        "ue_rsrp_dbm": ues["rsrp_dbm"][u_order],
        "ue_sinr_db": ues["sinr_db"][u_order],
        "ue_throughput_mbps": ues["throughput_mbps"][u_order],
        "ue_active": ues["active"][u_order].astype(bool),
        "ue_handovers": ues["handovers"][u_order],
        "cell_prb_util": cells["prb_util"][c_order],
        "cell_throughput_mbps": cells["throughput_mbps"][c_order],
        "cell_handovers_out": cells["handovers_out"][c_order],
        "cell_sleep": cells["sleep"][c_order].astype(bool),
    }
    return inp, raw


def attach_targets(data: HeteroData, raw: dict[str, np.ndarray]) -> HeteroData:
    """Add normalised targets and masks to a graph built by :func:`build_graph`."""
    s = TARGET_SCALE
    ue = data["ue"]
    rsrp = torch.tensor(raw["ue_rsrp_dbm"], dtype=torch.float32)
    sinr = torch.tensor(raw["ue_sinr_db"], dtype=torch.float32)
    thr = torch.tensor(raw["ue_throughput_mbps"], dtype=torch.float32)
    active = torch.tensor(raw["ue_active"])
    ue.y = torch.stack(
        [(rsrp - ue.phi_rsrp_dbm) / s["rsrp_db"], (sinr - ue.phi_sinr_db) / s["sinr_db"],
         torch.log1p(thr) / s["ue_log_thr"]],
        -1,
    )  # fmt: skip
    ue.y_mask = torch.stack([torch.ones_like(active), torch.ones_like(active), active], -1)
    ue.active = active
    ue.handovers = torch.tensor(raw["ue_handovers"], dtype=torch.float32)
    cell = data["cell"]
    awake = ~torch.tensor(raw["cell_sleep"])
    cell.y = torch.stack(
        [torch.tensor(raw["cell_prb_util"], dtype=torch.float32),
         torch.log1p(torch.tensor(raw["cell_throughput_mbps"], dtype=torch.float32))
         / s["cell_log_thr"]],
        -1,
    )  # fmt: skip
    # cells whose Φ-served UEs are all idle carry no load: the sampler zeroes them (twin.py)
    n_active = torch.zeros(cell.num_nodes).index_add_(0, ue.phi_serving, active.float())  # [C]
    cell.y_mask = (awake & (n_active > 0))[:, None].expand(-1, 2).clone()
    cell.handovers_out = torch.tensor(raw["cell_handovers_out"], dtype=torch.float32)
    return data


def attach_tti(data: HeteroData, tti_rows: dict[str, np.ndarray] | None, sinr_db: np.ndarray):
    """Add per-TTI SINR residuals (sample − super-step mean) for the fast timescale.

    ``data["ue"].tti_resid: [n_ues, TTI_SAMPLES]``, ``tti_index`` (same shape, TTI of each
    sample) and ``tti_mask: [n_ues]`` (UE has exactly ``TTI_SAMPLES`` samples).
    """
    n_ues = int(sinr_db.shape[0])
    resid = np.zeros((n_ues, TTI_SAMPLES), np.float32)
    index = np.tile(np.arange(TTI_SAMPLES, dtype=np.int64), (n_ues, 1))
    mask = np.zeros(n_ues, bool)
    if tti_rows is not None and len(tti_rows["ue"]):
        order = np.lexsort((tti_rows["tti"], tti_rows["ue"]))
        ue, tti, sinr = (tti_rows[k][order] for k in ("ue", "tti", "sinr_db"))
        counts = np.bincount(ue, minlength=n_ues)
        if np.all(counts == TTI_SAMPLES):
            resid = (sinr.reshape(n_ues, TTI_SAMPLES) - sinr_db[:, None]).astype(np.float32)
            index = tti.reshape(n_ues, TTI_SAMPLES).astype(np.int64)
            mask[:] = True
    data["ue"].tti_resid = torch.tensor(resid)
    data["ue"].tti_index = torch.tensor(index)
    data["ue"].tti_mask = torch.tensor(mask)
    return data


def load_graphs(
    paths: Iterable[str | os.PathLike[str]],
    graph_cfg: GraphConfig | None = None,
    progress: bool = True,
) -> list[HeteroData]:
    """Every scene of every dataset as a graph with targets.

    Each graph also carries ``data.scene = (dataset index, world, episode, step)`` and the
    scenario name in ``data.scenario_name`` for splitting and reporting.
    """
    graph_cfg = graph_cfg or GraphConfig()
    graphs: list[HeteroData] = []
    for di, path in enumerate(paths):
        ds = open_dataset(path)
        worlds = {w: scenario_from_dict(d) for w, d in ds.worlds().items()}
        cells = {k: v.to_numpy() for k, v in zip(*_columns(ds.table("cells")), strict=True)}
        ues = {k: v.to_numpy() for k, v in zip(*_columns(ds.table("ues")), strict=True)}
        tti_t = ds.table("ue_tti", columns=["world", "episode", "step", "ue", "tti", "sinr_db"])
        tti = {k: v.to_numpy() for k, v in zip(*_columns(tti_t), strict=True)}
        tg = {}
        if len(tti["ue"]):
            for rows in _groups([tti["world"], tti["episode"], tti["step"]]):
                key = (int(tti["world"][rows[0]]), int(tti["episode"][rows[0]]),
                       int(tti["step"][rows[0]]))  # fmt: skip
                tg[key] = {k: v[rows] for k, v in tti.items()}
        cg = _groups([cells["world"], cells["episode"], cells["step"]])
        ug = _groups([ues["world"], ues["episode"], ues["step"]])
        if len(cg) != len(ug):
            raise ValueError(f"{path}: cells and ues tables cover different scenes")
        prev: tuple[tuple[int, int, int], SceneInputs, np.ndarray] | None = None  # key, Φ cells
        for ci, ui in tqdm(
            list(zip(cg, ug, strict=True)), desc=f"graphs {path}", disable=not progress
        ):
            w = int(cells["world"][ci[0]])
            key = (w, int(cells["episode"][ci[0]]), int(cells["step"][ci[0]]))
            c_rows = {k: v[ci] for k, v in cells.items()}
            u_rows = {k: v[ui] for k, v in ues.items()}
            inp, raw = scene_inputs_and_targets(worlds[w], c_rows, u_rows)
            # groups come sorted by (world, episode, step): the previous super-step of this
            # episode, if present, gives the config change (config in transition)
            # and where each UE's walk of this super-step started (.path)
            if prev is not None and prev[0] == (key[0], key[1], key[2] - 1):
                inp = inp.following(prev[1], prev[2])
            g = attach_targets(build_graph(inp, graph_cfg), raw)
            prev = (key, inp, g["ue"].phi_serving.numpy())
            attach_tti(g, tg.get(key), raw["ue_sinr_db"])
            g.scene = torch.tensor([di, w, int(cells["episode"][ci[0]]), int(cells["step"][ci[0]])])
            # for the slow state (.slow): where each UE is, and the shadowing d_corr
            g["ue"].xy_m = torch.tensor(inp.ue_xy_m, dtype=torch.float32)  # [n_ues, 2]
            g.d_corr_m = decorrelation_distance_m(worlds[w].propagation.model)
            graphs.append(g)
    return graphs


def _columns(table) -> tuple[list[str], list]:
    return table.column_names, table.columns
