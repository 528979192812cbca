"""The simulator's per-super-step report and its conversion to dataset columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SuperStepReport:
    """KPIs of one super-step (numpy, float32 unless noted).

    Per UE values describe the window of ``ttis_per_superstep`` TTIs that closes the
    super-step, except ``handovers`` / ``pingpongs`` which count the whole super-step.
    """

    step: int
    hour: float
    load_factor: float
    # config in force, [n_cells]
    power_offset_db: np.ndarray
    tx_power_dbm: np.ndarray
    tilt_deg: np.ndarray
    cio_db: np.ndarray
    sleep: np.ndarray  # bool
    # per cell, [n_cells]
    prb_util: np.ndarray
    n_served: np.ndarray  # int32
    n_active: np.ndarray  # int32
    cell_throughput_mbps: np.ndarray
    energy_w: np.ndarray
    handovers_out: np.ndarray  # int32
    # per UE, [n_ues]
    x_m: np.ndarray  # position at the end of the super-step
    y_m: np.ndarray
    x_start_m: np.ndarray  # position at its start, where the walk began
    y_start_m: np.ndarray
    indoor: np.ndarray  # bool
    speed_mps: np.ndarray
    active: np.ndarray  # bool
    serving_cell: np.ndarray  # int32
    rsrp_dbm: np.ndarray
    coupling_loss_db: np.ndarray
    sinr_db: np.ndarray
    throughput_mbps: np.ndarray
    handovers: np.ndarray  # int32
    pingpongs: np.ndarray  # int32
    rlf: np.ndarray  # bool
    # per-TTI samples
    tti_index: np.ndarray  # [n_samples] int32
    tti_sinr_db: np.ndarray  # [n_samples, n_ues]
    tti_throughput_mbps: np.ndarray  # [n_samples, n_ues]

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.prb_util.shape[0])

    @property
    def n_ues(self) -> int:
        """Number of UEs."""
        return int(self.sinr_db.shape[0])


def report_tables(r: SuperStepReport, world: int, episode: int) -> dict[str, dict[str, np.ndarray]]:
    """Column dicts of the ``cells``, ``ues`` and ``ue_tti`` tables (``docs/dataset-schema.md``).

    **Output:** ``{"cells": {...}, "ues": {...}, "ue_tti": {...}}``, each column 1-D of equal
    length within its table.
    """
    c, u, k = r.n_cells, r.n_ues, r.tti_index.shape[0]

    def keys(n: int) -> dict[str, np.ndarray]:
        return {
            "world": np.full(n, world, np.int32),
            "episode": np.full(n, episode, np.int32),
            "step": np.full(n, r.step, np.int32),
        }

    cells = keys(c) | {
        "cell": np.arange(c, dtype=np.int32),
        "hour": np.full(c, r.hour, np.float32),
        "load_factor": np.full(c, r.load_factor, np.float32),
        "power_offset_db": r.power_offset_db.astype(np.float32),
        "tx_power_dbm": r.tx_power_dbm.astype(np.float32),
        "tilt_deg": r.tilt_deg.astype(np.float32),
        "cio_db": r.cio_db.astype(np.float32),
        "sleep": r.sleep.astype(bool),
        "prb_util": r.prb_util.astype(np.float32),
        "n_served": r.n_served.astype(np.int32),
        "n_active": r.n_active.astype(np.int32),
        "throughput_mbps": r.cell_throughput_mbps.astype(np.float32),
        "energy_w": r.energy_w.astype(np.float32),
        "handovers_out": r.handovers_out.astype(np.int32),
    }
    ues = keys(u) | {
        "ue": np.arange(u, dtype=np.int32),
        "x_m": r.x_m.astype(np.float32),
        "y_m": r.y_m.astype(np.float32),
        "x_start_m": r.x_start_m.astype(np.float32),
        "y_start_m": r.y_start_m.astype(np.float32),
        "indoor": r.indoor.astype(bool),
        "speed_mps": r.speed_mps.astype(np.float32),
        "active": r.active.astype(bool),
        "serving_cell": r.serving_cell.astype(np.int32),
        "rsrp_dbm": r.rsrp_dbm.astype(np.float32),
        "coupling_loss_db": r.coupling_loss_db.astype(np.float32),
        "sinr_db": r.sinr_db.astype(np.float32),
        "throughput_mbps": r.throughput_mbps.astype(np.float32),
        "handovers": r.handovers.astype(np.int32),
        "pingpongs": r.pingpongs.astype(np.int32),
        "rlf": r.rlf.astype(bool),
    }
    # [n_samples, n_ues] -> rows ordered by (ue, tti)
    ue_tti = keys(k * u) | {
        "ue": np.repeat(np.arange(u, dtype=np.int32), k),
        "tti": np.tile(r.tti_index.astype(np.int32), u),
        "sinr_db": r.tti_sinr_db.T.reshape(-1).astype(np.float32),
        "throughput_mbps": r.tti_throughput_mbps.T.reshape(-1).astype(np.float32),
    }
    return {"cells": cells, "ues": ues, "ue_tti": ue_tti}
