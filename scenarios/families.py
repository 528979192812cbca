"""Random worlds: families of deployments for training and held-out evaluation.

:func:`sample_deployment` draws one complete :class:`~rantwin.scenarios.schema.Scenario` of a
family from a ``numpy.random.Generator``; the same generator state gives the identical
scenario. Worlds are kept small enough for the simulator to run each in seconds
(<= 12 sites, <= 36 cells, <= 400 UEs) and use no wrap-around (their layouts are irregular).
Values are rounded (0.1 m, 0.1 deg, 0.5 dB) so the YAML of a sampled world stays readable.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .layouts import hex_site_positions
from .schema import (
    Deployment,
    Hotspot,
    Propagation,
    Scenario,
    Sector,
    Site,
    SpeedClass,
    Traffic,
    UEPopulation,
)

__all__ = ["FAMILIES", "MAX_CELLS", "MAX_SITES", "MAX_UES", "sample_deployment"]

MAX_SITES = 12
MAX_CELLS = 36
MAX_UES = 400

#: Family name → description.
FAMILIES: dict[str, str] = {
    "uma-irregular": (
        "Urban macro (38901-uma), 5-12 sites on a perturbed hexagonal grid, ISD 300-700 m, "
        "heights 20-35 m, random sector azimuth offsets, 2.1 or 3.5 GHz, 60-300 UEs with "
        "1-3 hotspots."
    ),
    "umi-dense": (
        "Urban micro street canyon (38901-umi), 5-12 sites, ISD 150-250 m, heights 8-15 m, "
        "38-44 dBm, 3.5 GHz, 60-300 UEs, optional hotspots."
    ),
    "umi-street": (
        "Urban micro street canyon (38901-umi), 4-10 sites, either ultra-dense (ISD 90-140 m, "
        "heights 4-7.5 m, 30-36 dBm) or sparse (ISD 270-400 m, heights 16-22 m, 42-46 dBm), "
        "2.1 or 3.5 GHz, 40-250 UEs, optional hotspots: the UMi propagation of umi-dense "
        "without its layouts, densities or heights (150-250 m, 8-15 m lie between)."
    ),
    "rma-rural": (
        "Rural macro (38901-rma), 3-9 sites, ISD 1-3 km, heights 30-45 m, 700-900 MHz / "
        "10 MHz at 15 kHz SCS, 30-150 UEs, many of them fast."
    ),
    "hetnet": (
        "Heterogeneous network (38901-uma): 3-7 macro sites (ISD 400-600 m) plus 2-8 "
        "co-channel small cells (30 dBm, 6-12 m) with UE hotspots in front of them."
    ),
    "suburban-hata": (
        "Suburban macro with the Okumura-Hata suburban model, 4-10 sites, ISD 0.8-2 km, "
        "heights 30-50 m, 0.7-1.5 GHz / 10 MHz at 15 kHz SCS, 40-200 UEs."
    ),
}


def _r(x: float, step: float = 0.1) -> float:
    """Round to a multiple of ``step`` (readable YAML), as a plain float."""
    return float(round(round(x / step) * step, 6))


def _irregular_sites(rng: np.random.Generator, n_sites: int, isd_m: float) -> np.ndarray:
    """Irregular site positions ``[n_sites, 2]`` in metres.

    The sites of a 2-ring hex grid nearest the centre (random tie-breaking), each perturbed
    by a Gaussian of std 0.15·ISD (clipped at 0.3·ISD).
    """
    grid = hex_site_positions(2, 1.0)  # [19, 2] in units of ISD
    dist = np.linalg.norm(grid, axis=1) + 1e-3 * rng.random(grid.shape[0])
    chosen = grid[np.argsort(dist)[:n_sites]]  # [n_sites, 2]
    jitter = np.clip(rng.normal(0.0, 0.15, size=chosen.shape), -0.3, 0.3)
    return (chosen + jitter) * isd_m


def _sectors(
    rng: np.random.Generator,
    *,
    tilt_range: tuple[float, float],
    tx_power_dbm: float,
    carrier_ghz: float,
    bandwidth_mhz: float,
    n_prb: int,
) -> tuple[Sector, ...]:
    """Three sectors 120° apart with a random common azimuth offset in [-30, 30)°."""
    offset = rng.uniform(-30.0, 30.0)
    return tuple(
        Sector(
            azimuth_deg=_r(base + offset),
            tilt_deg=_r(rng.uniform(*tilt_range), 0.5),
            tx_power_dbm=tx_power_dbm,
            carrier_ghz=carrier_ghz,
            bandwidth_mhz=bandwidth_mhz,
            n_prb=n_prb,
        )
        for base in (30.0, 150.0, 270.0)
    )


def _macro_sites(
    rng: np.random.Generator,
    n_sites: int,
    isd_m: float,
    height_range_m: tuple[float, float],
    **sector_kwargs: object,
) -> tuple[Site, ...]:
    xy = _irregular_sites(rng, n_sites, isd_m)
    return tuple(
        Site(
            x_m=_r(x),
            y_m=_r(y),
            height_m=_r(rng.uniform(*height_range_m), 0.5),
            sectors=_sectors(rng, **sector_kwargs),  # type: ignore[arg-type]
        )
        for x, y in xy
    )


def _hotspots_in(
    rng: np.random.Generator, sites: tuple[Site, ...], n: int, radius_range_m: tuple[float, float]
) -> tuple[Hotspot, ...]:
    """``n`` hotspots near random sites (within 0.8 of the half-span of the layout)."""
    xy = np.array([(s.x_m, s.y_m) for s in sites])
    span = max(float(np.ptp(xy[:, 0])), float(np.ptp(xy[:, 1])), 1.0)
    out = []
    for _ in range(n):
        anchor = xy[rng.integers(len(sites))]
        angle = rng.uniform(0.0, 2.0 * math.pi)
        dist = rng.uniform(0.05, 0.25) * span
        out.append(
            Hotspot(
                x_m=_r(anchor[0] + dist * math.cos(angle)),
                y_m=_r(anchor[1] + dist * math.sin(angle)),
                radius_m=_r(rng.uniform(*radius_range_m), 1.0),
                weight=_r(rng.uniform(0.5, 1.5), 0.05),
            )
        )
    return tuple(out)


def _speed_classes(
    rng: np.random.Generator, speeds_kmh: tuple[float, ...]
) -> tuple[SpeedClass, ...]:
    """Random fractions (multiples of 0.05, summing to 1) over ``speeds_kmh``."""
    w = rng.dirichlet(np.full(len(speeds_kmh), 2.0))
    units = np.floor(w * 20).astype(int)
    units[0] += 20 - units.sum()  # [n_speeds] twentieths, sum 20
    return tuple(
        SpeedClass(speed_kmh=s, fraction=_r(u / 20.0, 0.05))
        for s, u in zip(speeds_kmh, units, strict=True)
        if u > 0
    )


def _traffic(rng: np.random.Generator) -> Traffic:
    if rng.random() < 0.5:
        return Traffic(model="full-buffer")
    return Traffic(
        model="ftp3",
        file_size_mbit=float(rng.choice([0.5, 1.0, 2.0, 4.0])),
        arrival_rate_per_s=_r(rng.uniform(0.2, 1.5), 0.05),
    )


def _ues(
    rng: np.random.Generator,
    count_range: tuple[int, int],
    hotspots: tuple[Hotspot, ...],
    indoor_range: tuple[float, float],
    speeds_kmh: tuple[float, ...],
    hotspot_fraction_range: tuple[float, float] = (0.2, 0.5),
) -> UEPopulation:
    return UEPopulation(
        count=int(rng.integers(count_range[0], count_range[1] + 1)),
        distribution="hotspots" if hotspots else "uniform",
        hotspots=hotspots,
        hotspot_fraction=_r(rng.uniform(*hotspot_fraction_range), 0.05) if hotspots else 0.0,
        indoor_fraction=_r(rng.uniform(*indoor_range), 0.05),
        speed_classes=_speed_classes(rng, speeds_kmh),
        mobility="random-waypoint",
        traffic=_traffic(rng),
    )


def _mid_band_carrier(rng: np.random.Generator) -> tuple[float, float, int]:
    """``(carrier_ghz, scs_khz, n_prb)``: 2.1 or 3.5 GHz, 20 MHz wide.

    2.1 GHz: 20 MHz at 15 kHz SCS (106 PRB); 3.5 GHz: 20 MHz at 30 kHz (51 PRB),
    TS 38.101-1 Table 5.3.2-1.
    """
    carrier = float(rng.choice([2.1, 3.5]))
    scs, n_prb = (15.0, 106) if carrier < 3.0 else (30.0, 51)
    return carrier, scs, n_prb


def _uma_irregular(rng: np.random.Generator) -> tuple[Deployment, Propagation, UEPopulation]:
    n_sites = int(rng.integers(5, 13))
    isd = _r(rng.uniform(300.0, 700.0), 10.0)
    carrier, scs, n_prb = _mid_band_carrier(rng)
    sites = _macro_sites(
        rng,
        n_sites,
        isd,
        (20.0, 35.0),
        tilt_range=(4.0, 12.0),
        tx_power_dbm=_r(rng.uniform(43.0, 46.0), 0.5),
        carrier_ghz=carrier,
        bandwidth_mhz=20.0,
        n_prb=n_prb,
    )
    hotspots = _hotspots_in(rng, sites, int(rng.integers(1, 4)), (30.0, 80.0))
    deployment = Deployment(sites=sites, wraparound=False, isd_m=isd, scs_khz=scs)
    propagation = Propagation(model="38901-uma", min_distance_m=35.0)
    ues = _ues(rng, (60, 300), hotspots, (0.5, 0.8), (3.0, 30.0, 60.0))
    return deployment, propagation, ues


def _umi_dense(rng: np.random.Generator) -> tuple[Deployment, Propagation, UEPopulation]:
    n_sites = int(rng.integers(5, 13))
    isd = _r(rng.uniform(150.0, 250.0), 5.0)
    sites = _macro_sites(
        rng,
        n_sites,
        isd,
        (8.0, 15.0),
        tilt_range=(2.0, 10.0),
        tx_power_dbm=_r(rng.uniform(38.0, 44.0), 0.5),
        carrier_ghz=3.5,
        bandwidth_mhz=20.0,
        n_prb=51,
    )
    n_hot = int(rng.integers(0, 4))
    hotspots = _hotspots_in(rng, sites, n_hot, (15.0, 40.0)) if n_hot else ()
    deployment = Deployment(sites=sites, wraparound=False, isd_m=isd, scs_khz=30.0)
    propagation = Propagation(model="38901-umi", min_distance_m=10.0)
    ues = _ues(rng, (60, 300), hotspots, (0.6, 0.9), (3.0, 10.0, 30.0))
    return deployment, propagation, ues


def _umi_street(rng: np.random.Generator) -> tuple[Deployment, Propagation, UEPopulation]:
    """UMi propagation for training: ``umi-dense``'s densities and heights are held out.

    The shadowing decorrelation distances of 38.901 UMi (10 m LOS / 13 m NLOS, Table
    7.5-6) are 4× shorter than UMa's, so a walking UE's shadowing (and handovers) varies
    4× faster per metre; without a UMi family in training the twin extrapolates there.
    """
    n_sites = int(rng.integers(4, 11))
    dense = rng.random() < 0.5
    isd = _r(rng.uniform(90.0, 140.0) if dense else rng.uniform(270.0, 400.0), 5.0)
    carrier, scs, n_prb = _mid_band_carrier(rng)
    sites = _macro_sites(
        rng,
        n_sites,
        isd,
        (4.0, 7.5) if dense else (16.0, 22.0),
        tilt_range=(2.0, 10.0),
        tx_power_dbm=_r(rng.uniform(30.0, 36.0) if dense else rng.uniform(42.0, 46.0), 0.5),
        carrier_ghz=carrier,
        bandwidth_mhz=20.0,
        n_prb=n_prb,
    )
    n_hot = int(rng.integers(0, 4))
    hotspots = _hotspots_in(rng, sites, n_hot, (10.0, 50.0)) if n_hot else ()
    deployment = Deployment(sites=sites, wraparound=False, isd_m=isd, scs_khz=scs)
    propagation = Propagation(model="38901-umi", min_distance_m=10.0)
    ues = _ues(rng, (40, 250), hotspots, (0.5, 0.9), (3.0, 10.0, 30.0))
    return deployment, propagation, ues


def _rma_rural(rng: np.random.Generator) -> tuple[Deployment, Propagation, UEPopulation]:
    n_sites = int(rng.integers(3, 10))
    isd = _r(rng.uniform(1000.0, 3000.0), 50.0)
    sites = _macro_sites(
        rng,
        n_sites,
        isd,
        (30.0, 45.0),
        tilt_range=(2.0, 8.0),
        tx_power_dbm=_r(rng.uniform(43.0, 46.0), 0.5),
        carrier_ghz=float(rng.choice([0.7, 0.8, 0.9])),
        bandwidth_mhz=10.0,
        n_prb=52,
    )
    deployment = Deployment(sites=sites, wraparound=False, isd_m=isd, scs_khz=15.0)
    propagation = Propagation(model="38901-rma", min_distance_m=35.0)
    ues = _ues(rng, (30, 150), (), (0.3, 0.6), (3.0, 60.0, 120.0))
    return deployment, propagation, ues


def _hetnet(rng: np.random.Generator) -> tuple[Deployment, Propagation, UEPopulation]:
    n_macro = int(rng.integers(3, 8))
    isd = _r(rng.uniform(400.0, 600.0), 10.0)
    macros = _macro_sites(
        rng,
        n_macro,
        isd,
        (20.0, 30.0),
        tilt_range=(4.0, 12.0),
        tx_power_dbm=46.0,
        carrier_ghz=3.5,
        bandwidth_mhz=20.0,
        n_prb=51,
    )
    n_small = int(rng.integers(2, min(8, MAX_CELLS - 3 * n_macro, MAX_SITES - n_macro) + 1))
    smalls = []
    hotspots = []
    for _ in range(n_small):
        anchor = macros[int(rng.integers(n_macro))]
        angle = rng.uniform(0.0, 2.0 * math.pi)
        dist = rng.uniform(0.2, 0.45) * isd
        x, y = anchor.x_m + dist * math.cos(angle), anchor.y_m + dist * math.sin(angle)
        azimuth = _r(rng.uniform(-180.0, 180.0))
        smalls.append(
            Site(
                x_m=_r(x),
                y_m=_r(y),
                height_m=_r(rng.uniform(6.0, 12.0), 0.5),
                kind="small",
                sectors=(
                    Sector(
                        azimuth_deg=azimuth,
                        tilt_deg=_r(rng.uniform(0.0, 10.0), 0.5),
                        tx_power_dbm=30.0,
                        carrier_ghz=3.5,
                        bandwidth_mhz=20.0,
                        n_prb=51,
                    ),
                ),
            )
        )
        ahead = 30.0  # hotspot centre 30 m in front of the small cell's boresight
        hotspots.append(
            Hotspot(
                x_m=_r(x + ahead * math.cos(math.radians(azimuth))),
                y_m=_r(y + ahead * math.sin(math.radians(azimuth))),
                radius_m=_r(rng.uniform(30.0, 60.0), 1.0),
            )
        )
    deployment = Deployment(sites=macros + tuple(smalls), wraparound=False, isd_m=isd)
    propagation = Propagation(model="38901-uma", min_distance_m=10.0)
    ues = _ues(rng, (100, 400), tuple(hotspots), (0.5, 0.8), (3.0, 30.0), (0.3, 0.7))
    return deployment, propagation, ues


def _suburban_hata(rng: np.random.Generator) -> tuple[Deployment, Propagation, UEPopulation]:
    n_sites = int(rng.integers(4, 11))
    isd = _r(rng.uniform(800.0, 2000.0), 50.0)
    sites = _macro_sites(
        rng,
        n_sites,
        isd,
        (30.0, 50.0),
        tilt_range=(2.0, 8.0),
        tx_power_dbm=_r(rng.uniform(43.0, 46.0), 0.5),
        carrier_ghz=_r(rng.uniform(0.7, 1.5), 0.05),
        bandwidth_mhz=10.0,
        n_prb=52,
    )
    deployment = Deployment(sites=sites, wraparound=False, isd_m=isd, scs_khz=15.0)
    # Okumura–Hata is validated from 1 km; 35 m keeps the near-field out of the fit.
    propagation = Propagation(model="hata-suburban", min_distance_m=35.0)
    n_hot = int(rng.integers(0, 3))
    hotspots = _hotspots_in(rng, sites, n_hot, (50.0, 150.0)) if n_hot else ()
    ues = _ues(rng, (40, 200), hotspots, (0.4, 0.7), (3.0, 50.0, 90.0))
    return deployment, propagation, ues


_SAMPLERS: dict[
    str, Callable[[np.random.Generator], tuple[Deployment, Propagation, UEPopulation]]
] = {
    "uma-irregular": _uma_irregular,
    "umi-dense": _umi_dense,
    "umi-street": _umi_street,
    "rma-rural": _rma_rural,
    "hetnet": _hetnet,
    "suburban-hata": _suburban_hata,
}
assert set(_SAMPLERS) == set(FAMILIES)


def sample_deployment(rng: np.random.Generator, family: str) -> Scenario:
    """Draw one random world of a family.

    Args:
        rng: The random generator (its state advances); the same state gives the identical
            scenario.
        family: A key of :data:`FAMILIES`.

    Returns:
        A validated :class:`~rantwin.scenarios.schema.Scenario` named
        ``"{family}-{8 hex digits}"``, with default timing, handover, knobs and reward.

    Raises:
        ValueError: Unknown family (listing the valid ones).
        TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    if family not in _SAMPLERS:
        raise ValueError(f"unknown family {family!r}; valid families: {', '.join(FAMILIES)}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    tag = f"{int(rng.integers(0, 2**32)):08x}"
    deployment, propagation, ues = _SAMPLERS[family](rng)
    scenario = Scenario(
        name=f"{family}-{tag}",
        description=f"Random world of family {family!r}. {FAMILIES[family]}",
        deployment=deployment,
        propagation=propagation,
        ues=ues,
    )
    assert scenario.n_sites <= MAX_SITES and scenario.n_cells <= MAX_CELLS
    assert scenario.ues.count <= MAX_UES
    return scenario
