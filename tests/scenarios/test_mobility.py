import math

import torch

from rantwin.radio.geometry import hex_site_positions
from rantwin.scenarios.mobility import ServiceArea, walk


def _area():
    sites = hex_site_positions(1, 500.0).double()
    return sites, ServiceArea.for_sites(sites, True, 500.0, 35.0)


def test_hex_cluster_sampling_inside_and_uniform():
    sites, area = _area()
    g = torch.Generator().manual_seed(0)
    xy = area.sample(g, 20000)
    d = torch.cdist(xy, sites)
    # every point lies in the hexagon of its nearest site: within the circumradius
    assert d.min(1).values.max() <= 500 / math.sqrt(3) + 1e-6
    assert d.min() >= 35.0 - 1e-9
    counts = torch.bincount(d.argmin(1), minlength=7).double()
    assert (counts / counts.sum() - 1 / 7).abs().max() < 0.02
    assert math.isclose(area.area_m2, 7 * 500**2 * math.sqrt(3) / 2, rel_tol=1e-9)


def test_walk_respects_speed():
    _, area = _area()
    g = torch.Generator().manual_seed(1)
    xy = area.sample(g, 50)
    wp = area.sample(g, 50)
    speed = torch.full((50,), 10.0, dtype=torch.float64)
    path, _ = walk(g, area, xy, wp, speed, 0.2, 10)
    steps = torch.cat([xy[None], path]).diff(dim=0).norm(dim=-1)
    assert steps.max() <= 2.0 + 1e-9
    assert path.shape == (10, 50, 2)


def test_points_is_the_deterministic_half_of_sample():
    sites, hex_area = _area()
    box = ServiceArea.for_sites(torch.tensor([[0.0, 0.0], [300.0, 50.0]]), False, None, 35.0)
    for area in (hex_area, box):
        ref = area.sample(torch.Generator().manual_seed(1), 200)
        u = torch.rand(200, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        assert torch.equal(area.points(u), ref)


def test_walk_draws_its_waypoints_as_one_sample_per_point():
    """The walk's up-front draw gives the waypoints that one ``sample`` per point would."""
    _, area = _area()
    g = torch.Generator().manual_seed(2)
    xy, wp = area.sample(g, 30), area.sample(g, 30)
    speed = torch.full((30,), 40.0, dtype=torch.float64)  # fast: many waypoints reached
    path, last_wp = walk(torch.Generator().manual_seed(3), area, xy, wp, speed, 1.0, 20)
    ref_g, ref_xy, ref_wp = torch.Generator().manual_seed(3), xy, wp
    for p in range(20):  # the straightforward loop the walk stands for
        fresh = area.sample(ref_g, 30)
        to_go = ref_wp - ref_xy
        dist = to_go.norm(dim=-1)
        arrive = 40.0 >= dist
        step = to_go / dist.clamp_min(1e-9)[:, None] * 40.0
        ref_xy = torch.where(arrive[:, None], ref_wp, ref_xy + step)
        ref_wp = torch.where(arrive[:, None], fresh, ref_wp)
        assert torch.equal(path[p], ref_xy)
    assert torch.equal(last_wp, ref_wp)
    assert not torch.equal(last_wp, wp)  # some UEs did take fresh waypoints
