"""UE placement and random-waypoint mobility: the UE population process of a scenario.

Used by the simulator and by the twin's environments alike (it is part of the scenario, not
of either model).

UEs are dropped uniformly over the service area (optionally a fraction around hotspots) and
walk straight lines between uniformly drawn waypoints at their speed (random waypoint model
without pause, Camp et al. 2002 "A survey of mobility models for ad hoc network research",
§2.1). Every function draws a fixed number of random numbers per call, whatever the result,
so the mobility stream stays aligned across configs (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .schema import Scenario


@dataclass(frozen=True)
class ServiceArea:
    """Where UEs live.

    With ``hex_centres_m`` set, the area is the union of the hexagonal Voronoi cells of those
    sites (a wrap-around hex cluster); otherwise the axis-aligned box ``box_m``.
    """

    box_m: tuple[float, float, float, float]  # (x_min, y_min, x_max, y_max)
    hex_centres_m: torch.Tensor | None = None  # [n_sites, 2]
    hex_circumradius_m: float = 0.0
    hex_rotation_rad: float = 0.0  # angle of the first hexagon vertex
    site_xy_m: torch.Tensor | None = None  # [n_sites, 2], for the minimum distance rule
    min_distance_m: float = 0.0

    @staticmethod
    def for_sites(
        site_xy_m: torch.Tensor,  # [n_sites, 2]
        wraparound: bool,
        isd_m: float | None,
        min_distance_m: float,
    ) -> ServiceArea:
        """Build the service area of a deployment.

        A wrap-around hex layout gets the exact union of site hexagons (circumradius
        ISD/√3, vertices at ±30° of the nearest-neighbour direction). Any other layout gets
        the sites' bounding box grown by half the median nearest-neighbour distance
        (at least 50 m) on every side.
        """
        xy = site_xy_m.double()
        n = xy.shape[0]
        if n > 1:
            d = torch.cdist(xy, xy)  # [n_sites, n_sites]
            d.fill_diagonal_(float("inf"))
            nn = d.min(dim=1).values  # [n_sites]
            spacing = float(nn.median())
        else:
            spacing = float(isd_m or 500.0)
        if wraparound and isd_m is not None and n > 1:
            j = int(torch.argmin(torch.cdist(xy[:1], xy[1:]))) + 1
            v = xy[j] - xy[0]
            rot = math.atan2(float(v[1]), float(v[0])) + math.pi / 6
            r = isd_m / math.sqrt(3.0)
            box = (
                float(xy[:, 0].min()) - r,
                float(xy[:, 1].min()) - r,
                float(xy[:, 0].max()) + r,
                float(xy[:, 1].max()) + r,
            )
            return ServiceArea(box, site_xy_m.double(), r, rot, site_xy_m.double(), min_distance_m)
        margin = max(50.0, 0.5 * spacing)
        box = (
            float(xy[:, 0].min()) - margin,
            float(xy[:, 1].min()) - margin,
            float(xy[:, 0].max()) + margin,
            float(xy[:, 1].max()) + margin,
        )
        return ServiceArea(box, None, 0.0, 0.0, site_xy_m.double(), min_distance_m)

    @property
    def area_m2(self) -> float:
        """Size of the service area."""
        if self.hex_centres_m is not None:
            n = self.hex_centres_m.shape[0]
            return n * 1.5 * math.sqrt(3.0) * self.hex_circumradius_m**2
        x0, y0, x1, y1 = self.box_m
        return (x1 - x0) * (y1 - y0)

    def sample(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """Draw ``n`` points uniformly over the area.

        **Output:** ``xy_m: [n, 2], float64``.

        Hexagons are sampled exactly: a regular hexagon is the union of three rhombi spanned
        by the vertex vectors v_2k and v_2k+2 (120° apart), so a uniform rhombus index and
        two uniforms give a uniform point. Points closer than ``min_distance_m`` to a site
        are pushed out radially to that distance (TR 38.901 Table 7.2-1: minimum BS–UE distance).
        """
        u = torch.rand(n, 4, generator=generator, dtype=torch.float64)  # [n, 4]
        return self.points(u)

    def points(self, u: torch.Tensor) -> torch.Tensor:
        """Map uniforms to points of the area (the deterministic half of :meth:`sample`).

        **Input:** ``u: [n, 4]`` float64 in [0, 1). **Output:** ``xy_m: [n, 2]`` float64.
        """
        if self.hex_centres_m is not None:
            n_sites = self.hex_centres_m.shape[0]
            site = torch.clamp((u[:, 0] * n_sites).long(), max=n_sites - 1)  # [n]
            k = torch.clamp((u[:, 1] * 3).long(), max=2)  # [n] rhombus index
            a0 = self.hex_rotation_rad + 2 * k.double() * math.pi / 3
            a1 = a0 + 2 * math.pi / 3  # rhombus 0, v_k, v_k+1, v_k+2: sides of length R
            r = self.hex_circumradius_m
            va = torch.stack([torch.cos(a0), torch.sin(a0)], -1) * r  # [n, 2]
            vb = torch.stack([torch.cos(a1), torch.sin(a1)], -1) * r  # [n, 2]
            xy = self.hex_centres_m[site] + u[:, 2:3] * va + u[:, 3:4] * vb
        else:
            x0, y0, x1, y1 = self.box_m
            xy = torch.stack([x0 + (x1 - x0) * u[:, 2], y0 + (y1 - y0) * u[:, 3]], -1)
        return self._push_out(xy)

    def _push_out(self, xy: torch.Tensor) -> torch.Tensor:  # [n, 2] -> [n, 2]
        if self.site_xy_m is None or self.min_distance_m <= 0:
            return xy
        diff = xy[:, None, :] - self.site_xy_m[None, :, :]  # [n, n_sites, 2]
        dist = diff.norm(dim=-1)  # [n, n_sites]
        d_min, j = dist.min(dim=1)  # [n]
        too_close = d_min < self.min_distance_m
        if not bool(too_close.any()):
            return xy
        v = diff[torch.arange(xy.shape[0]), j]  # [n, 2] from nearest site
        norm = v.norm(dim=-1, keepdim=True).clamp_min(1e-9)
        pushed = self.site_xy_m[j] + v / norm * self.min_distance_m
        return torch.where(too_close[:, None], pushed, xy)

    def clamp(self, xy: torch.Tensor) -> torch.Tensor:
        """Clamp points into the bounding box (used for hotspot draws)."""
        x0, y0, x1, y1 = self.box_m
        return torch.stack([xy[..., 0].clamp(x0, x1), xy[..., 1].clamp(y0, y1)], -1)


def drop_ues(
    generator: torch.Generator,
    area: ServiceArea,
    n_ues: int,
    hotspots_xy_m: torch.Tensor,  # [n_hotspots, 2]
    hotspots_radius_m: torch.Tensor,  # [n_hotspots]
    hotspots_weight: torch.Tensor,  # [n_hotspots]
    hotspot_fraction: float,
) -> torch.Tensor:
    """Place ``n_ues`` UEs: uniform over the area, a fraction around hotspots.

    A hotspot UE sits at its hotspot's centre plus an isotropic Gaussian offset with standard
    deviation radius/2 (so ~86 % fall within the radius), clamped to the area's box.

    **Output:** ``xy_m: [n_ues, 2], float64``.
    """
    uniform = area.sample(generator, n_ues)  # [n_ues, 2]
    pick = torch.rand(n_ues, generator=generator, dtype=torch.float64)  # [n_ues]
    offset = torch.randn(n_ues, 2, generator=generator, dtype=torch.float64)  # [n_ues, 2]
    if hotspots_xy_m.shape[0] == 0 or hotspot_fraction <= 0:
        return uniform
    w = hotspots_weight.double() / hotspots_weight.double().sum()
    cdf = torch.cumsum(w, 0)  # [n_hotspots]
    which_u = torch.rand(n_ues, generator=generator, dtype=torch.float64)
    which = torch.clamp(torch.searchsorted(cdf, which_u), max=cdf.shape[0] - 1)  # [n_ues]
    hot = hotspots_xy_m.double()[which] + offset * (hotspots_radius_m.double()[which, None] / 2)
    hot = area._push_out(area.clamp(hot))
    return torch.where((pick < hotspot_fraction)[:, None], hot, uniform)


def walk(
    generator: torch.Generator,
    area: ServiceArea,
    xy_m: torch.Tensor,  # [n_ues, 2]
    waypoint_m: torch.Tensor,  # [n_ues, 2]
    speed_mps: torch.Tensor,  # [n_ues]
    dt_s: float,
    n_points: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random-waypoint walk sampled every ``dt_s`` seconds for ``n_points`` points.

    A UE that reaches its waypoint within a step takes a fresh one (drawn for every UE at
    every point and used only on arrival, so the draw count is fixed).

    **Output:** ``path_m: [n_points, n_ues, 2]`` (the positions after each step) and the
    final ``waypoint_m: [n_ues, 2]``.
    """
    n_ues = xy_m.shape[0]
    # The fresh waypoints do not depend on the walk: draw them all at once, the same numbers
    # in the same order as ``n_points`` calls of ``area.sample`` (tested).
    u = torch.rand(n_points, n_ues, 4, generator=generator, dtype=torch.float64)
    fresh_all = area.points(u.reshape(-1, 4)).reshape(n_points, n_ues, 2)
    path = []
    for fresh in fresh_all:  # [n_ues, 2] per point
        to_go = waypoint_m - xy_m  # [n_ues, 2]
        dist = to_go.norm(dim=-1)  # [n_ues]
        stride = speed_mps * dt_s  # [n_ues]
        arrive = stride >= dist
        step = to_go / dist.clamp_min(1e-9)[:, None] * stride[:, None]
        xy_m = torch.where(arrive[:, None], waypoint_m, xy_m + step)
        waypoint_m = torch.where(arrive[:, None], fresh, waypoint_m)
        path.append(xy_m)
    if not path:
        return xy_m[None, :0].reshape(0, xy_m.shape[0], 2), waypoint_m
    return torch.stack(path, 0), waypoint_m


@dataclass(frozen=True)
class Population:
    """One draw of a scenario's UE population."""

    indoor: torch.Tensor  # [n_ues] bool
    speed_mps: torch.Tensor  # [n_ues] float64
    xy_m: torch.Tensor  # [n_ues, 2] float64
    waypoint_m: torch.Tensor  # [n_ues, 2] float64, first random-waypoint target


class PopulationSampler:
    """Draws a scenario's UE population: indoor flags, speed classes, drop, first waypoints.

    The one implementation behind the simulator's UEs and the twin's environments; the
    draw order is fixed (indoor, speed class, drop, waypoint), so the same generator gives
    the same UEs in both.

    Args:
        scenario: The scenario (its deployment, propagation minimum distance and UEs).
    """

    def __init__(self, scenario: Scenario):
        dep, ues = scenario.deployment, scenario.ues
        site_xy = torch.tensor([[s.x_m, s.y_m] for s in dep.sites], dtype=torch.float64)
        self.area = ServiceArea.for_sites(
            site_xy, dep.wraparound, dep.isd_m, scenario.propagation.min_distance_m
        )
        self.n_ues = ues.count
        self.indoor_fraction = ues.indoor_fraction
        self.hotspot_fraction = ues.hotspot_fraction if ues.distribution == "hotspots" else 0.0
        hs = ues.hotspots
        self.hot_xy_m = torch.tensor([[h.x_m, h.y_m] for h in hs], dtype=torch.float64)
        self.hot_xy_m = self.hot_xy_m.reshape(-1, 2)  # [n_hotspots, 2]
        self.hot_radius_m = torch.tensor([h.radius_m for h in hs], dtype=torch.float64)
        self.hot_weight = torch.tensor([h.weight for h in hs], dtype=torch.float64)
        fr = torch.tensor([c.fraction for c in ues.speed_classes], dtype=torch.float64)
        self.class_cdf = torch.cumsum(fr / fr.sum(), 0)  # [n_classes]
        kmh = torch.tensor([c.speed_kmh for c in ues.speed_classes], dtype=torch.float64)
        self.class_mps = kmh / 3.6  # [n_classes]

    def draw(self, generator: torch.Generator) -> Population:
        """One population from ``generator`` (a fixed number of draws)."""
        n = self.n_ues
        indoor = torch.rand(n, generator=generator, dtype=torch.float64) < self.indoor_fraction
        u = torch.rand(n, generator=generator, dtype=torch.float64)
        which = torch.searchsorted(self.class_cdf, u).clamp(max=len(self.class_cdf) - 1)
        xy = drop_ues(
            generator, self.area, n, self.hot_xy_m, self.hot_radius_m, self.hot_weight,
            self.hotspot_fraction,
        )  # fmt: skip
        waypoint = self.area.sample(generator, n)
        return Population(indoor, self.class_mps[which], xy, waypoint)
