"""Φ features of scenes: what physics alone says about every (cell, UE) link.

The twin conditions on these deterministic quantities and learns the rest (shadowing,
fading, scheduling, traffic, handover hysteresis) as distributions. Everything here comes
from :mod:`rantwin.radio` — the same functions the simulator uses — with the stochastic
parts replaced by their means:

- coupling gain = antenna gain − path loss, as LOS and NLOS, and the LOS probability
  (TR 38.901 Tables 7.4.1-1 / 7.4.2-1); the expected gain mixes them in dB;
- O2I loss of indoor UEs at the mean indoor distance with no random part (§7.4.3);
- RSRP per RE (TS 38.215), Φ serving cell = strongest RSRP + CIO among awake cells;
- Φ geometry SINR: all co-channel awake cells transmitting, no fading.

UE heights are the scenario's ``ue_height_m`` (the simulator's indoor floors are unknown to
the twin, as they are to an operator). Everything is batched over ``B`` scenes of one
scenario (same cells, same number of UEs), so an environment batch is one call.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rantwin.radio import geometry, noise, o2i, pathloss, phi
from rantwin.radio.antenna import sector_gain_dbi
from rantwin.radio.link import rsrp_dbm
from rantwin.scenarios import CellConfig, Scenario

#: Mean of min(U(0, a), U(0, a)) = a/3, TR 38.901 §7.4.3.1 (a = 25 m; 10 m for RMa).
_MEAN_INDOOR_DISTANCE_M = {True: 10.0 / 3, False: 25.0 / 3}


@dataclass(frozen=True)
class SceneInputs:
    """What the twin conditions on for one super-step of one world.

    ``ue_xy_m`` etc. come from a dataset (training) or from the UE population process of the
    environment (inference).
    """

    scenario: Scenario
    config: CellConfig
    ue_xy_m: np.ndarray  # [n_ues, 2]
    ue_indoor: np.ndarray  # [n_ues] bool
    ue_speed_mps: np.ndarray  # [n_ues]
    load_factor: float
    hour: float
    prev_config: CellConfig | None = None  # config of the previous super-step (None: same)
    #: where each UE was at the end of the previous super-step, i.e. where this super-step's
    #: walk started (datasets: the ``x_start_m`` / ``y_start_m`` columns; None: unknown)
    prev_ue_xy_m: np.ndarray | None = None  # [n_ues, 2]
    #: Φ serving cell at the walk's start under the previous config, i.e. the previous
    #: super-step's Φ serving cell, if the caller has it (saves a Φ pass; None: computed)
    prev_ue_serving: np.ndarray | None = None  # [n_ues] int

    def following(self, prev: SceneInputs, prev_serving: np.ndarray | None = None) -> SceneInputs:
        """These inputs as the super-step after ``prev`` in the same episode.

        Takes ``prev``'s config (the config change) and, when the UE count matches, where
        each UE's walk started (``prev``'s positions) and, if given, ``prev``'s Φ serving
        cells (``[n_ues]``, the graph's ``phi_serving``).
        """
        out = dataclasses.replace(self, prev_config=prev.config)
        if np.shape(prev.ue_xy_m) == np.shape(self.ue_xy_m):
            out = dataclasses.replace(out, prev_ue_xy_m=prev.ue_xy_m, prev_ue_serving=prev_serving)
        return out


#: Knobs whose change since the previous super-step the twin sees (``config_delta``).
DELTA_KNOBS = ("power_offset_db", "tilt_deg", "cio_db", "sleep")


def config_delta(config: CellConfig, prev: CellConfig | None) -> np.ndarray:
    """Change of every knob since the previous super-step (config in transition).

    **Output:** ``[n_cells, len(DELTA_KNOBS)]`` float64: power dB, tilt deg, CIO dB, sleep
    (+1 went to sleep, −1 woke up); zeros when ``prev`` is ``None`` (first super-step).
    """
    now = np.stack([np.asarray(getattr(config, k), float) for k in DELTA_KNOBS], -1)
    if prev is None:
        return np.zeros_like(now)
    before = np.stack([np.asarray(getattr(prev, k), float) for k in DELTA_KNOBS], -1)
    return now - before


def _host(data: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A CPU tensor of host data (numpy arrays, lists), whatever torch's default device."""
    return torch.tensor(data, dtype=dtype, device="cpu")


@dataclass(frozen=True)
class SceneBatch:
    """``B`` scenes of one scenario with the same number of UEs (float64 tensors)."""

    scenario: Scenario
    configs: tuple[CellConfig, ...]  # B configs
    ue_xy_m: torch.Tensor  # [B, n_ues, 2]
    ue_indoor: torch.Tensor  # [B, n_ues] bool
    ue_speed_mps: torch.Tensor  # [B, n_ues]
    load_factor: torch.Tensor  # [B]
    hour: torch.Tensor  # [B]
    config_delta: torch.Tensor | None = None  # [B, n_cells, 4] float64, see config_delta()
    #: start of each UE's walk of this super-step (``ue_xy_m`` where unknown) and whether it
    #: is known; None: unknown for every scene
    ue_start_xy_m: torch.Tensor | None = None  # [B, n_ues, 2] float64
    start_known: torch.Tensor | None = None  # [B] bool
    #: Φ serving cell at each walk's start under the previous config (−1: not given, computed)
    start_serving: torch.Tensor | None = None  # [B, n_ues] long

    @staticmethod
    def of(scenes: Sequence[SceneInputs]) -> SceneBatch:
        """Stack scenes of one scenario with equal UE counts.

        Raises:
            ValueError: Empty list, several scenarios, differing UE counts, a scene with no
                UE, or NaN/inf inputs (naming the input).
        """
        if not scenes:
            raise ValueError("need at least one scene")
        sc = scenes[0].scenario
        for s in scenes:
            if s.scenario is not sc and s.scenario != sc:
                raise ValueError("all scenes of a SceneBatch must share one scenario")
        xy = [np.asarray(s.ue_xy_m, dtype=float) for s in scenes]
        for a in xy:
            if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] != 2:
                raise ValueError(f"ue_xy_m must have shape [n_ues >= 1, 2], got {a.shape}")
        if len({a.shape for a in xy}) != 1:
            raise ValueError("all scenes of a SceneBatch must have the same number of UEs")
        start, known = None, None
        if any(s.prev_ue_xy_m is not None for s in scenes):
            start_l = []
            for s, a in zip(scenes, xy, strict=True):
                p = a if s.prev_ue_xy_m is None else np.asarray(s.prev_ue_xy_m, dtype=float)
                if p.shape != a.shape:
                    raise ValueError(
                        f"prev_ue_xy_m must have the shape of ue_xy_m {a.shape}, got {p.shape}"
                    )
                start_l.append(p)
            start = _host(np.stack(start_l))
            known = _host([s.prev_ue_xy_m is not None for s in scenes])
        cached = None
        if any(s.prev_ue_serving is not None for s in scenes):
            n_cells = sc.n_cells
            rows = []
            for s, a in zip(scenes, xy, strict=True):
                if s.prev_ue_serving is None:
                    rows.append(np.full(a.shape[0], -1, np.int64))
                    continue
                v = np.asarray(s.prev_ue_serving)
                if v.shape != (a.shape[0],) or v.min() < 0 or v.max() >= n_cells:
                    raise ValueError(
                        f"prev_ue_serving must be [{a.shape[0]}] cell indices in "
                        f"[0, {n_cells}), got shape {v.shape}"
                    )
                rows.append(v.astype(np.int64))
            cached = _host(np.stack(rows))
        out = SceneBatch(
            scenario=sc,
            configs=tuple(s.config for s in scenes),
            ue_xy_m=_host(np.stack(xy)),
            ue_indoor=_host(np.stack([np.asarray(s.ue_indoor, bool) for s in scenes])),
            ue_speed_mps=_host(np.stack([np.asarray(s.ue_speed_mps, float) for s in scenes])),
            load_factor=_host([float(s.load_factor) for s in scenes], dtype=torch.float64),
            hour=_host([float(s.hour) for s in scenes], dtype=torch.float64),
            config_delta=_host(np.stack([config_delta(s.config, s.prev_config) for s in scenes])),
            ue_start_xy_m=start,
            start_known=known,
            start_serving=cached,
        )
        out.check_finite()
        return out

    def check_finite(self) -> None:
        """Raise ``ValueError`` naming the first input with NaN/inf."""
        for name in ("ue_xy_m", "ue_speed_mps", "load_factor", "hour", "ue_start_xy_m"):
            v = getattr(self, name)
            if v is not None and not bool(torch.isfinite(v).all()):
                raise ValueError(f"{name} must be finite, got NaN/inf in the scene inputs")

    def select(self, start: int, stop: int) -> SceneBatch:
        """Scenes ``start:stop`` of the batch (every per-scene field sliced alike)."""
        delta = None if self.config_delta is None else self.config_delta[start:stop]
        walk0 = None if self.ue_start_xy_m is None else self.ue_start_xy_m[start:stop]
        known = None if self.start_known is None else self.start_known[start:stop]
        cached = None if self.start_serving is None else self.start_serving[start:stop]
        return dataclasses.replace(
            self,
            configs=self.configs[start:stop],
            ue_xy_m=self.ue_xy_m[start:stop],
            ue_indoor=self.ue_indoor[start:stop],
            ue_speed_mps=self.ue_speed_mps[start:stop],
            load_factor=self.load_factor[start:stop],
            hour=self.hour[start:stop],
            config_delta=delta,
            ue_start_xy_m=walk0,
            start_known=known,
            start_serving=cached,
        )

    @property
    def size(self) -> int:
        """Number of scenes ``B``."""
        return int(self.ue_xy_m.shape[0])

    @property
    def n_ues(self) -> int:
        """UEs per scene."""
        return int(self.ue_xy_m.shape[1])

    @property
    def device(self) -> torch.device:
        """Where the batch's tensors are (and the ones it derives: :meth:`knob`, :meth:`delta`)."""
        return self.ue_xy_m.device

    def to(self, device: torch.device | str) -> SceneBatch:
        """The same batch with every tensor on ``device`` (itself if already there)."""
        device = torch.device(device)
        if self.device == device:
            return self
        moved: dict[str, Any] = {
            f.name: v.to(device)
            for f in dataclasses.fields(self)
            if isinstance(v := getattr(self, f.name), torch.Tensor)
        }
        return dataclasses.replace(self, **moved)

    def delta(self) -> torch.Tensor:
        """Knob changes since the previous super-step ``[B, n_cells, 4]`` (zeros if unknown)."""
        if self.config_delta is None:
            n_cells = self.scenario.n_cells
            return torch.zeros(
                self.size, n_cells, len(DELTA_KNOBS), dtype=torch.float64, device=self.device
            )
        return self.config_delta.double()

    def awake_before(self) -> torch.Tensor:
        """``[B, n_cells]`` bool: awake under the previous super-step's config."""
        asleep_now = self.knob("sleep").double()  # [B, C]
        return ~(asleep_now - self.delta()[..., 3]).round().bool()

    def knob(self, name: str) -> torch.Tensor:
        """A knob of every config, ``[B, n_cells]`` (float64, sleep as bool; a new tensor).

        The configs are stacked once per knob and batch: Φ, the walk's crossings and the
        graph's features each read the knobs.
        """
        arr = self._stacked.get(name)
        if arr is None:
            arr = np.stack([np.asarray(getattr(c, name)) for c in self.configs])  # [B, C]
            self._stacked[name] = arr
        return torch.tensor(arr, device=self.device)

    @functools.cached_property
    def _stacked(self) -> dict[str, np.ndarray]:
        """The knobs stacked so far (per instance: ``dataclasses.replace`` starts afresh)."""
        return {}


class ScenarioStatics:
    """Per-scenario constants of Φ, computed once and shared by every batch.

    Args:
        scenario: The scenario.
        device: Where the tables live (and so where Φ and the graphs of
            :func:`.graph.build_batch` are computed); default CPU.
    """

    def __init__(self, scenario: Scenario, device: torch.device | str | None = None):
        self.scenario = scenario
        self.device = torch.device("cpu" if device is None else device)
        #: tables derived from the statics by other modules, built once (e.g. neighbour edges)
        self.derived: dict[tuple[object, ...], Any] = {}
        with torch.device("cpu"):  # built on the CPU whatever the default device, then moved
            self._build(scenario)
        if self.device.type != "cpu":
            for name, v in list(vars(self).items()):
                if isinstance(v, torch.Tensor):
                    setattr(self, name, v.to(self.device))

    def _build(self, scenario: Scenario) -> None:
        t = scenario.cells()
        f64 = torch.float64
        self.cell_xy_m = torch.tensor(np.stack([t.x_m, t.y_m], -1), dtype=f64)  # [C, 2]
        self.cell_h_m = torch.tensor(np.array(t.height_m), dtype=f64)  # [C]
        self.azimuth_deg = torch.tensor(np.array(t.azimuth_deg), dtype=f64)  # [C]
        self.carrier_ghz = torch.tensor(np.array(t.carrier_ghz), dtype=f64)  # [C]
        self.n_prb = torch.tensor(np.array(t.n_prb), dtype=f64)  # [C]
        self.n_vertical = torch.tensor(np.array(t.n_vertical), dtype=torch.long)  # [C]
        counts = {int(m) for m in t.n_vertical}
        #: the count every cell shares (``None``: they differ). Φ passes it to the antenna
        #: pattern as a Python int, which then takes its branch without reading a tensor
        #: (a compiled Φ stays one graph)
        self.n_vertical_shared: int | None = counts.pop() if len(counts) == 1 else None
        self.tx_nominal_dbm = torch.tensor(np.array(t.tx_power_dbm), dtype=f64)  # [C]
        self.site = torch.tensor(np.array(t.site), dtype=torch.long)  # [C]
        self.small = torch.tensor(np.asarray(t.kind) == "small")  # [C]
        self.height_m = np.array(t.height_m)
        sites = scenario.deployment.sites
        self.site_xy_m = torch.tensor([[s.x_m, s.y_m] for s in sites], dtype=f64)  # [S, 2]
        self.site_h_m = torch.tensor([s.height_m for s in sites], dtype=f64)  # [S]
        dep = scenario.deployment
        self.wrap = (
            geometry.wraparound_offsets(dep.n_rings, dep.isd_m).double()
            if dep.wraparound and dep.n_rings is not None and dep.isd_m is not None
            else None
        )
        prop = scenario.propagation
        scs_hz = dep.scs_khz * 1e3
        self.noise_prb_mw = 10 ** (
            float(noise.thermal_noise_dbm(12 * scs_hz, prop.noise_figure_db)) / 10
        )
        d_in = _MEAN_INDOOR_DISTANCE_M[prop.model == "38901-rma"]
        models = ("low", "high") if prop.o2i_model == "mixed" else (prop.o2i_model,)
        self.o2i_mean_db = sum(o2i.o2i_loss_db(m, self.carrier_ghz, d_in) for m in models) / len(
            models
        )  # [C]
        c = self.carrier_ghz
        self.cochannel_cells = c[:, None] == c[None, :]  # [C, C] bool: same carrier
        #: σ_SF in dB (LOS, NLOS) of the scenario's model, as Python floats (a compiled
        #: caller reads them without reading a tensor)
        self.shadow_std_db = tuple(
            float(pathloss.shadowing_std_db(prop.model, los)) for los in (True, False)
        )


@dataclass(frozen=True)
class PhiLinks:
    """Φ quantities of every link, float32 ``[B, n_cells, n_ues]`` unless noted."""

    rsrp_dbm: torch.Tensor
    p_los: torch.Tensor
    distance_2d_m: torch.Tensor
    azimuth_offset_deg: torch.Tensor
    zenith_deg: torch.Tensor
    cochannel: torch.Tensor  # bool: cell shares the carrier of the UE's Φ serving cell
    awake: torch.Tensor  # [B, n_cells] bool
    serving: torch.Tensor  # [B, n_ues] long, Φ serving cell
    sinr_db: torch.Tensor  # [B, n_ues] Φ geometry SINR
    prev_serving: torch.Tensor  # [B, n_ues] long, Φ serving cell under the previous config


def mean_gain_db(
    st: ScenarioStatics,
    ue_xy_m: torch.Tensor,  # [B, P, 2] positions
    ue_indoor: torch.Tensor,  # [B, P] bool
    tilt_deg: torch.Tensor,  # [B, C] float64, tilt in force
) -> tuple[geometry.LinkGeometry, torch.Tensor, torch.Tensor]:
    """Φ's mean coupling gain from every cell to ``P`` points of each scene, float64.

    Antenna gain − path loss mixed over LOS / NLOS in dB (TR 38.901 Tables 7.4.1-1 /
    7.4.2-1) − the mean O2I loss of indoor points (§7.4.3); UE height of the scenario.

    **Output:** the link geometry, the LOS probability and the gain in dB, each
    ``[B, n_cells, P]``.
    """
    f = torch.float64
    prop = st.scenario.propagation
    b, n_pts = ue_xy_m.shape[0], ue_xy_m.shape[1]
    h_ue = torch.full((b, n_pts), prop.ue_height_m, dtype=f, device=ue_xy_m.device)  # [B, P]
    site_geo = geometry.link_geometry(
        ue_xy_m.to(f),
        h_ue,
        st.site_xy_m.to(f),
        st.site_h_m.to(f),
        0.0,
        None if st.wrap is None else st.wrap.to(f),
    )  # [B, n_sites, P]: sectors share their site's position (a third of the work)
    geo = geometry.expand_to_cells(site_geo, st.site, st.azimuth_deg.to(f))  # [B, C, P]
    # Pr_LOS depends on d_2D and h_UT only: per site, then to the site's sectors (same bits)
    p_los = pathloss.los_probability(
        prop.model, site_geo.distance_2d_m, h_ue[:, None, :]
    ).index_select(1, st.site)  # [B, n_sites, P] -> [B, C, P]
    gain = phi.mean_coupling_gain_db(
        geo, prop.model, st.carrier_ghz.to(f), st.cell_h_m.to(f), h_ue, tilt_deg.to(f),
        st.n_vertical if st.n_vertical_shared is None else st.n_vertical_shared, p_los,
    )  # fmt: skip
    o2i_db = torch.as_tensor(st.o2i_mean_db, dtype=f, device=ue_xy_m.device)  # [C]
    gain = gain - ue_indoor[:, None, :].to(f) * o2i_db[None, :, None]
    return geo, p_los, gain


def best_cell(
    rsrp_dbm: torch.Tensor,  # [B, C, P]
    cio_db: torch.Tensor,  # [B, C]
    awake: torch.Tensor,  # [B, C] bool
) -> torch.Tensor:
    """Φ's association rule: the awake cell with the strongest RSRP + CIO at each point.

    **Output:** ``[B, P]`` long.
    """
    score = torch.where(
        awake[..., None], rsrp_dbm + cio_db[..., None], torch.full_like(rsrp_dbm, -torch.inf)
    )
    # max(...).indices, not argmax: the same indices (the first maximum on ties, as
    # documented for both) and several times faster when reducing a middle dimension
    return score.max(1).indices


@dataclass(frozen=True)
class PhiInputs:
    """The tensors of a :class:`SceneBatch` that Φ reads: no per-scene Python objects.

    What :func:`phi_tables` takes, so a compiled Φ (:mod:`.compiled`) sees symbolic batch
    sizes instead of a tuple of ``B`` configs (whose length it would otherwise guard on,
    recompiling for every new batch size).
    """

    ue_xy_m: torch.Tensor  # [B, n_ues, 2] float64
    ue_indoor: torch.Tensor  # [B, n_ues] bool
    tilt_deg: torch.Tensor  # [B, n_cells] float64, in force
    power_offset_db: torch.Tensor  # [B, n_cells] float64
    cio_db: torch.Tensor  # [B, n_cells] float64
    awake: torch.Tensor  # [B, n_cells] bool, in force
    delta: torch.Tensor  # [B, n_cells, 4] float64, change since the previous super-step
    awake_before: torch.Tensor  # [B, n_cells] bool, under the previous config
    #: whether any knob / the tilt of any cell changed (read once here, so that Φ skips the
    #: previous config's serving cells without reading a tensor: a compiled Φ specialises
    #: on these two flags instead of being cut where it would read them). True is always
    #: right, only slower: zero deltas give the serving cells of now
    changed: bool = True
    tilt_changed: bool = True

    @staticmethod
    def of(scenes: SceneBatch) -> PhiInputs:
        """The knobs of ``scenes``' configs as tensors, next to its UE positions."""
        delta = scenes.delta()  # [B, C, 4]
        return PhiInputs(
            ue_xy_m=scenes.ue_xy_m,
            ue_indoor=scenes.ue_indoor,
            tilt_deg=scenes.knob("tilt_deg").double(),
            power_offset_db=scenes.knob("power_offset_db").double(),
            cio_db=scenes.knob("cio_db").double(),
            awake=~scenes.knob("sleep"),
            delta=delta,
            awake_before=scenes.awake_before(),
            changed=bool(delta.ne(0).any()),
            tilt_changed=bool(delta[..., 1].ne(0).any()),
        )


def phi_links(st: ScenarioStatics, scenes: SceneBatch) -> PhiLinks:
    """Compute the Φ link tables of a batch of scenes (float64 inside, float32 out).

    float64 on purpose: float32 would be ~10 % faster per batched twin step, but vectorised
    and scalar code paths of transcendental functions then differ in the last bit depending
    on where a scene sits in the batch, and scene ``b`` of a batch would no longer be bitwise
    equal to the same scene elsewhere in another batch (common random numbers in paired
    policy evaluations rely on that). Rounded to float32 at the end, those differences vanish.
    """
    return phi_tables(st, PhiInputs.of(scenes))


def phi_tables(st: ScenarioStatics, x: PhiInputs) -> PhiLinks:
    """:func:`phi_links` on the scenes' tensors (the part :mod:`.compiled` compiles)."""
    f = torch.float64
    tilt = x.tilt_deg.to(f)  # [B, C]
    geo, p_los, gain = mean_gain_db(st, x.ue_xy_m, x.ue_indoor, tilt)  # [B, C, U]
    tx = (st.tx_nominal_dbm + x.power_offset_db).to(f)  # [B, C]
    n_prb = st.n_prb.to(f)  # [C]
    rsrp = rsrp_dbm(tx[..., None], n_prb[:, None], gain)  # [B, C, U]
    awake = x.awake  # [B, C]
    cio = x.cio_db.to(f)  # [B, C]
    serving = best_cell(rsrp, cio, awake)  # [B, U]
    prev_serving = _prev_serving(x, geo, st, tilt, rsrp, cio, serving)
    rx_mw = 10 ** (((tx - 10 * torch.log10(n_prb))[..., None] + gain) / 10)  # [B, C, U]
    # cell c shares the carrier of UE u's serving cell
    cochannel = st.cochannel_cells[:, serving].permute(1, 0, 2)  # [B, C, U]
    s = torch.gather(rx_mw, 1, serving[:, None, :])[:, 0]  # [B, U]
    # sum over cells as C elementwise adds: a reduction over the middle dim is several times
    # slower, and adds in a fixed order give every scene the same bits wherever it sits
    rx_co = rx_mw * (cochannel & awake[..., None])  # [B, C, U]
    i = rx_co[:, 0].clone()  # [B, U]
    for c in range(1, rx_co.shape[1]):
        i += rx_co[:, c]
    i = i - s  # [B, U]
    sinr = 10 * torch.log10(s / (i.clamp_min(0) + st.noise_prb_mw))
    return PhiLinks(
        rsrp_dbm=rsrp.float(),
        p_los=p_los.float(),
        distance_2d_m=geo.distance_2d_m.float(),
        azimuth_offset_deg=geo.azimuth_offset_deg.float(),
        zenith_deg=geo.zenith_deg.float(),
        cochannel=cochannel,
        awake=awake,
        serving=serving,
        sinr_db=sinr.float(),
        prev_serving=prev_serving,
    )


def _prev_serving(
    x: PhiInputs,
    geo: geometry.LinkGeometry,
    st: ScenarioStatics,
    tilt: torch.Tensor,  # [B, C] float64, in force
    rsrp: torch.Tensor,  # [B, C, U] float64, in force
    cio: torch.Tensor,  # [B, C] float64, in force
    serving: torch.Tensor,  # [B, U] long, in force
) -> torch.Tensor:
    """Φ serving cell of every UE, at its present position, under the previous config.

    Where it differs from the Φ serving cell now, the config change itself hands the UE over
    (its A3 condition now holds towards the new cell). RSRP is linear in the transmit power
    and the antenna gain, so the old RSRP is the present one minus the power change plus the
    antenna-gain change of the tilt (the path loss does not depend on the config).

    **Output:** ``[B, U]`` long (``serving`` itself where nothing changed).
    """
    delta = x.delta  # [B, C, 4] power, tilt, CIO, sleep (zeros when unknown)
    if not x.changed:
        return serving
    rsrp_prev = rsrp - delta[..., 0:1]  # [B, C, U]
    if x.tilt_changed:
        n_v = st.n_vertical[:, None] if st.n_vertical_shared is None else st.n_vertical_shared
        az, zen = geo.azimuth_offset_deg, geo.zenith_deg  # [B, C, U]
        rsrp_prev = rsrp_prev + (
            sector_gain_dbi(az, zen, (tilt - delta[..., 1])[..., None], n_v)
            - sector_gain_dbi(az, zen, tilt[..., None], n_v)
        )
    return best_cell(rsrp_prev, cio - delta[..., 2], x.awake_before)  # [B, U]
