"""Per-cell KPI quantiles of the observation."""

from __future__ import annotations

import torch

from rantwin.envs.observation import _QUANTILES, _cell_quantiles


def _dense(values: torch.Tensor, cell: torch.Tensor, n_cells: int) -> torch.Tensor:
    """The reference: every cell's row over all UEs, NaN where a UE is not the cell's."""
    mask = cell[:, :, None, :] == torch.arange(n_cells)[None, None, :, None]  # [B, M, C, U]
    x = torch.where(mask, values[:, :, None, :], torch.tensor(float("nan")))
    q = torch.nanquantile(x, torch.tensor(_QUANTILES), dim=-1)  # [3, B, M, C]
    return q.permute(1, 2, 3, 0)


def test_packed_rows_give_the_dense_quantiles_bit_for_bit():
    g = torch.Generator().manual_seed(0)
    b, m, n_ues, n_cells = 3, 2, 40, 5
    values = torch.randn((2, b, m, n_ues), generator=g) * 10  # [K, B, M, U]
    cell = torch.randint(0, n_cells + 1, (b, m, n_ues), generator=g)  # n_cells: counts for none
    cell[0, 0] = n_cells  # an element where no UE counts: every quantile NaN
    cell[1, 1, :] = 2  # every UE in one cell: the widest row
    cell[2, 0, :3] = torch.tensor([1, 1, 4])  # and some cells with one or two UEs
    cell[2, 0, 3:] = n_cells
    out = _cell_quantiles(values, cell, n_cells)  # [K, B, M, C, 3]
    assert out.shape == (2, b, m, n_cells, 3)
    for k in range(2):
        ref = _dense(values[k], cell, n_cells)
        assert torch.equal(out[k].isnan(), ref.isnan())
        assert torch.equal(out[k].nan_to_num(), ref.nan_to_num())
    assert out[:, 0, 0].isnan().all()
    assert torch.equal(out[0, 2, 0, 4], values[0, 2, 0, 2].expand(3))  # one UE: its value
