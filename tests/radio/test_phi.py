"""Φ: coupling gain composition, shapes, dtype and gradients; package-level exports."""

import warnings

import pytest
import torch

import rantwin.radio as radio
from rantwin.radio import (
    coupling_gain_db,
    hex_site_positions,
    link_geometry,
    pathloss_db,
    sector_gain_dbi,
    wraparound_offsets,
)


def _scene(dtype, batch=2, n_ues=12):
    gen = torch.Generator().manual_seed(5)
    sites = hex_site_positions(1, 500.0, dtype=dtype)
    cells = sites.repeat_interleave(3, 0)  # [21, 2]
    az = torch.tensor([30.0, 150.0, -90.0], dtype=dtype).repeat(7)  # [21]
    ue = (torch.rand(batch, n_ues, 2, generator=gen, dtype=dtype) - 0.5) * 1400
    ue_h = torch.full((batch, n_ues), 1.5, dtype=dtype)
    cell_h = torch.full((21,), 25.0, dtype=dtype)
    geo = link_geometry(ue, ue_h, cells, cell_h, az, wraparound_offsets(1, 500.0, dtype=dtype))
    return geo, ue_h, cell_h


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_coupling_gain_is_antenna_minus_pathloss(dtype):
    geo, ue_h, cell_h = _scene(dtype)
    fc = torch.full((21,), 3.5, dtype=dtype)
    tilt = torch.full((21,), 12.0, dtype=dtype, requires_grad=True)
    n_v = torch.tensor([10] * 20 + [1])
    los = geo.distance_2d_m < 100
    g = coupling_gain_db(geo, "38901-uma", fc, cell_h, ue_h, tilt, n_v, los)
    assert g.shape == (2, 21, 12) and g.dtype == dtype
    # same thing assembled by hand, one cell at a time
    for c in (0, 7, 20):
        ant = sector_gain_dbi(geo.azimuth_offset_deg[:, c], geo.zenith_deg[:, c], 12.0, int(n_v[c]))
        pl = pathloss_db("38901-uma", geo.distance_2d_m[:, c], 3.5, 25.0, 1.5, los[:, c])
        assert torch.allclose(g[:, c].detach(), ant - pl, atol=1e-4)
    g.sum().backward()
    assert torch.isfinite(tilt.grad).all()


def test_coupling_gain_scalar_inputs_and_int_n_vertical():
    geo, ue_h, cell_h = _scene(torch.float64, batch=1, n_ues=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = coupling_gain_db(geo, "fspl", 2.0, cell_h, 1.5, torch.full((21,), 6.0), 1)
    assert g.shape == (1, 21, 5)
    assert torch.all(g < 0)


def test_package_exports():
    for name in radio.__all__:
        assert hasattr(radio, name), name
    assert radio.MODELS[0] == "fspl" and len(radio.MODELS) == 10


def test_mean_coupling_gain_mixes_the_los_branches_in_db():
    import torch

    from rantwin.radio.geometry import link_geometry
    from rantwin.radio.phi import coupling_gain_db, mean_coupling_gain_db

    ue = torch.tensor([[100.0, 20.0], [300.0, -50.0], [40.0, 400.0]], dtype=torch.float64)
    cells = torch.tensor([[0.0, 0.0], [500.0, 0.0]], dtype=torch.float64)
    geo = link_geometry(ue, 1.5, cells, 25.0, torch.tensor([0.0, 180.0], dtype=torch.float64))
    args = (geo, "38901-uma", 3.5, 25.0, 1.5, torch.tensor([8.0, 6.0]), 1)
    p = torch.tensor([[0.2, 0.7, 1.0], [0.0, 0.5, 0.9]], dtype=torch.float64)
    ones = torch.ones(2, 3, dtype=torch.bool)
    expected = p * coupling_gain_db(*args, los=ones) + (1 - p) * coupling_gain_db(*args, los=~ones)
    torch.testing.assert_close(mean_coupling_gain_db(*args, p), expected)
