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


def _fields(active: list[list[bool]], full: torch.Tensor | None = None, cell_share: bool = False):
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
        cell_share=cell_share,
    )  # fmt: skip


def test_units_and_residuals_on_phi():
    k = _fields([[True, True, True, True]])  # by default the UE head's own draw
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


def test_cell_share_splits_each_cells_throughput_among_its_ues():
    """The UEs' throughputs add up to their cell's, in proportion to their own draws."""
    ue_draw = torch.tensor([[[0.0, 0.0, 0.5], [0.0, 0.0, 1.0], [0.0, 0.0, 0.8]]])  # [1, 3, 3]
    cell_draw = torch.tensor([[[0.5, 1.2], [0.5, 0.9]]])  # [1, 2, 2]
    args = (ue_draw, cell_draw, torch.tensor([[True, True, True]]), None,
            torch.zeros(3), torch.zeros(3), torch.tensor([0, 0, 1]),
            torch.tensor([True, True]), _cells([46.0, 46.0], [False, False]))  # fmt: skip
    shared, alone = kpi_fields(*args, cell_share=True), kpi_fields(*args, cell_share=False)
    s = TARGET_SCALE
    own = torch.expm1(ue_draw[0, :, 2] * s["ue_log_thr"])  # the UE heads' draws
    torch.testing.assert_close(alone.ue_throughput_mbps[0], own)
    cell = torch.expm1(cell_draw[0, :, 1] * s["cell_log_thr"])
    torch.testing.assert_close(shared.cell_throughput_mbps[0], cell)  # the cell's unchanged
    expect = torch.stack([cell[0] * own[0] / own[:2].sum(), cell[0] * own[1] / own[:2].sum(),
                          cell[1]])  # fmt: skip
    torch.testing.assert_close(shared.ue_throughput_mbps[0], expect)
    for f in ("ue_rsrp_dbm", "ue_sinr_db", "cell_prb_util", "cell_energy_w", "cell_n_active"):
        assert torch.equal(getattr(shared, f), getattr(alone, f))


def test_cell_share_of_ues_that_all_drew_nothing_is_equal_and_idle_ues_get_none():
    k = _fields([[True, True, True, True], [False, True, True, True]], cell_share=True)
    ue_draw = torch.zeros(1, 4, 3)  # every UE's throughput draw at 0 (log1p = 0)
    cell_draw = torch.tensor([[[0.3, 1.0]]]).expand(1, 3, 2)
    z = kpi_fields(ue_draw, cell_draw, torch.tensor([[True, True, True, False]]), None,
                   torch.zeros(4), torch.zeros(4), torch.tensor([0, 0, 1, 1]),
                   torch.tensor([True, True, True]), _cells([46.0] * 3, [False] * 3),
                   cell_share=True)  # fmt: skip
    c = z.cell_throughput_mbps[0]
    torch.testing.assert_close(z.ue_throughput_mbps[0], torch.stack([c[0] / 2, c[0] / 2, c[1],
                                                                     c[1] * 0]))  # fmt: skip
    # the fixture's UEs: cell 0's two share its throughput, an idle UE gets none, and the UE
    # served by the sleeping cell 2 none either
    cell0 = k.cell_throughput_mbps[:, 0]
    torch.testing.assert_close(k.ue_throughput_mbps[:, :2].sum(1), cell0)
    assert float(k.ue_throughput_mbps[1, 0]) == 0.0 and float(k.ue_throughput_mbps[1, 1]) > 0
    assert (k.ue_throughput_mbps[:, 3] == 0).all()
