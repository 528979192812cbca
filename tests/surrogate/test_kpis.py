"""Normalised draws → KPIs in physical units (the simulator's structure imposed)."""

from __future__ import annotations

import math

import torch

from rantwin.radio.energy import cell_power_w
from rantwin.surrogate.data import TARGET_SCALE
from rantwin.surrogate.graph import CELL_FEATURES
from rantwin.surrogate.kpis import kpi_fields


def _cells(tx_dbm: list[float], small: list[bool]) -> torch.Tensor:
    x = torch.zeros(len(tx_dbm), len(CELL_FEATURES))  # [n_cells, F]
    x[:, CELL_FEATURES.index("tx_power")] = (torch.tensor(tx_dbm) - 40) / 10
    x[:, CELL_FEATURES.index("small")] = torch.tensor(small, dtype=torch.float32)
    return x


def _fields(active: list[list[bool]], full: torch.Tensor | None = None):
    # 4 UEs: two served by cell 0, one by cell 1, one by cell 2 (asleep)
    ue_draw = torch.tensor([[0.5, -1.0, 1.0]]).expand(len(active), 4, 3)  # [S, 4, 3]
    cell_draw = torch.tensor([[0.3, 1.0]]).expand(len(active), 3, 2)  # [S, 3, 2]
    return kpi_fields(
        ue_draw, cell_draw, torch.tensor(active), full,
        phi_rsrp_dbm=torch.tensor([-90.0, -95.0, -100.0, -105.0]),
        phi_sinr_db=torch.tensor([10.0, 5.0, 0.0, -5.0]),
        ue_cell=torch.tensor([0, 0, 1, 2]),
        cell_awake=torch.tensor([True, True, False]),
        cell_x=_cells([46.0, 40.0, 30.0], [False, False, True]),
    )  # fmt: skip


def test_units_and_residuals_on_phi():
    k = _fields([[True, True, True, True]])
    s = TARGET_SCALE
    torch.testing.assert_close(
        k.ue_rsrp_dbm[0], torch.tensor([-90.0, -95, -100, -105]) + 0.5 * s["rsrp_db"]
    )
    torch.testing.assert_close(k.ue_sinr_db[0], torch.tensor([10.0, 5, 0, -5]) - s["sinr_db"])
    assert math.isclose(
        float(k.ue_throughput_mbps[0, 0]), math.expm1(s["ue_log_thr"]), rel_tol=1e-6
    )
    assert k.cell_n_active[0].tolist() == [2.0, 1.0, 1.0]


def test_load_only_where_a_served_ue_is_active_and_the_cell_awake():
    k = _fields([[False, False, True, True]])  # cell 0's UEs idle; cell 2 asleep
    assert k.ue_throughput_mbps[0].tolist()[:2] == [0.0, 0.0]
    assert k.cell_prb_util[0].tolist() == [0.0, 0.30000001192092896, 0.0]
    assert float(k.cell_throughput_mbps[0, 0]) == 0.0 and float(k.cell_throughput_mbps[0, 2]) == 0.0
    assert float(k.cell_throughput_mbps[0, 1]) > 0


def test_prb_atom_and_earth_power():
    full = torch.tensor([[True, False, True]])
    k = _fields([[True, True, True, True]], full)
    assert k.cell_prb_util[0].tolist() == [1.0, 0.30000001192092896, 0.0]  # cell 2 asleep
    expect = cell_power_w(
        k.cell_prb_util, torch.tensor([[46.0, 40.0, 30.0]]), torch.tensor([[True, True, False]]),
        torch.tensor([False, False, True]),
    )  # fmt: skip
    torch.testing.assert_close(k.cell_energy_w, expect)
