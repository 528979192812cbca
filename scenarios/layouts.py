"""Hexagonal site layouts (numpy only; ``radio.geometry`` has the torch twin).

Sites sit on a hexagonal lattice whose nearest-neighbour directions are 30° + k·60°, so a
three-sector site with boresights 30°, 150°, 270° tiles the plane with hexagonal cells (the
3GPP clover-leaf layout, TR 36.814 / TR 38.901 Table 7.8-1). Site 0 is at the origin, then
ring 1 (6 sites), ring 2 (12 sites), … .
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .schema import Deployment, FieldError, Sector, Site

__all__ = ["hex_layout", "hex_site_positions", "n_hex_sites"]


def n_hex_sites(n_rings: int) -> int:
    """Number of sites of a hexagonal cluster: 1 + 3·R·(R+1) (1, 7, 19, 37, …).

    Args:
        n_rings: Rings around the centre site, >= 0.

    Returns:
        The number of sites.
    """
    return 1 + 3 * n_rings * (n_rings + 1)


def hex_site_positions(n_rings: int, isd_m: float) -> np.ndarray:
    """Positions of the sites of a hexagonal cluster.

    Ring ``k`` starts at the corner ``k·isd·(cos 30°, sin 30°)`` and walks
    counter-clockwise along the six edges.

    Args:
        n_rings: Rings around the centre site, >= 0 (1 ring = 7 sites, 2 rings = 19).
        isd_m: Inter-site distance in metres, > 0.

    Returns:
        ``[n_sites, 2]`` float64 array of (x, y) in metres, site 0 at the origin.

    Raises:
        FieldError: ``n_rings`` negative / not an int, or ``isd_m`` not positive.
    """
    if isinstance(n_rings, bool) or not isinstance(n_rings, int | np.integer) or n_rings < 0:
        raise FieldError("n_rings", f"{n_rings!r} must be an int >= 0")
    if isinstance(isd_m, bool) or not isinstance(isd_m, int | float) or not isd_m > 0:
        raise FieldError("isd_m", f"{isd_m!r} must be a number > 0")
    directions = [
        (math.cos(math.radians(30.0 + 60.0 * j)), math.sin(math.radians(30.0 + 60.0 * j)))
        for j in range(6)
    ]
    points = [(0.0, 0.0)]
    for k in range(1, int(n_rings) + 1):
        for j in range(6):
            cx, cy = directions[j][0] * k, directions[j][1] * k  # corner j of ring k
            ex, ey = directions[(j + 2) % 6]  # walk towards corner j + 1
            for m in range(k):
                points.append((cx + m * ex, cy + m * ey))
    xy = np.asarray(points, dtype=np.float64) * float(isd_m)  # [n_sites, 2]
    xy[np.abs(xy) < 1e-9 * float(isd_m)] = 0.0  # tidy round-off (e.g. -0.0, 1e-14)
    return xy


def hex_layout(
    n_rings: int,
    isd_m: float,
    height_m: float,
    *,
    tilt_deg: float = 8.0,
    tx_power_dbm: float = 46.0,
    carrier_ghz: float = 3.5,
    bandwidth_mhz: float = 20.0,
    n_prb: int = 51,
    n_vertical: int = 1,
    azimuths: Sequence[float] = (30.0, 150.0, 270.0),
    kind: str = "macro",
    scs_khz: float = 30.0,
    wraparound: bool = True,
) -> Deployment:
    """A hexagonal deployment with identical sectors on every site.

    Args:
        n_rings: Rings around the centre site (1 → 7 sites, 2 → 19).
        isd_m: Inter-site distance in metres.
        height_m: Antenna height of every site in metres.
        tilt_deg: Downtilt of every sector in degrees.
        tx_power_dbm: Transmit power of every sector in dBm.
        carrier_ghz: Carrier frequency in GHz.
        bandwidth_mhz: Bandwidth in MHz.
        n_prb: PRBs per sector.
        n_vertical: Vertical antenna elements per sector.
        azimuths: Sector boresight azimuths in degrees (counter-clockwise from +x); the
            default (30, 150, 270) is the 3GPP three-sector layout.
        kind: Site kind, ``"macro"`` or ``"small"``.
        scs_khz: Subcarrier spacing in kHz.
        wraparound: Whether the simulator wraps the cluster around (default ``True``).

    Returns:
        A :class:`~rantwin.scenarios.schema.Deployment` with ``isd_m`` and ``n_rings`` set.

    Raises:
        FieldError: An invalid argument, naming it (``n_rings``, ``isd_m``, ``height_m``,
            ``azimuths[1]``, ``sector.tilt_deg`` …).
    """
    xy = hex_site_positions(n_rings, isd_m)
    if isinstance(azimuths, str) or not isinstance(azimuths, Sequence) or not azimuths:
        raise FieldError("azimuths", f"{azimuths!r} must be a non-empty sequence of degrees")
    sectors = []
    for i, az in enumerate(azimuths):
        try:
            sectors.append(
                Sector(
                    azimuth_deg=az,
                    tilt_deg=tilt_deg,
                    tx_power_dbm=tx_power_dbm,
                    carrier_ghz=carrier_ghz,
                    bandwidth_mhz=bandwidth_mhz,
                    n_prb=n_prb,
                    n_vertical=n_vertical,
                )
            )
        except FieldError as exc:
            if exc.path == "azimuth_deg":
                raise FieldError(f"azimuths[{i}]", exc.detail) from None
            raise exc.with_prefix("sector") from None
    sites = tuple(
        Site(x_m=float(x), y_m=float(y), height_m=height_m, sectors=tuple(sectors), kind=kind)
        for x, y in xy
    )
    return Deployment(
        sites=sites, wraparound=wraparound, isd_m=isd_m, n_rings=n_rings, scs_khz=scs_khz
    )
