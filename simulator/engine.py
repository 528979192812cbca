"""The reference stochastic system-level simulator (the teacher).

One super-step (``step``) is, in order:

1. **config injection** — the :class:`~rantwin.scenarios.CellConfig` passed in is in force
   from this boundary on (tx power offset, tilt, CIO, sleep per cell);
2. **mobility gap** — UEs walk ``timing.mobility_s_per_superstep`` seconds of random
   waypoint; every ``handover.meas_period_ms`` the large-scale RSRP (path loss, antenna,
   shadowing, O2I; no fast fading, which L3 filtering averages out) feeds the A3 state
   machine (:mod:`.handover`); UEs of cells that went to sleep are handed over;
3. **traffic** — full buffer (a UE is active with probability = the diurnal load factor) or
   FTP model 3 (Poisson file arrivals at ``arrival_rate_per_s × load factor``);
4. **TTI window** — ``timing.ttis_per_superstep`` TTIs of fading, PF scheduling, SINR,
   throughput and radio-link failure (:mod:`.window`);
5. **report** — per UE and per cell KPIs (:class:`~.report.SuperStepReport`).

Randomness comes from independent streams (:mod:`.rng`) stored in the state, so
``step(state, config)`` is a pure function and two configs stepped from the same state
share all their random numbers (common random numbers for paired comparisons).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rantwin.radio import energy, geometry, link, noise, o2i, pathloss, phi, shadowing
from rantwin.scenarios import CellConfig, Scenario, load_scenario
from rantwin.scenarios.mobility import Population, PopulationSampler, walk

from . import fading as fd
from .handover import HandoverCounts, HandoverState, force_off_sleeping, run_a3
from .report import SuperStepReport
from .rng import restore, spawn_generators
from .state import EpisodeStatics, SimState
from .window import WindowInputs, WindowResult, run_window

#: Number of frequency sub-bands a carrier is split into for fading and scheduling.
N_SUBBANDS = 4
#: L3 measurement period along the mobility gap (TS 38.133 L1 measurement period, typical).
MEAS_PERIOD_MS = 200.0
#: Most (episode, cell, UE, sub-band) links one batched TTI window holds: ``step_many`` splits
#: larger batches (all of 256 hex7-uma episodes, 32 hex19-uma ones: a window tensor stays
#: under 32 MB in float32).
MAX_WINDOW_LINKS = 2**23
#: Φ is evaluated every PHI_STRIDE measurement points of the gap (1 s); RSRP in between is
#: interpolated linearly in dB.
PHI_STRIDE = 5
#: Points of the mobility gap evaluated at once (bounds memory on large scenarios).
_CHUNK_POINTS = 8


@dataclass(frozen=True)
class _Cells:
    """The scenario's cell table as tensors (float64)."""

    site: torch.Tensor  # [n_cells] long
    xy_m: torch.Tensor  # [n_cells, 2]
    height_m: torch.Tensor  # [n_cells]
    azimuth_deg: torch.Tensor  # [n_cells]
    tx_power_dbm: torch.Tensor  # [n_cells] nominal
    carrier_ghz: torch.Tensor  # [n_cells]
    n_prb: torch.Tensor  # [n_cells]
    n_vertical: torch.Tensor  # [n_cells] long
    small: torch.Tensor  # [n_cells] bool


@dataclass(frozen=True)
class LargeScale:
    """Large-scale link quantities at the UEs' current positions (float64)."""

    coupling_gain_db: torch.Tensor  # [n_cells, n_ues] antenna − path loss − shadowing − O2I
    rsrp_dbm: torch.Tensor  # [n_cells, n_ues]
    serving: torch.Tensor  # [n_ues] long
    coupling_loss_db: torch.Tensor  # [n_ues] to the serving cell, positive
    geometry_sinr_db: torch.Tensor  # [n_ues] all co-channel awake cells on, noise included
    geometry_sir_db: torch.Tensor  # [n_ues] same without noise


@dataclass(frozen=True)
class _Gap:
    """A super-step of one episode up to its TTI window (:meth:`Simulator._gap`)."""

    state: SimState  # the state the super-step started from
    config: CellConfig  # validated config in force
    load: float  # traffic load factor of the super-step
    awake: torch.Tensor  # [n_cells] bool
    handover: HandoverState  # after the mobility gap and the forced moves off sleeping cells
    n_ho: torch.Tensor  # [n_ues] long, handovers in the gap
    n_pp: torch.Tensor  # [n_ues] long, ping-pongs in the gap
    ho_out: torch.Tensor  # [n_cells] long, handovers out of each cell
    xy: torch.Tensor  # [n_ues, 2] float64, positions during the window
    waypoint: torch.Tensor  # [n_ues, 2] float64
    t_window: float  # mobility clock at the window's start, s
    gain: torch.Tensor  # [n_cells, n_ues] coupling gain at the window, dB
    rsrp: torch.Tensor  # [n_cells, n_ues] dBm
    window: WindowInputs  # batch of one
    fading: fd.FadingState | None  # [n_cells, n_ues, n_sb] fading at the first TTI
    rng_mobility: torch.Generator
    rng_traffic: torch.Generator
    rng_fading: torch.Generator  # advanced past the fading draw, used by the window


@dataclass(frozen=True)
class _Walk:
    """An episode's mobility gap before its handovers (:meth:`Simulator._mobility`)."""

    config: CellConfig  # validated config in force
    rng_mobility: torch.Generator  # advanced past the walk
    awake: torch.Tensor  # [n_cells] bool
    cio: torch.Tensor  # [n_cells] float64, dB
    speed: torch.Tensor  # [n_ues] float64, m/s (0 for static UEs)
    xy: torch.Tensor  # [n_ues, 2] float64, where the walk ends
    waypoint: torch.Tensor  # [n_ues, 2] float64
    anchors: tuple[int, ...]  # measurement points where Φ is evaluated
    rsrp_anchor: torch.Tensor  # [n_anchors, n_cells, n_ues] dBm
    t_window: float  # mobility clock at the end of the walk, s


#: Fields of :class:`HandoverState`, in order (stacked and split by ``_gaps``).
_HO_FIELDS = tuple(f.name for f in dataclasses.fields(HandoverState))


def _stack_inputs(inputs: Sequence[WindowInputs]) -> WindowInputs:
    """Batches of one stacked along the batch dimension (the cell tables are shared)."""
    first = inputs[0]

    def cat(name: str) -> torch.Tensor:
        return torch.cat([getattr(i, name) for i in inputs])  # [B, ...]

    return WindowInputs(
        rx_mw=cat("rx_mw"),
        cochannel=cat("cochannel"),
        serving=cat("serving"),
        awake=cat("awake"),
        noise_mw=cat("noise_mw"),
        prb_per_subband=first.prb_per_subband,
        bits_per_prb_per_se=first.bits_per_prb_per_se,
        full_buffer=first.full_buffer,
        active=cat("active"),
        buffer_bits=cat("buffer_bits"),
        arrivals_bits=cat("arrivals_bits"),
        avg_rate=cat("avg_rate"),
    )


def _tensor(x, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A tensor owning a copy of ``x`` (scenario arrays are read-only)."""
    return torch.tensor(np.array(x), dtype=dtype)


class Simulator:
    """Stochastic system-level simulator of one scenario.

    Args:
        scenario: A :class:`~rantwin.scenarios.Scenario`, a built-in name or a YAML path.

    Example:
        >>> sim = Simulator("hex7-uma")
        >>> state = sim.reset(seed=0)
        >>> state, report = sim.step(state, sim.default_config())
    """

    def __init__(self, scenario: Scenario | str):
        self.scenario: Scenario = load_scenario(scenario)
        sc = self.scenario
        t = sc.cells()
        self.n_cells = sc.n_cells
        self.n_sites = sc.n_sites
        self.n_ues = sc.ues.count
        self._cells = _Cells(
            site=torch.tensor(np.array(t.site), dtype=torch.long),
            xy_m=_tensor(np.stack([t.x_m, t.y_m], -1), dtype=torch.float64),
            height_m=_tensor(t.height_m, dtype=torch.float64),
            azimuth_deg=_tensor(t.azimuth_deg, dtype=torch.float64),
            tx_power_dbm=_tensor(t.tx_power_dbm, dtype=torch.float64),
            carrier_ghz=_tensor(t.carrier_ghz, dtype=torch.float64),
            n_prb=_tensor(t.n_prb, dtype=torch.float64),
            n_vertical=_tensor(t.n_vertical, dtype=torch.long),
            small=_tensor(np.asarray(t.kind) == "small"),
        )
        dep = sc.deployment
        site_xy = torch.as_tensor(
            [[s.x_m, s.y_m] for s in dep.sites], dtype=torch.float64
        )  # [n_sites, 2]
        self._site_xy = site_xy
        self._site_h = torch.tensor([s.height_m for s in dep.sites], dtype=torch.float64)
        self._wrap = (
            geometry.wraparound_offsets(dep.n_rings, dep.isd_m).double()
            if dep.wraparound and dep.n_rings is not None and dep.isd_m is not None
            else None
        )
        self.population = PopulationSampler(sc)
        self.area = self.population.area
        scs_hz = dep.scs_khz * 1e3
        self._tti_s = sc.timing.tti_ms / 1000
        self._noise_prb_mw = 10 ** (
            float(noise.thermal_noise_dbm(12 * scs_hz, sc.propagation.noise_figure_db)) / 10
        )
        self._bits_per_prb_per_se = torch.full(
            (self.n_cells,),
            12 * scs_hz * (1 - link.OVERHEAD_FR1) * self._tti_s,
            dtype=torch.float64,
        )
        cc = self._cells.carrier_ghz
        self._same_carrier = (cc[:, None] == cc[None, :]).double()  # [n_cells, n_cells]

    # ------------------------------------------------------------------ public API
    def default_config(self) -> CellConfig:
        """The scenario's nominal configuration (no offsets, nominal tilts, all awake)."""
        return CellConfig.default(self.scenario)

    def reset(
        self, seed: int, config: CellConfig | None = None, scene_seed: int | None = None
    ) -> SimState:
        """Drop UEs and draw the episode's large-scale randomness.

        Args:
            seed: Non-negative integer; the same seed gives a bitwise-identical episode.
            config: Config used for the initial cell association (default: nominal).
            scene_seed: If given, UE placement and mobility come from this seed and
                everything else (shadowing, LOS, O2I, floors, traffic, fading) from
                ``seed``: replicas of one scene for measuring the simulator's own spread.

        Returns:
            The state before super-step 0.
        """
        sc = self.scenario
        cfg = self._check_config(config if config is not None else self.default_config())
        g = spawn_generators(seed, scene_seed)
        pop = self.population.draw(g["placement"])
        statics = self._draw_statics(pop, g["links"], g["shadowing"])
        xy, waypoint = pop.xy_m, pop.waypoint_m
        gain = self._gain_db(statics, xy[None], cfg)[0]  # [n_cells, n_ues]
        rsrp = self._rsrp_dbm(gain, cfg)
        awake = torch.as_tensor(~cfg.sleep)
        rule = gain if sc.propagation.association == "coupling-loss" else rsrp
        serving = torch.where(awake[:, None], rule, torch.full_like(rule, -torch.inf)).argmax(0)
        n = self.n_ues
        ho = HandoverState(
            l3_rsrp_dbm=rsrp,
            serving=serving,
            ttt_ms=torch.zeros(n, dtype=torch.float64),
            ttt_target=torch.full((n,), -1, dtype=torch.long),
            previous=torch.full((n,), -1, dtype=torch.long),
            last_ho_s=torch.full((n,), -math.inf, dtype=torch.float64),
        )
        return SimState(
            step=0,
            time_s=0.0,
            ue_xy_m=xy,
            waypoint_m=waypoint,
            handover=ho,
            buffer_bits=torch.zeros(n, dtype=torch.float64),
            avg_rate=torch.ones(n, dtype=torch.float64),
            rng_mobility=g["mobility"].get_state(),
            rng_traffic=g["traffic"].get_state(),
            rng_fading=g["fading"].get_state(),
            statics=statics,
            config=cfg,
        )

    def step(self, state: SimState, config: CellConfig) -> tuple[SimState, SuperStepReport]:
        """Advance one super-step under ``config`` (injected at this boundary).

        Args:
            state: The state returned by :meth:`reset` or a previous :meth:`step`.
            config: The per-cell configuration in force from now on.

        Returns:
            ``(next_state, report)``. ``state`` is left untouched.
        """
        return self.step_many([state], [config])[0]

    def step_many(
        self, states: Sequence[SimState], configs: Sequence[CellConfig]
    ) -> list[tuple[SimState, SuperStepReport]]:
        """Advance independent episodes of this scenario one super-step each.

        The same as ``[self.step(s, c) for s, c in zip(states, configs)]``, bit for bit
        (tested): each episode keeps its own random streams. The episodes share the Python loops
        of the handover gap (:func:`~.handover.run_a3`) and of the TTI window
        (:func:`~.window.run_window`), where a super-step spends most of its time on small
        networks, so ``B`` episodes cost less than ``B`` calls of :meth:`step`. Batches of
        more than :data:`MAX_WINDOW_LINKS` links are stepped in chunks.

        Args:
            states: ``B`` states (from :meth:`reset` or a previous step), ``B >= 1``.
            configs: ``B`` configurations, ``configs[b]`` in force in episode ``b``.

        Returns:
            ``B`` pairs ``(next_state, report)``. The states are left untouched.
        """
        if len(states) != len(configs):
            raise ValueError(f"got {len(configs)} configs for {len(states)} states")
        if not states:
            raise ValueError("states must hold at least one episode, got none")
        n_sb = N_SUBBANDS if self.scenario.propagation.fast_fading else 1
        chunk = max(1, MAX_WINDOW_LINKS // (self.n_cells * self.n_ues * n_sb))
        out: list[tuple[SimState, SuperStepReport]] = []
        for i in range(0, len(states), chunk):
            out += self._step_chunk(states[i : i + chunk], configs[i : i + chunk])
        return out

    def _step_chunk(
        self, states: Sequence[SimState], configs: Sequence[CellConfig]
    ) -> list[tuple[SimState, SuperStepReport]]:
        """:meth:`step_many` on a batch small enough for one window call."""
        sc = self.scenario
        gaps = self._gaps(states, configs)
        fading = None
        if sc.propagation.fast_fading:
            fading = fd.stack([g.fading for g in gaps if g.fading is not None])
        res = run_window(
            _stack_inputs([g.window for g in gaps]),
            fading,
            [g.rng_fading for g in gaps],
            sc.timing.ttis_per_superstep,
            min(sc.timing.tti_samples, sc.timing.ttis_per_superstep),
            sc.handover.rlf_sinr_db,
            max(1, round(sc.handover.rlf_ms / sc.timing.tti_ms)),
        )
        return [self._finish(g, res, b) for b, g in enumerate(gaps)]

    def _gaps(self, states: Sequence[SimState], configs: Sequence[CellConfig]) -> list[_Gap]:
        """Everything of a batch of super-steps before their TTI window.

        Mobility per episode, A3 handovers of all episodes at once, traffic per episode.
        """
        sc = self.scenario
        ho_cfg = sc.handover
        walks = [self._mobility(s, c) for s, c in zip(states, configs, strict=True)]
        ho = HandoverState(
            *(torch.stack([getattr(s.handover, f) for s in states]) for f in _HO_FIELDS)
        )  # [B, ...]
        awake = torch.stack([w.awake for w in walks])  # [B, n_cells]
        cio = torch.stack([w.cio for w in walks])  # [B, n_cells]
        rsrp_anchor = torch.stack([w.rsrp_anchor for w in walks], 1)  # [n_anchors, B, C, U]
        anchors = walks[0].anchors
        n_ho = torch.zeros(len(states), self.n_ues, dtype=torch.long)
        n_pp = torch.zeros(len(states), self.n_ues, dtype=torch.long)
        ho_out = torch.zeros(len(states), self.n_cells, dtype=torch.long)
        t0 = torch.tensor([s.time_s for s in states], dtype=torch.float64)  # [B]
        for a in range(len(anchors) - 1):
            lo, hi = anchors[a], anchors[a + 1]
            w = torch.arange(1, hi - lo + 1, dtype=torch.float64) / (hi - lo)  # [n_seg]
            seg = torch.lerp(rsrp_anchor[a][None], rsrp_anchor[a + 1][None], w[:, None, None, None])
            ho, counts = run_a3(
                ho,
                seg,  # [n_seg, B, n_cells, n_ues] at points lo+1 .. hi
                awake,
                cio,
                ho_cfg.hysteresis_db,
                ho_cfg.ttt_ms,
                MEAS_PERIOD_MS,
                ho_cfg.l3_filter_k,
                ho_cfg.pingpong_s,
                t0 + lo * MEAS_PERIOD_MS / 1000,
            )
            n_ho += counts.handovers
            n_pp += counts.pingpongs
            ho_out += counts.handovers_out
        return [
            self._gap(
                states[b],
                walks[b],
                HandoverState(*(getattr(ho, f)[b] for f in _HO_FIELDS)),
                HandoverCounts(n_ho[b], n_pp[b], ho_out[b]),
            )
            for b in range(len(states))
        ]

    def _mobility(self, state: SimState, config: CellConfig) -> _Walk:
        """An episode's walk through the mobility gap and its RSRP at the Φ anchor points."""
        sc = self.scenario
        cfg = self._check_config(config)
        gm = restore(state.rng_mobility)
        st = state.statics
        # 2. Mobility gap with A3 handover on L3-filtered RSRP.
        moving = sc.ues.mobility != "static"
        n_pts = max(1, round(sc.timing.mobility_s_per_superstep * 1000 / MEAS_PERIOD_MS))
        speed = st.speed_mps if moving else torch.zeros_like(st.speed_mps)
        path, waypoint = walk(
            gm, self.area, state.ue_xy_m, state.waypoint_m, speed, MEAS_PERIOD_MS / 1000, n_pts
        )
        # Φ at every PHI_STRIDE-th point (and the start); RSRP in dB is interpolated linearly
        # in between: positions move linearly and large-scale RSRP varies over tens of metres.
        full = torch.cat([state.ue_xy_m[None], path], 0)  # [n_pts + 1, n_ues, 2]
        anchors = list(range(0, n_pts + 1, PHI_STRIDE))
        if anchors[-1] != n_pts:
            anchors.append(n_pts)
        rsrp_anchor = torch.cat(
            [
                self._rsrp_dbm(self._gain_db(st, full[anchors[i : i + _CHUNK_POINTS]], cfg), cfg)
                for i in range(0, len(anchors), _CHUNK_POINTS)
            ]
        )  # [n_anchors, n_cells, n_ues]
        return _Walk(
            config=cfg,
            rng_mobility=gm,
            awake=torch.as_tensor(~cfg.sleep),
            cio=_tensor(cfg.cio_db, dtype=torch.float64),
            speed=speed,
            xy=path[-1],
            waypoint=waypoint,
            anchors=tuple(anchors),
            rsrp_anchor=rsrp_anchor,
            t_window=state.time_s + n_pts * MEAS_PERIOD_MS / 1000,
        )

    def _gap(
        self, state: SimState, wk: _Walk, ho_state: HandoverState, counts: HandoverCounts
    ) -> _Gap:
        """The rest of an episode's gap after the A3 run: sleeping cells, traffic, window."""
        sc = self.scenario
        cfg, awake, xy, t_window, speed = wk.config, wk.awake, wk.xy, wk.t_window, wk.speed
        gt, gf = restore(state.rng_traffic), restore(state.rng_fading)
        load = float(sc.timing.load_factor(state.step))
        st = state.statics
        gain = self._gain_db(st, xy[None], cfg, return_los=True)
        gain, los = gain[0][0], gain[1][0]  # [n_cells, n_ues]
        rsrp = self._rsrp_dbm(gain, cfg)
        ho_state, moved, out2 = force_off_sleeping(ho_state, rsrp, awake, t_window)
        n_ho = counts.handovers + moved.long()
        n_pp = counts.pingpongs
        ho_out = counts.handovers_out + out2
        serving = ho_state.serving

        # 3. Traffic (the draws do not depend on the config: common random numbers).
        n_ttis = sc.timing.ttis_per_superstep
        u_active = torch.rand(self.n_ues, generator=gt, dtype=torch.float64)
        u_arrive = torch.rand(n_ttis, self.n_ues, generator=gt, dtype=torch.float64)
        traffic = sc.ues.traffic
        full_buffer = traffic.model == "full-buffer"
        p_arrive = traffic.arrival_rate_per_s * load * self._tti_s
        arrivals = (u_arrive < p_arrive).double() * traffic.file_size_mbit * 1e6

        # 4. TTI window inputs (batch of one; step_many stacks them).
        rx_mw = 10 ** (self._rx_prb_dbm(gain, cfg) / 10)  # [n_cells, n_ues]
        fstate = None
        if sc.propagation.fast_fading:
            rho = fd.jakes_rho(speed.float(), self._cells.carrier_ghz.float(), self._tti_s)
            fstate = fd.init_fading(gf, rho, los, sc.propagation.rician_k_db, N_SUBBANDS)
        inp = WindowInputs(
            rx_mw=rx_mw.float()[None],
            cochannel=self._same_carrier[:, serving].float()[None],
            serving=serving[None],
            awake=awake[None],
            noise_mw=torch.full((1, self.n_ues), self._noise_prb_mw, dtype=torch.float32),
            prb_per_subband=self._cells.n_prb / (N_SUBBANDS if fstate is not None else 1),
            bits_per_prb_per_se=self._bits_per_prb_per_se,
            full_buffer=full_buffer,
            active=(u_active < load)[None],
            buffer_bits=state.buffer_bits[None],
            arrivals_bits=arrivals[None],
            avg_rate=state.avg_rate[None],
        )
        return _Gap(
            state=state,
            config=cfg,
            load=load,
            awake=awake,
            handover=ho_state,
            n_ho=n_ho,
            n_pp=n_pp,
            ho_out=ho_out,
            xy=xy,
            waypoint=wk.waypoint,
            t_window=t_window,
            gain=gain,
            rsrp=rsrp,
            window=inp,
            fading=fstate,
            rng_mobility=wk.rng_mobility,
            rng_traffic=gt,
            rng_fading=gf,
        )

    def _finish(self, gap: _Gap, res: WindowResult, b: int) -> tuple[SimState, SuperStepReport]:
        """The rest of a super-step after its window (element ``b`` of ``res``)."""
        sc = self.scenario
        state, ho_state, awake, rsrp = gap.state, gap.handover, gap.awake, gap.rsrp
        serving = ho_state.serving
        rlf = res.rlf[b]  # [n_ues]
        # Radio-link failure: re-establish on the strongest awake cell (not a handover).
        masked = torch.where(awake[:, None], rsrp, torch.full_like(rsrp, -torch.inf))
        reest = torch.where(rlf, masked.argmax(0), serving)
        ho_state = HandoverState(
            ho_state.l3_rsrp_dbm,
            reest,
            torch.where(rlf, torch.zeros_like(ho_state.ttt_ms), ho_state.ttt_ms),
            torch.where(rlf, torch.full_like(ho_state.ttt_target, -1), ho_state.ttt_target),
            ho_state.previous,
            ho_state.last_ho_s,
        )

        window_s = sc.timing.ttis_per_superstep * self._tti_s
        report = self._report(
            state.step, gap.load, gap.config, state.ue_xy_m, gap.xy, state.statics, serving,
            gap.gain, rsrp, res, b, gap.n_ho, gap.n_pp, gap.ho_out, window_s,
        )  # fmt: skip
        new_state = SimState(
            step=state.step + 1,
            time_s=gap.t_window + window_s,
            ue_xy_m=gap.xy,
            waypoint_m=gap.waypoint,
            handover=ho_state,
            buffer_bits=res.buffer_bits[b],
            avg_rate=res.avg_rate[b].double(),
            rng_mobility=gap.rng_mobility.get_state(),
            rng_traffic=gap.rng_traffic.get_state(),
            rng_fading=gap.rng_fading.get_state(),
            statics=state.statics,
            config=gap.config,
        )
        return new_state, report

    def large_scale(self, state: SimState, config: CellConfig | None = None) -> LargeScale:
        """Large-scale view of the UEs where they stand (no fading, every awake cell on).

        This is what the 3GPP large-scale calibration grades (TR 38.901 §7.8.1): coupling
        loss to the serving cell and geometry SINR with all co-channel cells transmitting.

        Args:
            state: A simulator state.
            config: Config in force (default: the state's).

        Returns:
            A :class:`LargeScale`.
        """
        cfg = self._check_config(config if config is not None else state.config)
        gain = self._gain_db(state.statics, state.ue_xy_m[None], cfg)[0]  # [n_cells, n_ues]
        rx_mw = 10 ** (self._rx_prb_dbm(gain, cfg) / 10)  # [n_cells, n_ues]
        serving = state.handover.serving
        ues = torch.arange(self.n_ues)
        awake = torch.as_tensor(~cfg.sleep, dtype=torch.float64)[:, None]
        cochannel = self._same_carrier[:, serving] * awake  # [n_cells, n_ues]
        s = rx_mw[serving, ues]
        i = (rx_mw * cochannel).sum(0) - s
        return LargeScale(
            coupling_gain_db=gain,
            rsrp_dbm=self._rsrp_dbm(gain, cfg),
            serving=serving,
            coupling_loss_db=-gain[serving, ues],
            geometry_sinr_db=10 * torch.log10(s / (i + self._noise_prb_mw)),
            geometry_sir_db=10 * torch.log10(s / i),
        )

    # ------------------------------------------------------------------ internals
    def _check_config(self, config: CellConfig) -> CellConfig:
        if not isinstance(config, CellConfig):
            raise TypeError(f"config must be a CellConfig, got {type(config).__name__}")
        config.validate(self.scenario)
        if bool(np.all(config.sleep)):
            raise ValueError("sleep: at least one cell must stay awake, got all cells asleep")
        return config

    def _draw_statics(
        self, pop: Population, gl: torch.Generator, gs: torch.Generator
    ) -> EpisodeStatics:
        sc = self.scenario
        prop = sc.propagation
        n = self.n_ues
        indoor, speed = pop.indoor, pop.speed_mps
        # TR 38.901 Table 7.2-1 (UMa/UMi): h_UT = 3(n_fl − 1) + 1.5, n_fl ~ U{1, N_fl},
        # N_fl ~ U{4, 8}, for indoor UEs; outdoor UEs at the configured height.
        n_floors = 4 + torch.floor(5 * torch.rand(n, generator=gl, dtype=torch.float64))
        floor = 1 + torch.floor(n_floors * torch.rand(n, generator=gl, dtype=torch.float64))
        h_ue = torch.full((n,), prop.ue_height_m, dtype=torch.float64)
        if prop.model in ("38901-uma", "38901-umi"):
            h_ue = torch.where(indoor, 3 * (floor - 1) + 1.5, h_ue)
        d_in_max = 10.0 if prop.model == "38901-rma" else 25.0  # TR 38.901 Table 7.4.3-2 note
        d_in = o2i.indoor_distance_sample(gl, (n,), max_m=d_in_max).double()
        draw = torch.randn(n, generator=gl, dtype=torch.float64)
        high_loss = torch.rand(n, generator=gl, dtype=torch.float64) < 0.5  # building type
        if prop.o2i_model != "mixed":
            high_loss = torch.full_like(high_loss, prop.o2i_model == "high")
        fc = self._cells.carrier_ghz[:, None]
        o2i_db = torch.where(
            high_loss[None, :],
            o2i.o2i_loss_db("high", fc, d_in[None, :], draw[None, :]),
            o2i.o2i_loss_db("low", fc, d_in[None, :], draw[None, :]),
        )  # [n_cells, n_ues]
        o2i_db = torch.where(indoor[None, :], o2i_db, torch.zeros_like(o2i_db))
        los_draw = torch.rand(self.n_sites, n, generator=gl, dtype=torch.float64)
        # Shadowing fields (shadowing stream), one per site, inter-site correlated.
        x0, y0, x1, y1 = self.area.box_m
        pad = 100.0
        d_corr = pathloss.decorrelation_distance_m(prop.model, False)
        res_m = max(2.0, min(d_corr / 3, 25.0))
        h = int(math.ceil((y1 - y0 + 2 * pad) / res_m)) + 1
        w = int(math.ceil((x1 - x0 + 2 * pad) / res_m)) + 1
        if prop.shadowing:
            maps = shadowing.gaussian_field(
                gs, self.n_sites + 1, (h, w), res_m, d_corr, torch.float32
            )
            field = shadowing.combine_site_fields(maps[:1], maps[1:], prop.inter_site_corr)
        else:
            field = torch.zeros(self.n_sites, 1, 1)
        return EpisodeStatics(
            indoor=indoor,
            ue_height_m=h_ue,
            speed_mps=speed,
            o2i_db=o2i_db,
            los_draw=los_draw,
            shadow_field=field,
            field_origin_m=(x0 - pad, y0 - pad),
            field_resolution_m=res_m,
        )

    def _gain_db(
        self,
        st: EpisodeStatics,
        xy: torch.Tensor,  # [n_points, n_ues, 2]
        cfg: CellConfig,
        return_los: bool = False,
    ):
        """Large-scale coupling gain (antenna − path loss − shadowing − O2I).

        **Output:** ``[n_points, n_cells, n_ues]`` float64 (and the LOS mask if asked).
        """
        sc = self.scenario
        prop = sc.propagation
        c = self._cells
        p = xy.shape[0]
        h_ue = st.ue_height_m.expand(p, -1)  # [n_points, n_ues]
        site_geo = geometry.link_geometry(
            xy, h_ue, self._site_xy, self._site_h, 0.0, self._wrap
        )  # [n_points, n_sites, n_ues]
        geo = geometry.expand_to_cells(site_geo, c.site, c.azimuth_deg)  # [.., n_cells, ..]
        # LOS is a property of the site–UE link (Pr_LOS of d_2D and h_UT, one draw per site):
        # per site, then to the site's sectors
        p_los = pathloss.los_probability(prop.model, site_geo.distance_2d_m, h_ue[:, None, :])
        los = (st.los_draw[None] < p_los).index_select(1, c.site)  # [n_points, n_cells, n_ues]
        tilt = _tensor(cfg.tilt_deg, dtype=torch.float64)
        gain = phi.coupling_gain_db(
            geo, prop.model, c.carrier_ghz, c.height_m, h_ue, tilt, c.n_vertical, los
        )
        if prop.shadowing:
            f = shadowing.sample_field(
                st.shadow_field, st.field_origin_m, st.field_resolution_m, xy
            )  # [n_sites, n_points, n_ues]
            sf = f[c.site].transpose(0, 1).double()  # [n_points, n_cells, n_ues]
            gain = gain - pathloss.shadowing_std_db(prop.model, los) * sf
        gain = gain - st.o2i_db[None]
        return (gain, los) if return_los else gain

    def _rx_prb_dbm(self, gain_db: torch.Tensor, cfg: CellConfig) -> torch.Tensor:
        """Received power per PRB: equal power per PRB (``[..., n_cells, n_ues]``)."""
        c = self._cells
        tx = c.tx_power_dbm + _tensor(cfg.power_offset_db, dtype=torch.float64)
        return (tx - 10 * torch.log10(c.n_prb))[:, None] + gain_db

    def _rsrp_dbm(self, gain_db: torch.Tensor, cfg: CellConfig) -> torch.Tensor:
        """RSRP per resource element (TS 38.215 §5.1.1), ``[..., n_cells, n_ues]``."""
        c = self._cells
        tx = c.tx_power_dbm + _tensor(cfg.power_offset_db, dtype=torch.float64)
        return link.rsrp_dbm(tx[:, None], c.n_prb[:, None], gain_db)

    def _report(
        self,
        step: int,
        load: float,
        cfg: CellConfig,
        start_xy: torch.Tensor,  # [n_ues, 2] where the super-step's walk began
        xy: torch.Tensor,  # [n_ues, 2] where it ended
        st: EpisodeStatics,
        serving: torch.Tensor,  # [n_ues]
        gain: torch.Tensor,  # [n_cells, n_ues]
        rsrp: torch.Tensor,  # [n_cells, n_ues]
        res: WindowResult,
        b: int,  # the report's element of ``res``
        n_ho: torch.Tensor,  # [n_ues]
        n_pp: torch.Tensor,  # [n_ues]
        ho_out: torch.Tensor,  # [n_cells]
        window_s: float,
    ) -> SuperStepReport:
        """Assemble the super-step's report (numpy) from element ``b`` of the window."""
        sc = self.scenario
        c = self._cells
        ues = torch.arange(self.n_ues)
        awake = torch.as_tensor(~cfg.sleep)
        tx = c.tx_power_dbm + _tensor(cfg.power_offset_db, dtype=torch.float64)
        active = res.had_data[b]
        n_served = torch.bincount(serving, minlength=self.n_cells)
        n_active = torch.bincount(serving[active], minlength=self.n_cells)
        thr_mbps = res.bits[b] / window_s / 1e6  # [n_ues]
        cell_thr = torch.zeros(self.n_cells, dtype=torch.float64).index_add_(0, serving, thr_mbps)
        power = energy.cell_power_w(res.prb_util[b].double(), tx, awake, c.small)  # [n_cells]
        hour = (sc.timing.start_hour + step * sc.timing.superstep_minutes / 60) % 24
        tti_thr = res.tti_rate_bits[b] / self._tti_s / 1e6
        return SuperStepReport(
            step=step,
            hour=float(hour),
            load_factor=load,
            power_offset_db=np.asarray(cfg.power_offset_db, np.float32),
            tx_power_dbm=tx.numpy().astype(np.float32),
            tilt_deg=np.asarray(cfg.tilt_deg, np.float32),
            cio_db=np.asarray(cfg.cio_db, np.float32),
            sleep=np.asarray(cfg.sleep, bool),
            prb_util=res.prb_util[b].numpy().astype(np.float32),
            n_served=n_served.numpy().astype(np.int32),
            n_active=n_active.numpy().astype(np.int32),
            cell_throughput_mbps=cell_thr.numpy().astype(np.float32),
            energy_w=power.numpy().astype(np.float32),
            handovers_out=ho_out.numpy().astype(np.int32),
            x_m=xy[:, 0].numpy().astype(np.float32),
            y_m=xy[:, 1].numpy().astype(np.float32),
            x_start_m=start_xy[:, 0].numpy().astype(np.float32),
            y_start_m=start_xy[:, 1].numpy().astype(np.float32),
            indoor=st.indoor.numpy(),
            speed_mps=st.speed_mps.numpy().astype(np.float32),
            active=active.numpy(),
            serving_cell=serving.numpy().astype(np.int32),
            rsrp_dbm=rsrp[serving, ues].numpy().astype(np.float32),
            coupling_loss_db=(-gain[serving, ues]).numpy().astype(np.float32),
            sinr_db=res.sinr_db_mean[b].numpy().astype(np.float32),
            throughput_mbps=thr_mbps.numpy().astype(np.float32),
            handovers=n_ho.numpy().astype(np.int32),
            pingpongs=n_pp.numpy().astype(np.int32),
            rlf=res.rlf[b].numpy(),
            tti_index=res.tti_index.numpy().astype(np.int32),
            tti_sinr_db=res.tti_sinr_db[b].numpy().astype(np.float32),
            tti_throughput_mbps=tti_thr.numpy().astype(np.float32),
        )
