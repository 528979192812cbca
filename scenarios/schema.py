"""The scenario schema: frozen dataclasses describing one simulated radio world.

A :class:`Scenario` is immutable. Every field carries its unit in its name or docstring
(``tx_power_dbm``, ``tilt_deg``, ``height_m``, ``carrier_ghz``). Each dataclass checks its own
fields on construction (type, range, enumerations and cross-field rules) and raises
:class:`FieldError`, a :class:`ValueError` whose message names the field, the value and the
rule, for example ``tilt_deg: 100.0 must be in [-90, 90]``. The loader in
:mod:`rantwin.scenarios.io` prefixes the full path (``deployment.sites[3].sectors[0].tilt_deg``).

Conventions (``docs/contracts.md``): distances in metres, angles in degrees, azimuth measured
counter-clockwise from the +x axis and stored wrapped to [-180, 180), electrical downtilt
positive towards the ground, powers in dBm.

Sequences are tuples, never lists; a list passed to a constructor is converted to a tuple,
and an ``int`` given for a ``float`` field is converted to ``float`` so that equal scenarios
serialise and hash identically.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - import for annotations only
    from .config import CellConfig

__all__ = [
    "ASSOCIATIONS",
    "DISTRIBUTIONS",
    "KNOB_NAMES",
    "MOBILITY_MODELS",
    "O2I_MODELS",
    "PATHLOSS_MODELS",
    "SITE_KINDS",
    "TRAFFIC_MODELS",
    "CellTable",
    "Deployment",
    "FieldError",
    "Handover",
    "Hotspot",
    "Knob",
    "Propagation",
    "RewardWeights",
    "Scenario",
    "Sector",
    "Site",
    "SpeedClass",
    "Timing",
    "Traffic",
    "UEPopulation",
]

#: Path-loss models understood by ``radio.pathloss`` (same order as ``radio.pathloss.MODELS``).
PATHLOSS_MODELS: tuple[str, ...] = (
    "fspl",
    "hata-urban",
    "hata-suburban",
    "hata-rural",
    "winner2-urban",
    "winner2-suburban",
    "winner2-rural",
    "38901-uma",
    "38901-umi",
    "38901-rma",
)
#: Outdoor-to-indoor penetration models, TR 38.901 §7.4.3.
#: ``"mixed"``: each indoor UE's building is low- or high-loss with probability 1/2 (the mix of
#: the TR 38.901 Table 7.8-1 calibration).
O2I_MODELS: tuple[str, ...] = ("low", "high", "mixed")
#: Cell association rules: strongest RSRP or smallest coupling loss (38.901 calibration).
ASSOCIATIONS: tuple[str, ...] = ("rsrp", "coupling-loss")
#: Site kinds.
SITE_KINDS: tuple[str, ...] = ("macro", "small")
#: UE drop distributions.
DISTRIBUTIONS: tuple[str, ...] = ("uniform", "hotspots")
#: UE mobility models.
MOBILITY_MODELS: tuple[str, ...] = ("static", "random-waypoint")
#: Traffic models: full buffer, or 3GPP FTP model 3 (Poisson file arrivals, TR 36.814 A.2.1).
TRAFFIC_MODELS: tuple[str, ...] = ("full-buffer", "ftp3")
#: Per-cell control knobs.
KNOB_NAMES: tuple[str, ...] = ("power_offset_db", "tilt_deg", "cio_db", "sleep")
#: NR subcarrier spacings, TS 38.211 §4.2 (kHz).
SCS_KHZ: tuple[float, ...] = (15.0, 30.0, 60.0, 120.0)

#: A typical daily cellular traffic curve, hourly from 00:00 to 23:00 (fraction of the peak):
#: trough around 04:00, morning ramp, a plateau in the afternoon, peak at 20–21 h.
DEFAULT_DIURNAL_ENVELOPE: tuple[float, ...] = (
    0.45, 0.32, 0.23, 0.17, 0.15, 0.17, 0.25, 0.40,
    0.55, 0.65, 0.72, 0.77, 0.80, 0.80, 0.78, 0.78,
    0.80, 0.84, 0.89, 0.95, 1.00, 1.00, 0.85, 0.65,
)  # fmt: skip


class FieldError(ValueError):
    """A scenario field failed validation.

    Args:
        path: Dotted path of the offending field (``"tilt_deg"``,
            ``"deployment.sites[2].height_m"``).
        detail: What is wrong: the value and the rule it breaks.
    """

    def __init__(self, path: str, detail: str):
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {detail}" if path else detail)

    def with_prefix(self, prefix: str) -> FieldError:
        """Return the same error with ``prefix`` prepended to its path.

        Args:
            prefix: Path of the enclosing object (``"ues.traffic"``); empty means unchanged.

        Returns:
            A new :class:`FieldError`.
        """
        if not prefix:
            return self
        if not self.path:
            return FieldError(prefix, self.detail)
        sep = "" if self.path.startswith("[") else "."
        return FieldError(f"{prefix}{sep}{self.path}", self.detail)


# --------------------------------------------------------------------------------------------
# Generic field checking, driven by the (string) annotations of each dataclass.
# --------------------------------------------------------------------------------------------

_SCALARS: dict[str, type] = {"float": float, "int": int, "str": str, "bool": bool}


def _type_name(value: Any) -> str:
    return type(value).__name__


def _coerce_scalar(path: str, value: Any, kind: str) -> Any:
    """Check ``value`` against a scalar annotation and return the canonical Python value."""
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise FieldError(path, f"expected float, got {value!r} ({_type_name(value)})")
        value = float(value)
        if not math.isfinite(value):
            raise FieldError(path, f"{value!r} must be finite")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise FieldError(path, f"expected int, got {value!r} ({_type_name(value)})")
        return int(value)
    if kind == "bool":
        if not isinstance(value, bool | np.bool_):
            raise FieldError(path, f"expected bool, got {value!r} ({_type_name(value)})")
        return bool(value)
    if kind == "str":
        if not isinstance(value, str):
            raise FieldError(path, f"expected str, got {value!r} ({_type_name(value)})")
        return value
    raise AssertionError(f"unsupported annotation {kind!r}")


def _coerce(path: str, value: Any, annotation: str) -> Any:
    """Check and canonicalise ``value`` against a field annotation given as a string."""
    annotation = annotation.strip()
    if annotation.endswith("| None"):
        if value is None:
            return None
        return _coerce(path, value, annotation[: -len("| None")])
    if annotation.startswith("tuple[") and annotation.endswith(", ...]"):
        inner = annotation[len("tuple[") : -len(", ...]")]
        if isinstance(value, str | bytes | dict) or not isinstance(value, tuple | list):
            raise FieldError(path, f"expected a sequence of {inner}, got {value!r}")
        return tuple(_coerce(f"{path}[{i}]", v, inner) for i, v in enumerate(value))
    if annotation in _SCALARS:
        return _coerce_scalar(path, value, annotation)
    cls = globals()[annotation]
    if not isinstance(value, cls):
        raise FieldError(path, f"expected {annotation}, got {value!r} ({_type_name(value)})")
    return value


def _canonicalise(obj: Any) -> None:
    """Type-check every field of a frozen dataclass in place (lists → tuples, int → float)."""
    for f in dataclasses.fields(obj):
        value = _coerce(f.name, getattr(obj, f.name), str(f.type))
        object.__setattr__(obj, f.name, value)


def _in_range(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise :class:`FieldError` unless ``low (<|<=) value (<|<=) high``."""
    bad = (low is not None and (value <= low if low_open else value < low)) or (
        high is not None and (value >= high if high_open else value > high)
    )
    if not bad:
        return
    if low is not None and high is not None:
        lb, rb = ("(" if low_open else "["), (")" if high_open else "]")
        rule = f"must be in {lb}{low:g}, {high:g}{rb}"
    elif low is not None:
        rule = f"must be {'>' if low_open else '>='} {low:g}"
    else:
        rule = f"must be {'<' if high_open else '<='} {high:g}"
    raise FieldError(name, f"{value!r} {rule}")


def _one_of(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise FieldError(name, f"{value!r} is not one of {', '.join(repr(v) for v in valid)}")


def _wrap_azimuth_deg(azimuth_deg: float) -> float:
    """Wrap an angle to [-180, 180) degrees."""
    if -180.0 <= azimuth_deg < 180.0:
        return azimuth_deg + 0.0  # unchanged (and no negative zero)
    wrapped = round((azimuth_deg + 180.0) % 360.0 - 180.0, 9)  # round off float noise
    return -180.0 if wrapped == 180.0 else wrapped + 0.0


# --------------------------------------------------------------------------------------------
# Deployment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sector:
    """One cell: a sector antenna of a site.

    Attributes:
        azimuth_deg: Boresight azimuth in degrees, counter-clockwise from +x. Any value in
            [-360, 360] is accepted and stored wrapped to [-180, 180) (270 → -90).
        tilt_deg: Default electrical downtilt in degrees, positive towards the ground,
            in [-90, 90]. The scenario's ``tilt_deg`` knob range must contain it.
        tx_power_dbm: Total transmit power over the carrier in dBm, in [-30, 80].
        carrier_ghz: Carrier frequency in GHz, > 0 and <= 100.
        bandwidth_mhz: Channel bandwidth in MHz, > 0.
        n_prb: Number of physical resource blocks (12 subcarriers each), in [1, 275];
            ``n_prb · 12 · scs_khz`` must fit in ``bandwidth_mhz`` (checked by
            :class:`Deployment`, which knows the subcarrier spacing).
        n_vertical: Number of vertical antenna elements M (1 = single element with
            electrical tilt; M > 1 = M×1 steered sub-array, TR 38.901 calibration), >= 1.
    """

    azimuth_deg: float
    tilt_deg: float
    tx_power_dbm: float
    carrier_ghz: float
    bandwidth_mhz: float
    n_prb: int
    n_vertical: int = 1

    def __post_init__(self) -> None:
        _canonicalise(self)
        _in_range("azimuth_deg", self.azimuth_deg, -360.0, 360.0)
        object.__setattr__(self, "azimuth_deg", _wrap_azimuth_deg(self.azimuth_deg))
        _in_range("tilt_deg", self.tilt_deg, -90.0, 90.0)
        _in_range("tx_power_dbm", self.tx_power_dbm, -30.0, 80.0)
        _in_range("carrier_ghz", self.carrier_ghz, 0.0, 100.0, low_open=True)
        _in_range("bandwidth_mhz", self.bandwidth_mhz, 0.0, 2000.0, low_open=True)
        _in_range("n_prb", self.n_prb, 1, 275)
        _in_range("n_vertical", self.n_vertical, 1, 64)


@dataclass(frozen=True)
class Site:
    """A base-station site: a mast at one position carrying one or more sectors.

    Attributes:
        x_m: Site x coordinate in metres.
        y_m: Site y coordinate in metres.
        height_m: Antenna height above ground in metres, > 0.
        sectors: The cells of the site, at least one.
        kind: ``"macro"`` or ``"small"`` (selects e.g. the energy model parameter set).
    """

    x_m: float
    y_m: float
    height_m: float
    sectors: tuple[Sector, ...]
    kind: str = "macro"

    def __post_init__(self) -> None:
        _canonicalise(self)
        _in_range("height_m", self.height_m, 0.0, 500.0, low_open=True)
        if not self.sectors:
            raise FieldError("sectors", "() must hold at least one sector")
        _one_of("kind", self.kind, SITE_KINDS)


@dataclass(frozen=True)
class Deployment:
    """Where the cells are.

    Attributes:
        sites: The sites, at least one. Cell index = order of sites, then of sectors.
        wraparound: Whether the simulator wraps the hexagonal cluster around (TR 36.814 /
            38.901 wrap-around); requires ``isd_m`` and ``n_rings`` (a hexagonal layout).
        isd_m: Nominal inter-site distance in metres (> 0), or ``None`` for free layouts.
        n_rings: Rings of the hexagonal cluster (0 = 1 site, 1 = 7 sites, 2 = 19 sites),
            or ``None`` for free layouts.
        scs_khz: NR subcarrier spacing in kHz, one of 15, 30, 60, 120 (TS 38.211 §4.2).
    """

    sites: tuple[Site, ...]
    wraparound: bool = False
    isd_m: float | None = None
    n_rings: int | None = None
    scs_khz: float = 30.0

    def __post_init__(self) -> None:
        _canonicalise(self)
        if not self.sites:
            raise FieldError("sites", "() must hold at least one site")
        if self.isd_m is not None:
            _in_range("isd_m", self.isd_m, 0.0, low_open=True)
        if self.n_rings is not None:
            _in_range("n_rings", self.n_rings, 0, 10)
        if self.wraparound and (self.isd_m is None or self.n_rings is None):
            raise FieldError(
                "wraparound",
                f"True requires isd_m and n_rings (a hexagonal layout), got isd_m={self.isd_m!r}"
                f", n_rings={self.n_rings!r}",
            )
        if self.wraparound:
            expected = 1 + 3 * self.n_rings * (self.n_rings + 1)  # type: ignore[operator]
            # the hexagonal layer is the macro sites (all sites if there is no macro site)
            n_macro = sum(1 for s in self.sites if s.kind == "macro") or len(self.sites)
            if n_macro != expected:
                raise FieldError(
                    "sites",
                    f"wraparound with n_rings={self.n_rings} needs {expected} macro sites, "
                    f"got {n_macro}",
                )
        if self.scs_khz not in SCS_KHZ:
            raise FieldError("scs_khz", f"{self.scs_khz!r} is not one of 15, 30, 60, 120")
        for i, site in enumerate(self.sites):
            for j, sector in enumerate(site.sectors):
                occupied_mhz = sector.n_prb * 12 * self.scs_khz / 1000.0
                if occupied_mhz > sector.bandwidth_mhz + 1e-9:
                    raise FieldError(
                        f"sites[{i}].sectors[{j}].n_prb",
                        f"{sector.n_prb} PRBs × 12 × {self.scs_khz:g} kHz = {occupied_mhz:g} MHz "
                        f"must fit in bandwidth_mhz = {sector.bandwidth_mhz:g}",
                    )


@dataclass(frozen=True)
class Propagation:
    """Radio environment.

    Attributes:
        model: Path-loss model, one of :data:`PATHLOSS_MODELS`.
        o2i_model: Outdoor-to-indoor loss for indoor UEs, ``"low"``, ``"high"`` or ``"mixed"``
            (50 % of buildings each)
            (TR 38.901 §7.4.3).
        noise_figure_db: UE receiver noise figure in dB, in [0, 30].
        ue_height_m: UE antenna height in metres, > 0.
        shadowing: Whether log-normal shadowing is drawn.
        inter_site_corr: Shadowing correlation between sites, in [0, 1] (TR 36.873: 0.5).
        fast_fading: Whether per-TTI fast fading is drawn.
        rician_k_db: Rician K-factor of LOS links in dB.
        min_distance_m: Minimum 2-D UE-to-site distance in metres, >= 0 (38.901 Table 7.8-1:
            35 m UMa, 10 m UMi, 35 m RMa).
        association: ``"rsrp"`` (strongest RSRP incl. CIO) or ``"coupling-loss"`` (smallest
            coupling loss, the 38.901 calibration rule).
    """

    model: str
    o2i_model: str = "low"
    noise_figure_db: float = 9.0
    ue_height_m: float = 1.5
    shadowing: bool = True
    inter_site_corr: float = 0.5
    fast_fading: bool = True
    rician_k_db: float = 9.0
    min_distance_m: float = 10.0
    association: str = "rsrp"

    def __post_init__(self) -> None:
        _canonicalise(self)
        _one_of("model", self.model, PATHLOSS_MODELS)
        _one_of("o2i_model", self.o2i_model, O2I_MODELS)
        _in_range("noise_figure_db", self.noise_figure_db, 0.0, 30.0)
        _in_range("ue_height_m", self.ue_height_m, 0.0, 100.0, low_open=True)
        _in_range("inter_site_corr", self.inter_site_corr, 0.0, 1.0)
        _in_range("rician_k_db", self.rician_k_db, -50.0, 50.0)
        _in_range("min_distance_m", self.min_distance_m, 0.0)
        _one_of("association", self.association, ASSOCIATIONS)


# --------------------------------------------------------------------------------------------
# UE population
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hotspot:
    """A disc where a share of the UEs is dropped.

    Attributes:
        x_m: Centre x in metres.
        y_m: Centre y in metres.
        radius_m: Radius in metres, > 0.
        weight: Relative share of the hotspot UEs falling in this hotspot, > 0.
    """

    x_m: float
    y_m: float
    radius_m: float
    weight: float = 1.0

    def __post_init__(self) -> None:
        _canonicalise(self)
        _in_range("radius_m", self.radius_m, 0.0, low_open=True)
        _in_range("weight", self.weight, 0.0, low_open=True)


@dataclass(frozen=True)
class SpeedClass:
    """A UE speed and the fraction of UEs moving at it.

    Attributes:
        speed_kmh: Speed in km/h, in [0, 500].
        fraction: Fraction of the UEs, in [0, 1].
    """

    speed_kmh: float
    fraction: float

    def __post_init__(self) -> None:
        _canonicalise(self)
        _in_range("speed_kmh", self.speed_kmh, 0.0, 500.0)
        _in_range("fraction", self.fraction, 0.0, 1.0)


@dataclass(frozen=True)
class Traffic:
    """Downlink traffic model.

    Attributes:
        model: ``"full-buffer"`` or ``"ftp3"`` (3GPP FTP model 3: Poisson file arrivals).
        file_size_mbit: FTP file size in Mbit, > 0.
        arrival_rate_per_s: FTP file arrival rate per UE at peak load (envelope = 1), in
            files/s, >= 0; scaled by :meth:`Timing.load_factor`.
    """

    model: str = "full-buffer"
    file_size_mbit: float = 4.0
    arrival_rate_per_s: float = 0.5

    def __post_init__(self) -> None:
        _canonicalise(self)
        _one_of("model", self.model, TRAFFIC_MODELS)
        _in_range("file_size_mbit", self.file_size_mbit, 0.0, low_open=True)
        _in_range("arrival_rate_per_s", self.arrival_rate_per_s, 0.0)


@dataclass(frozen=True)
class UEPopulation:
    """The users.

    Attributes:
        count: Number of UEs, >= 1.
        distribution: ``"uniform"`` over the deployment area, or ``"hotspots"``: a share
            ``hotspot_fraction`` of the UEs in the hotspot discs, the rest uniform.
        hotspots: Hotspot discs; required (non-empty) for ``"hotspots"``.
        hotspot_fraction: Share of UEs in hotspots, in [0, 1]; must be 0 for ``"uniform"``.
        indoor_fraction: Share of indoor UEs (O2I loss applies), in [0, 1].
        speed_classes: Speeds and their fractions; fractions sum to 1.
        mobility: ``"static"`` or ``"random-waypoint"``.
        traffic: Traffic model.
    """

    count: int
    distribution: str = "uniform"
    hotspots: tuple[Hotspot, ...] = ()
    hotspot_fraction: float = 0.0
    indoor_fraction: float = 0.8
    speed_classes: tuple[SpeedClass, ...] = (SpeedClass(3.0, 1.0),)
    mobility: str = "random-waypoint"
    traffic: Traffic = field(default_factory=Traffic)

    def __post_init__(self) -> None:
        _canonicalise(self)
        _in_range("count", self.count, 1)
        _one_of("distribution", self.distribution, DISTRIBUTIONS)
        _in_range("hotspot_fraction", self.hotspot_fraction, 0.0, 1.0)
        _in_range("indoor_fraction", self.indoor_fraction, 0.0, 1.0)
        _one_of("mobility", self.mobility, MOBILITY_MODELS)
        if self.distribution == "hotspots":
            if not self.hotspots:
                raise FieldError("hotspots", "() must be non-empty when distribution='hotspots'")
            if self.hotspot_fraction <= 0.0:
                raise FieldError(
                    "hotspot_fraction",
                    f"{self.hotspot_fraction!r} must be > 0 when distribution='hotspots'",
                )
        elif self.hotspot_fraction != 0.0:
            raise FieldError(
                "hotspot_fraction",
                f"{self.hotspot_fraction!r} must be 0 when distribution='uniform'",
            )
        if not self.speed_classes:
            raise FieldError("speed_classes", "() must hold at least one speed class")
        total = sum(c.fraction for c in self.speed_classes)
        if abs(total - 1.0) > 1e-6:
            raise FieldError("speed_classes", f"fractions sum to {total:g}, must sum to 1")


# --------------------------------------------------------------------------------------------
# Time, mobility procedures, control and reward
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Time structure of an episode.

    One episode = ``steps_per_episode`` super-steps; a super-step stands for
    ``superstep_minutes`` of wall-clock time (load envelope) and is simulated with
    ``ttis_per_superstep`` TTIs of ``tti_ms`` and ``mobility_s_per_superstep`` seconds of UE
    movement.

    Attributes:
        tti_ms: TTI (slot) length in ms, > 0.
        ttis_per_superstep: Simulated TTIs per super-step, >= 1.
        superstep_minutes: Wall-clock minutes a super-step represents, > 0.
        steps_per_episode: Super-steps per episode, >= 1 (96 × 15 min = one day).
        start_hour: Hour of day at step 0, in [0, 24).
        diurnal_envelope: 24 hourly load factors in (0, 1] for 00:00 … 23:00.
        mobility_s_per_superstep: Seconds of UE movement per super-step, >= 0.
        tti_samples: Per-TTI samples reported per super-step, in [0, ttis_per_superstep].
    """

    tti_ms: float = 1.0
    ttis_per_superstep: int = 100
    superstep_minutes: float = 15.0
    steps_per_episode: int = 96
    start_hour: float = 0.0
    diurnal_envelope: tuple[float, ...] = DEFAULT_DIURNAL_ENVELOPE
    mobility_s_per_superstep: float = 30.0
    tti_samples: int = 8

    def __post_init__(self) -> None:
        _canonicalise(self)
        _in_range("tti_ms", self.tti_ms, 0.0, 1000.0, low_open=True)
        _in_range("ttis_per_superstep", self.ttis_per_superstep, 1)
        _in_range("superstep_minutes", self.superstep_minutes, 0.0, low_open=True)
        _in_range("steps_per_episode", self.steps_per_episode, 1)
        _in_range("start_hour", self.start_hour, 0.0, 24.0, high_open=True)
        if len(self.diurnal_envelope) != 24:
            raise FieldError(
                "diurnal_envelope",
                f"has {len(self.diurnal_envelope)} values, must have 24 (one per hour)",
            )
        for h, v in enumerate(self.diurnal_envelope):
            _in_range(f"diurnal_envelope[{h}]", v, 0.0, 1.0, low_open=True)
        _in_range("mobility_s_per_superstep", self.mobility_s_per_superstep, 0.0)
        _in_range("tti_samples", self.tti_samples, 0, self.ttis_per_superstep)

    def hour_of_day(self, step: float) -> float:
        """Hour of day (in [0, 24)) at the start of super-step ``step``.

        Args:
            step: Super-step index (may be fractional).

        Returns:
            ``(start_hour + step · superstep_minutes / 60) mod 24``.
        """
        return float((self.start_hour + step * self.superstep_minutes / 60.0) % 24.0)

    def load_factor(self, step: float | np.ndarray) -> float | np.ndarray:
        """Load envelope at a super-step, linearly interpolated between hourly values.

        The envelope value for hour ``h`` sits at ``h:00``; between 23:00 and 24:00 it
        interpolates back to the 00:00 value (24 h wrap).

        Args:
            step: Super-step index, scalar or array (may be fractional).

        Returns:
            Load factor in (0, 1]; a ``float`` for a scalar step, else an array of the
            step's shape.
        """
        hour = (
            self.start_hour + np.asarray(step, dtype=np.float64) * self.superstep_minutes / 60.0
        ) % 24.0
        env = np.asarray(self.diurnal_envelope + self.diurnal_envelope[:1], dtype=np.float64)
        value = np.interp(hour, np.arange(25.0), env)  # [25] knots: 0 h … 24 h (= 0 h)
        return float(value) if np.ndim(value) == 0 else value


@dataclass(frozen=True)
class Handover:
    """A3 handover and radio-link-failure parameters (TS 38.331 §5.5.4.4, TS 38.133).

    Attributes:
        hysteresis_db: A3 hysteresis in dB, in [0, 30].
        ttt_ms: Time-to-trigger in ms, >= 0.
        l3_filter_k: Layer-3 filter coefficient k (a = 1/2^(k/4)), in [0, 19].
        rlf_sinr_db: SINR below which the radio link is out of sync (Qout), in dB.
        rlf_ms: Time out of sync before radio-link failure (T310) in ms, >= 0.
        pingpong_s: A handover back to the previous cell within this many seconds counts
            as a ping-pong, >= 0.
    """

    hysteresis_db: float = 2.0
    ttt_ms: float = 160.0
    l3_filter_k: int = 4
    rlf_sinr_db: float = -8.0
    rlf_ms: float = 50.0
    pingpong_s: float = 1.0

    def __post_init__(self) -> None:
        _canonicalise(self)
        _in_range("hysteresis_db", self.hysteresis_db, 0.0, 30.0)
        _in_range("ttt_ms", self.ttt_ms, 0.0)
        _in_range("l3_filter_k", self.l3_filter_k, 0, 19)
        _in_range("rlf_ms", self.rlf_ms, 0.0)
        _in_range("pingpong_s", self.pingpong_s, 0.0)


@dataclass(frozen=True)
class Knob:
    """A per-cell control knob and its physical range.

    The action in [-1, 1] maps linearly to [low, high]; ``sleep`` is thresholded
    (low = 0 awake, high = 1 asleep).

    Attributes:
        name: One of :data:`KNOB_NAMES`: ``power_offset_db`` (dB added to ``tx_power_dbm``),
            ``tilt_deg`` (absolute electrical downtilt, degrees, within [-90, 90]),
            ``cio_db`` (cell individual offset, dB), ``sleep``.
        low: Lower end of the range (in the knob's unit).
        high: Upper end of the range, > low.
    """

    name: str
    low: float
    high: float

    def __post_init__(self) -> None:
        _canonicalise(self)
        _one_of("name", self.name, KNOB_NAMES)
        if not self.low < self.high:
            raise FieldError("high", f"{self.high!r} must be > low = {self.low!r}")
        if self.name == "sleep" and (self.low, self.high) != (0.0, 1.0):
            raise FieldError(
                "low", f"sleep knob range [{self.low:g}, {self.high:g}] must be [0, 1]"
            )
        if self.name == "tilt_deg":
            _in_range("low", self.low, -90.0, 90.0)
            _in_range("high", self.high, -90.0, 90.0)


DEFAULT_KNOBS: tuple[Knob, ...] = (
    Knob("power_offset_db", -10.0, 0.0),
    Knob("tilt_deg", 0.0, 15.0),
    Knob("cio_db", -6.0, 6.0),
    Knob("sleep", 0.0, 1.0),
)


@dataclass(frozen=True)
class RewardWeights:
    """Weights of the reward terms (see the env docstring for their normalisation).

    Attributes:
        throughput: Weight of the (normalised, log) throughput term.
        energy: Weight of the (normalised) energy penalty.
        coverage: Weight of the coverage-hole penalty (share of active UEs whose SINR is below
            ``coverage_sinr_db``).
        handover: Weight of the handover-rate penalty (handovers per UE in the super-step).
        coverage_sinr_db: SINR threshold of coverage in dB (a UE below it is a hole).
    """

    throughput: float = 1.0
    energy: float = 0.2
    coverage: float = 1.0
    handover: float = 0.1
    coverage_sinr_db: float = -5.0

    def __post_init__(self) -> None:
        _canonicalise(self)
        for name in ("throughput", "energy", "coverage", "handover"):
            _in_range(name, getattr(self, name), 0.0)


# --------------------------------------------------------------------------------------------
# Scenario and its flat cell table
# --------------------------------------------------------------------------------------------


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class CellTable:
    """The cells of a scenario as flat, read-only numpy arrays.

    Cell index = order of sites, then of their sectors.

    Attributes:
        site: ``[n_cells]`` int64, index of the cell's site.
        x_m: ``[n_cells]`` float64, site x in metres.
        y_m: ``[n_cells]`` float64, site y in metres.
        height_m: ``[n_cells]`` float64, antenna height in metres.
        azimuth_deg: ``[n_cells]`` float64, boresight azimuth in [-180, 180) degrees.
        tilt_deg: ``[n_cells]`` float64, default downtilt in degrees.
        tx_power_dbm: ``[n_cells]`` float64, transmit power in dBm.
        carrier_ghz: ``[n_cells]`` float64, carrier in GHz.
        bandwidth_mhz: ``[n_cells]`` float64, bandwidth in MHz.
        n_prb: ``[n_cells]`` int64, PRBs.
        n_vertical: ``[n_cells]`` int64, vertical antenna elements.
        kind: ``[n_cells]`` numpy str array, ``"macro"`` or ``"small"``.
    """

    site: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    height_m: np.ndarray
    azimuth_deg: np.ndarray
    tilt_deg: np.ndarray
    tx_power_dbm: np.ndarray
    carrier_ghz: np.ndarray
    bandwidth_mhz: np.ndarray
    n_prb: np.ndarray
    n_vertical: np.ndarray
    kind: np.ndarray

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.site.shape[0])

    @classmethod
    def from_deployment(cls, deployment: Deployment) -> CellTable:
        """Flatten a deployment into a cell table.

        Args:
            deployment: The deployment.

        Returns:
            The :class:`CellTable`, arrays ``[n_cells]`` read-only.
        """
        rows = [(i, site, sec) for i, site in enumerate(deployment.sites) for sec in site.sectors]
        f64 = np.float64

        def col(fn: Any, dtype: Any) -> np.ndarray:
            return _readonly(np.asarray([fn(i, s, c) for i, s, c in rows], dtype=dtype))

        return cls(
            site=col(lambda i, s, c: i, np.int64),
            x_m=col(lambda i, s, c: s.x_m, f64),
            y_m=col(lambda i, s, c: s.y_m, f64),
            height_m=col(lambda i, s, c: s.height_m, f64),
            azimuth_deg=col(lambda i, s, c: c.azimuth_deg, f64),
            tilt_deg=col(lambda i, s, c: c.tilt_deg, f64),
            tx_power_dbm=col(lambda i, s, c: c.tx_power_dbm, f64),
            carrier_ghz=col(lambda i, s, c: c.carrier_ghz, f64),
            bandwidth_mhz=col(lambda i, s, c: c.bandwidth_mhz, f64),
            n_prb=col(lambda i, s, c: c.n_prb, np.int64),
            n_vertical=col(lambda i, s, c: c.n_vertical, np.int64),
            kind=col(lambda i, s, c: s.kind, np.str_),
        )


@dataclass(frozen=True)
class Scenario:
    """One simulated world: deployment, environment, users, time, control and reward.

    Attributes:
        name: Short identifier (non-empty).
        description: Human-readable description; its first line is the one-line summary.
        deployment: Sites and sectors.
        propagation: Radio environment.
        ues: UE population.
        timing: Time structure and load envelope.
        handover: Handover / RLF parameters.
        knobs: The controllable per-cell knobs and their ranges (unique names); a knob left
            out is fixed at its default (offset 0 dB, the sector tilt, CIO 0 dB, awake).
        reward: Reward weights.
    """

    name: str
    description: str
    deployment: Deployment
    propagation: Propagation
    ues: UEPopulation
    timing: Timing = field(default_factory=Timing)
    handover: Handover = field(default_factory=Handover)
    knobs: tuple[Knob, ...] = DEFAULT_KNOBS
    reward: RewardWeights = field(default_factory=RewardWeights)

    def __post_init__(self) -> None:
        _canonicalise(self)
        if not self.name.strip():
            raise FieldError("name", f"{self.name!r} must be a non-empty string")
        names = [k.name for k in self.knobs]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise FieldError(f"knobs[{i}].name", f"{n!r} appears twice; knob names are unique")
        tilt = self.knob("tilt_deg")
        if tilt is not None:
            for i, site in enumerate(self.deployment.sites):
                for j, sector in enumerate(site.sectors):
                    if not tilt.low <= sector.tilt_deg <= tilt.high:
                        raise FieldError(
                            f"deployment.sites[{i}].sectors[{j}].tilt_deg",
                            f"{sector.tilt_deg!r} must lie in the tilt_deg knob range "
                            f"[{tilt.low:g}, {tilt.high:g}]",
                        )

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return len(self.deployment.sites)

    @property
    def n_cells(self) -> int:
        """Number of cells (sectors over all sites)."""
        return sum(len(s.sectors) for s in self.deployment.sites)

    def knob(self, name: str) -> Knob | None:
        """The knob called ``name``, or ``None`` if it is not controllable here.

        Args:
            name: A knob name from :data:`KNOB_NAMES`.

        Returns:
            The :class:`Knob` or ``None``.
        """
        for k in self.knobs:
            if k.name == name:
                return k
        return None

    def cells(self) -> CellTable:
        """The flat per-cell table (computed once, then cached; arrays are read-only).

        Returns:
            :class:`CellTable` with arrays ``[n_cells]``.
        """
        table = self.__dict__.get("_cells")
        if table is None:
            table = CellTable.from_deployment(self.deployment)
            object.__setattr__(self, "_cells", table)
        return table

    def default_config(self) -> CellConfig:
        """The configuration in force at reset: offset 0, sector tilts, CIO 0, all awake.

        Returns:
            :class:`~rantwin.scenarios.config.CellConfig`.
        """
        from .config import CellConfig

        return CellConfig.default(self)
