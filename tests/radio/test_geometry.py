"""Hexagonal layouts, wrap-around and link geometry."""

import math

import pytest
import torch

from rantwin.radio.geometry import (
    LinkGeometry,
    hex_site_positions,
    link_geometry,
    wraparound_offsets,
)


@pytest.mark.parametrize(("rings", "n"), [(0, 1), (1, 7), (2, 19), (3, 37)])
def test_hex_site_counts_and_spacing(rings, n):
    p = hex_site_positions(rings, 500.0, dtype=torch.float64)
    assert p.shape == (n, 2)
    assert torch.all(p[0] == 0)
    if n > 1:
        d = torch.cdist(p, p) + torch.eye(n, dtype=torch.float64) * 1e9
        assert torch.allclose(d.min(dim=1).values, torch.full((n,), 500.0, dtype=torch.float64))
        # unique sites, ring radius at most rings * isd
        assert torch.unique(p.round(decimals=3), dim=0).shape[0] == n
        assert p.norm(dim=-1).max().item() == pytest.approx(rings * 500.0)
    # first ring starts on +x and runs counter-clockwise
    if rings >= 1:
        assert p[1].tolist() == pytest.approx([500.0, 0.0])
        assert p[2].tolist() == pytest.approx([250.0, 500.0 * math.sqrt(3) / 2])


@pytest.mark.parametrize("rings", [1, 2])
def test_wraparound_tiles_the_plane(rings):
    isd = 1.0
    sites = hex_site_positions(rings, isd, dtype=torch.float64)
    offs = wraparound_offsets(rings, isd, dtype=torch.float64)
    n = sites.shape[0]
    assert offs.shape == (7, 2) and torch.all(offs[0] == 0)
    assert torch.allclose(
        offs[1:].norm(dim=-1), torch.full((6,), math.sqrt(n) * isd, dtype=torch.float64)
    )
    tiled = (sites[None, :, :] + offs[:, None, :]).reshape(-1, 2)  # [7 n, 2]
    # no overlap between images
    assert torch.unique(tiled.round(decimals=6), dim=0).shape[0] == 7 * n
    # every lattice site of the next ring around the cluster is covered by some image
    bigger = hex_site_positions(rings + 1, isd, dtype=torch.float64)
    dist = torch.cdist(bigger, tiled).min(dim=1).values
    assert torch.all(dist < 1e-6)


def test_link_geometry_spot_values():
    cell_xy = torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    ue_xy = torch.tensor([[100.0, 100.0], [0.0, -50.0]], dtype=torch.float64)
    g = link_geometry(ue_xy, torch.tensor([1.5, 1.5]), cell_xy, torch.tensor([25.0]), 30.0)
    assert isinstance(g, LinkGeometry)
    assert g.distance_2d_m.shape == (1, 2)
    d2 = math.hypot(100, 100)
    assert g.distance_2d_m[0, 0].item() == pytest.approx(d2)
    assert g.distance_3d_m[0, 0].item() == pytest.approx(math.hypot(d2, 23.5))
    assert g.azimuth_offset_deg[0, 0].item() == pytest.approx(15.0)
    assert g.azimuth_offset_deg[0, 1].item() == pytest.approx(-120.0)
    # zenith: 90 deg + depression angle atan(dh / d2D)
    assert g.zenith_deg[0, 0].item() == pytest.approx(90 + math.degrees(math.atan(23.5 / d2)))
    # UE above the antenna -> zenith < 90
    g2 = link_geometry(ue_xy, 40.0, cell_xy, 25.0, 0.0)
    assert torch.all(g2.zenith_deg < 90)


def test_azimuth_offset_wraps():
    cell_xy = torch.zeros(1, 2)
    ue = torch.tensor([[-100.0, -17.6327]])  # direction about -170 deg
    g = link_geometry(ue, 1.5, cell_xy, 25.0, torch.tensor([170.0]))
    assert g.azimuth_offset_deg.item() == pytest.approx(20.0, abs=1e-3)
    assert -180 <= g.azimuth_offset_deg.item() < 180


def test_wraparound_picks_closest_image():
    isd = 500.0
    sites = hex_site_positions(1, isd, dtype=torch.float64)
    offs = wraparound_offsets(1, isd, dtype=torch.float64)
    ue = torch.tensor([[1100.0, 0.0]], dtype=torch.float64)  # outside the 7-site cluster
    g_no = link_geometry(ue, 1.5, sites, 25.0, torch.zeros(7), None)
    g_wr = link_geometry(ue, 1.5, sites, 25.0, torch.zeros(7), offs)
    imgs = sites[:, None, :] + offs[None]  # [7, 7, 2]
    ref = (imgs - ue).norm(dim=-1).min(dim=1).values  # [7]
    assert torch.allclose(g_wr.distance_2d_m[:, 0], ref)
    assert torch.all(g_wr.distance_2d_m <= g_no.distance_2d_m + 1e-9)
    # the west-most site (-500, 0) has an image at distance < 1100 + 500
    assert g_wr.distance_2d_m[4, 0] < g_no.distance_2d_m[4, 0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_link_geometry_batch_dtype_and_grad(dtype):
    gen = torch.Generator().manual_seed(0)
    sites = hex_site_positions(1, 200.0, dtype=dtype).repeat_interleave(3, 0)  # [21, 2]
    az = torch.tensor([30.0, 150.0, -90.0], dtype=dtype).repeat(7)
    ue = ((torch.rand(4, 16, 2, generator=gen, dtype=dtype) - 0.5) * 600).requires_grad_(True)
    ue_h = torch.full((4, 16), 1.5, dtype=dtype)
    # one UE exactly on a site: gradients must stay finite
    with torch.no_grad():
        ue[0, 0] = sites[3]
    g = link_geometry(
        ue,
        ue_h,
        sites,
        torch.full((21,), 25.0, dtype=dtype),
        az,
        wraparound_offsets(1, 200.0, dtype=dtype),
    )
    for f in (g.distance_2d_m, g.distance_3d_m, g.azimuth_offset_deg, g.zenith_deg):
        assert f.shape == (4, 21, 16) and f.dtype == dtype
        assert torch.isfinite(f).all()
    (g.distance_3d_m.sum() + g.zenith_deg.sum() + g.azimuth_offset_deg.sum()).backward()
    assert torch.isfinite(ue.grad).all()


def test_geometry_errors():
    with pytest.raises(ValueError, match="n_rings"):
        hex_site_positions(-1, 500.0)
    with pytest.raises(ValueError, match="isd_m"):
        wraparound_offsets(1, 0.0)
    with pytest.raises(ValueError, match="ue_xy_m"):
        link_geometry(torch.zeros(3, 3), 1.5, torch.zeros(1, 2), 25.0, 0.0)


def test_expand_to_cells_equals_per_cell_call():
    import torch

    from rantwin.radio.geometry import (
        expand_to_cells,
        hex_site_positions,
        link_geometry,
        wraparound_offsets,
    )

    g = torch.Generator().manual_seed(0)
    sites = hex_site_positions(1, 500.0, dtype=torch.float64)  # [7, 2]
    cell_site = torch.arange(7).repeat_interleave(3)  # [21]
    cell_az = torch.tensor([30.0, 150.0, -90.0], dtype=torch.float64).repeat(7)
    ue = (torch.rand(2, 50, 2, generator=g, dtype=torch.float64) - 0.5) * 1500
    h_ue = torch.full((2, 50), 1.5, dtype=torch.float64)
    offs = wraparound_offsets(1, 500.0, dtype=torch.float64)
    per_cell = link_geometry(ue, h_ue, sites[cell_site], 25.0, cell_az, offs)
    site = link_geometry(ue, h_ue, sites, 25.0, 0.0, offs)
    fast = expand_to_cells(site, cell_site, cell_az)
    for name in ("distance_2d_m", "distance_3d_m", "azimuth_offset_deg", "zenith_deg"):
        torch.testing.assert_close(getattr(fast, name), getattr(per_cell, name))
