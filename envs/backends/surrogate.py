"""The surrogate backend: the learned twin behind the backend protocol (fast, batched).

One :meth:`SurrogateBackend.step` of ``B`` environments is one batched twin call:

1. **UE population** (part of the scenario, not of either model; :mod:`rantwin.scenarios.
   mobility`): at :meth:`~SurrogateBackend.reset`, element ``b`` draws its indoor flags,
   speed classes, UE drop and first waypoints exactly as the simulator's *placement* stream
   of member 0 of the same seed does (``Simulator.reset(member_seed(seed, 0))``), so a
   surrogate episode starts from the same scene as the paired simulator episode. Each
   super-step the UEs walk ``timing.mobility_s_per_superstep`` seconds of random waypoint
   (static mobility: no move) sampled every :data:`MEAS_PERIOD_S` like the simulator's
   walk, computed in closed form per waypoint leg (one batched pass per leg instead of one
   per 200 ms point); fresh waypoints come from the element's own *mobility* generator.
   Positions agree with the simulator's walk until the first waypoint arrival; after it the
   waypoint draws differ (same process, another stream).
2. **One scene batch** of the ``B`` scenes (``load_factor = timing.load_factor(step)``,
   ``hour = timing.hour_of_day(step)``), one batched graph, one backbone pass (batches of
   more than ``max_ues_per_call`` UEs in chunks of whole scenes, with the same draws).
3. **Members**: member ``m`` of element ``b`` is the ``m``-th draw of the twin on the scene
   of ``b`` (its own latent z, quantile uniforms, activity and handover draws); the ``M``
   members share the UE positions. Every element has its own twin generator
   (:meth:`~rantwin.surrogate.twin.Twin.sample` with one generator per scene), so element
   ``b``'s draws depend only on ``seeds[b]`` and its configs, not on the batch around it.
   The floating-point work of the batched backbone may differ in the last bits with the
   batch size (matrix products are blocked differently), so a batch of ``B`` matches ``B``
   single environments to float32 rounding, not bitwise.

Fields of :class:`~rantwin.envs.types.KpiSample`: ``ue_serving`` is Φ's serving cell
(strongest RSRP + CIO among awake cells) for every member; ``cell_n_active`` counts the
sampled-active UEs per Φ serving cell; ``ue_coupling_loss_db`` is the coupling loss implied
by the sampled RSRP (``P_tx − 10 log10(12 n_PRB) − RSRP``, TS 38.215); sampled RSRP and
SINR are clipped to the dataset schema's physical ranges (:data:`RSRP_RANGE_DBM`,
:data:`SINR_RANGE_DB`; the quantile heads' tails are unbounded). The twin does not
model per-TTI samples, ping-pongs or radio-link failures: the per-TTI fields are ``None``,
``ue_pingpongs`` is 0 and ``ue_rlf`` is ``False`` (so batch-mode datasets validate; do not
read them as predictions).
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rantwin.datasets.schema import UES
from rantwin.radio.pathloss import decorrelation_distance_m
from rantwin.scenarios import CellConfig, Scenario, load_scenario
from rantwin.scenarios.mobility import PopulationSampler, ServiceArea
from rantwin.simulator.rng import spawn_generators
from rantwin.surrogate.features import DELTA_KNOBS, SceneBatch
from rantwin.surrogate.slow import SlowState
from rantwin.surrogate.twin import Twin, TwinSample, resolve_device

from ..types import KpiSample, config_tensors
from .simulator import member_seed

__all__ = ["MEAS_PERIOD_S", "SurrogateBackend", "SurrogateBatchState", "default_checkpoint"]

#: Time resolution of the random-waypoint walk (the simulator's measurement period).
MEAS_PERIOD_S = 0.2
#: Default bound on the UEs of one twin call (:class:`SurrogateBackend` ``max_ues_per_call``).
#: Larger batches are sampled in consecutive chunks of whole scenes: on 2 CPU cores a call's
#: per-edge tensors stop fitting any cache past about this size (hex19-uma, 1,140 UEs per
#: scene: B = 256 in one call ran at 24 env-steps/s against 38 at B = 64, issue #5).
MAX_UES_PER_CALL = 65_536
#: Spawn key of the twin's generator of an episode (independent of the simulator streams).
_TWIN_STREAM = 0x7477696E  # "twin"

_UE_COLUMNS = {c.name: c for c in UES.columns}
#: Physical ranges of sampled RSRP (dBm) and SINR (dB): the dataset schema's, so that a
#: surrogate rollout is a valid dataset (the quantile tails are extended linearly).


def _schema_range(column: str) -> tuple[float, float]:
    lo, hi = _UE_COLUMNS[column].min, _UE_COLUMNS[column].max
    assert lo is not None and hi is not None, f"the schema gives {column} no range"
    return float(lo), float(hi)


RSRP_RANGE_DBM = _schema_range("rsrp_dbm")
SINR_RANGE_DB = _schema_range("sinr_db")

_BUILD_HINT = (
    "build it with `python -m rantwin.bench.default_twin` or pass checkpoint=PATH "
    "(a directory with model.safetensors and twin.json, from `rantwin train-surrogate`)"
)


def default_checkpoint() -> Path | None:
    """The bundled twin ``rantwin/surrogate/default_twin/`` if it is installed, else ``None``."""
    root = importlib.resources.files("rantwin.surrogate") / "default_twin"
    if (root / "model.safetensors").is_file() and (root / "twin.json").is_file():
        return Path(str(root))
    return None


def _generator(seed: int) -> torch.Generator:
    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    return g


def _restore(state: torch.Tensor) -> torch.Generator:
    g = torch.Generator(device="cpu")
    g.set_state(state.clone())
    return g


def twin_seed(seed: int) -> int:
    """Seed of the twin's generator of an episode seeded ``seed`` (63-bit, non-negative)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(_TWIN_STREAM,))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True)
class SurrogateBatchState:
    """Batched state of the surrogate backend (the UE population and the RNG states).

    Attributes:
        ue_xy_m: UE positions.
        waypoint_m: Current random-waypoint targets.
        indoor: Indoor flags (fixed for the episode).
        speed_mps: Speed of each UE's class (fixed; 0 movement when mobility is static).
        step: Super-steps done.
        rng_mobility: ``torch.Generator`` state of each element's waypoint draws.
        rng_twin: ``torch.Generator`` state of each element's twin draws.
        prev_cfg: Knobs of the previous super-step's config (NaN before the first step), so
            the twin sees the config change (``DELTA_KNOBS`` order).
        slow_score: The twin's slow state of every member's UE draws (NaN before the first
            step; stays NaN for twins that carry no state), see :mod:`rantwin.surrogate.slow`
            (a next-state diffusion head's previous UE draw: ``surrogate/diffusion/next_state``).
        phi_serving: Φ serving cell of every UE after the last super-step (−1 before the
            first), where the next walk starts (:mod:`rantwin.surrogate.path`).
    """

    ue_xy_m: torch.Tensor  # [B, n_ues, 2] float64
    waypoint_m: torch.Tensor  # [B, n_ues, 2] float64
    indoor: torch.Tensor  # [B, n_ues] bool
    speed_mps: torch.Tensor  # [B, n_ues] float64
    step: torch.Tensor  # [B] long
    rng_mobility: torch.Tensor  # [B, n_state_bytes] uint8
    rng_twin: torch.Tensor  # [B, n_state_bytes] uint8
    prev_cfg: torch.Tensor  # [B, n_cells, 4] float64
    slow_score: torch.Tensor  # [B, M, n_ues, 3] float32
    phi_serving: torch.Tensor  # [B, n_ues] long

    @property
    def batch(self) -> int:
        """Batch size ``B``."""
        return int(self.step.shape[0])


def walk_batch(
    generators: Sequence[torch.Generator],
    area: ServiceArea,
    xy_m: torch.Tensor,  # [B, n_ues, 2]
    waypoint_m: torch.Tensor,  # [B, n_ues, 2]
    speed_mps: torch.Tensor,  # [B, n_ues]
    dt_s: float,
    n_points: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random-waypoint walk of ``B`` populations, ``n_points`` steps of ``dt_s``, in closed form.

    The same motion as :func:`rantwin.scenarios.mobility.walk` (a UE moves ``speed · dt``
    toward its waypoint per step and snaps to it in the step where it is within reach), but
    each leg is one batched update: a UE at distance ``d`` arrives after ``ceil(d / stride)``
    steps. Element ``b`` draws one ``[n_ues, 4]`` block of uniforms from ``generators[b]``
    per leg in which one of its UEs arrives (used only by the arriving UEs), so its draws do
    not depend on the other elements.

    **Output:** ``xy_m: [B, n_ues, 2]`` after the walk and the waypoints ``[B, n_ues, 2]``.
    """
    f64 = torch.float64
    xy, wp = xy_m.clone(), waypoint_m.clone()
    stride = speed_mps.to(f64) * dt_s  # [B, n_ues]
    left = torch.full(stride.shape, float(n_points), dtype=f64)  # steps left
    moving = stride > 0
    n_ues = xy.shape[1]
    while True:
        to_go = wp - xy  # [B, n_ues, 2]
        dist = torch.sqrt(to_go[..., 0] * to_go[..., 0] + to_go[..., 1] * to_go[..., 1])
        need = torch.ceil(dist / stride.clamp_min(1e-12)).clamp_min(1.0)  # steps to arrive
        busy = moving & (left > 0)
        arrive = busy & (need <= left)
        go = busy & ~arrive
        frac = stride * left / dist.clamp_min(1e-9)  # [B, n_ues]
        xy = torch.where(go[..., None], xy + to_go * frac[..., None], xy)
        xy = torch.where(arrive[..., None], wp, xy)
        left = torch.where(arrive, left - need, torch.where(go, 0.0, left))
        rows = torch.nonzero(arrive.any(1)).flatten().tolist()
        if not rows:
            return xy, wp
        u = torch.stack(
            [torch.rand(n_ues, 4, generator=generators[b], dtype=f64) for b in rows]
        )  # [R, n_ues, 4]
        fresh = area.points(u.reshape(-1, 4)).reshape(len(rows), n_ues, 2)
        wp[rows] = torch.where(arrive[rows][..., None], fresh, wp[rows])


class SurrogateBackend:
    """The learned twin as a :class:`~rantwin.envs.backend.Backend` (see the module docstring).

    Args:
        scenario: A :class:`~rantwin.scenarios.Scenario`, built-in name or YAML path.
        members: Twin draws per batch element (``M``), sharing the element's UE positions.
        checkpoint: Twin checkpoint directory; ``None``: the bundled default twin.
        per_tti: Also draw per-TTI SINR and throughput (the fast timescale).
        diffusion_head: A diffusion-head checkpoint trained on this twin (``rantwin
            train-surrogate --head diffusion``): the continuous KPIs then come from it.
        max_ues_per_call: Bound on the UEs (``B · n_ues``) of one twin call; a larger batch
            is sampled in chunks of whole scenes with the same draws (each element has its
            own generator). ``None``: one call, however large.
        compile: ``torch.compile`` the twin's Φ, graph features, network and KPIs
            (:mod:`rantwin.surrogate.compiled`): faster batched steps after a one-off
            compilation of about a minute per batch size; needs a C++ compiler; a compiled
            and an eager backend give draws that differ in the last bits (each is
            deterministic on its own).
        device: Where the twin runs (``"cpu"`` default, ``"cuda"``, ...,
            :class:`~rantwin.surrogate.twin.Twin`): Φ, the graphs and the network; the UE
            walk, the random streams and the returned KPIs stay on the CPU.

    Raises:
        ValueError: ``members < 1``, no bundled twin and no ``checkpoint``, a checkpoint
            that does not exist or cannot be read, or a device this machine lacks.
    """

    def __init__(
        self,
        scenario: Scenario | str,
        members: int = 1,
        checkpoint: str | os.PathLike[str] | None = None,
        per_tti: bool = False,
        diffusion_head: str | os.PathLike[str] | None = None,
        max_ues_per_call: int | None = MAX_UES_PER_CALL,
        compile: bool = False,
        device: torch.device | str | None = None,
    ):
        dev = resolve_device(device)  # a ValueError naming the device before any loading
        if isinstance(members, bool) or not isinstance(members, int) or members < 1:
            raise ValueError(f"members must be an integer >= 1, got {members!r}")
        if max_ues_per_call is not None and (
            isinstance(max_ues_per_call, bool)
            or not isinstance(max_ues_per_call, int)
            or max_ues_per_call < 1
        ):
            raise ValueError(
                f"max_ues_per_call must be an integer >= 1 or None, got {max_ues_per_call!r}"
            )
        self.max_ues_per_call = max_ues_per_call
        if checkpoint is None:
            path = default_checkpoint()
            if path is None:
                raise ValueError(
                    "the surrogate backend needs a twin checkpoint and the bundled default "
                    f"(rantwin/surrogate/default_twin/) is not installed; {_BUILD_HINT}"
                )
        else:
            path = Path(checkpoint)
            if not path.is_dir():
                raise ValueError(
                    f"checkpoint={str(checkpoint)!r}: no such directory; a twin checkpoint is "
                    "a directory with model.safetensors and twin.json (from `rantwin "
                    "train-surrogate`), or pass checkpoint=None for the bundled twin"
                )
        try:
            self.twin = Twin.load(path, head=diffusion_head, compile=bool(compile), device=dev)
        except (FileNotFoundError, ValueError) as exc:
            raise ValueError(f"checkpoint={str(path)!r}: cannot load the twin: {exc}") from exc
        self.checkpoint = path
        self.per_tti = bool(per_tti)
        self.scenario: Scenario = load_scenario(scenario)
        self.n_members = members
        sc = self.scenario
        self.population = PopulationSampler(sc)
        self.area = self.population.area
        t = sc.cells()
        self._tx_nominal_dbm = torch.tensor(np.array(t.tx_power_dbm), dtype=torch.float64)
        self._re_db = 10 * torch.log10(12 * torch.tensor(np.array(t.n_prb), dtype=torch.float64))
        self._n_points = max(1, round(sc.timing.mobility_s_per_superstep / MEAS_PERIOD_S))
        self._d_corr_m = decorrelation_distance_m(sc.propagation.model)  # NLOS shadowing

    # ------------------------------------------------------------------ protocol
    def reset(
        self, seeds: Sequence[int], configs: Sequence[CellConfig] | None = None
    ) -> SurrogateBatchState:
        """Draw ``len(seeds)`` UE populations (see the protocol; ``configs`` is ignored).

        Element ``b`` uses the simulator's placement stream of ``member_seed(seeds[b], 0)``
        (indoor flags, speed classes, UE drop, first waypoints; the simulator's order),
        its mobility stream for later waypoints, and :func:`twin_seed` for the twin.
        """
        if configs is not None and len(configs) != len(seeds):
            raise ValueError(f"got {len(configs)} configs for {len(seeds)} seeds")
        xys, wps, indoors, speeds, rng_m, rng_t = [], [], [], [], [], []
        for b, seed in enumerate(seeds):
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
                raise ValueError(f"seeds[{b}] must be a non-negative integer, got {seed!r}")
            g = spawn_generators(member_seed(int(seed), 0))
            pop = self.population.draw(g["placement"])  # the simulator's UEs for this seed
            indoors.append(pop.indoor)
            speeds.append(pop.speed_mps)
            xys.append(pop.xy_m)
            wps.append(pop.waypoint_m)
            rng_m.append(g["mobility"].get_state())
            rng_t.append(_generator(twin_seed(int(seed))).get_state())
        return SurrogateBatchState(
            ue_xy_m=torch.stack(xys),
            waypoint_m=torch.stack(wps),
            indoor=torch.stack(indoors),
            speed_mps=torch.stack(speeds),
            step=torch.zeros(len(seeds), dtype=torch.long),
            rng_mobility=torch.stack(rng_m),
            rng_twin=torch.stack(rng_t),
            prev_cfg=torch.full(
                (len(seeds), self.scenario.n_cells, len(DELTA_KNOBS)),
                float("nan"),
                dtype=torch.float64,
            ),
            slow_score=torch.full(
                (len(seeds), self.n_members, self.scenario.ues.count, 3), float("nan")
            ),
            phi_serving=torch.full((len(seeds), self.scenario.ues.count), -1, dtype=torch.long),
        )

    def step(
        self, state: SurrogateBatchState, configs: Sequence[CellConfig]
    ) -> tuple[SurrogateBatchState, KpiSample]:
        """One super-step of every element: walk, one batched twin call (see the protocol)."""
        if len(configs) != state.batch:
            raise ValueError(
                f"expected one config per batch element ({state.batch}), got {len(configs)}"
            )
        sc = self.scenario
        for b, cfg in enumerate(configs):
            cfg.validate(sc)
            if bool(np.all(cfg.sleep)):
                raise ValueError(
                    f"sleep: at least one cell must stay awake, got all cells asleep (element {b})"
                )
        b_size, n = state.batch, sc.ues.count
        # 1. mobility (the twin's draws are untouched by it)
        rng_m = state.rng_mobility
        xy, wp = state.ue_xy_m, state.waypoint_m
        if sc.ues.mobility != "static" and sc.timing.mobility_s_per_superstep > 0:
            gens_m = [_restore(s) for s in state.rng_mobility]
            xy, wp = walk_batch(
                gens_m, self.area, xy, wp, state.speed_mps, MEAS_PERIOD_S, self._n_points
            )
            rng_m = torch.stack([g.get_state() for g in gens_m])
        # 2. one scene batch, one graph
        steps = state.step.tolist()
        timing = sc.timing
        now_cfg = torch.tensor(
            np.stack(
                [
                    np.stack([np.asarray(getattr(c, k), float) for k in DELTA_KNOBS], -1)
                    for c in configs
                ]
            )
        )  # [B, C, 4]
        delta = torch.nan_to_num(now_cfg - state.prev_cfg, nan=0.0)  # first step: no change
        scenes = SceneBatch(
            scenario=sc,
            configs=tuple(configs),
            ue_xy_m=xy,
            ue_indoor=state.indoor,
            ue_speed_mps=state.speed_mps,
            load_factor=torch.tensor(
                [float(timing.load_factor(s)) for s in steps], dtype=torch.float64
            ),
            hour=torch.tensor([timing.hour_of_day(s) for s in steps], dtype=torch.float64),
            config_delta=delta,
            # where this super-step's walk started (the Φ crossings, .surrogate.path)
            ue_start_xy_m=state.ue_xy_m,
            start_known=torch.ones(b_size, dtype=torch.bool),
            start_serving=state.phi_serving,
        )
        scenes.check_finite()
        # 3. M draws per scene, element b from its own generator
        gens_t = [_restore(s) for s in state.rng_twin]
        n_ttis = timing.ttis_per_superstep if self.per_tti else 0
        m_size = self.n_members
        slow = None
        if self.twin.carries_state:  # the UE draws persist: previous state, distance moved
            slow = SlowState(
                score=state.slow_score.transpose(0, 1).reshape(m_size, b_size * n, 3),
                moved_m=(xy - state.ue_xy_m).norm(dim=-1).reshape(-1).float(),  # [B·n]
                d_corr_m=torch.full((b_size * n,), self._d_corr_m),
            )
        ts = self._sample(scenes, gens_t, n_ttis, slow)
        slow_score = state.slow_score
        if ts.ue_slow_score is not None and slow is not None:
            # [M, B·n, 3] -> [B, M, n, 3]
            slow_score = ts.ue_slow_score.reshape(m_size, b_size, n, 3).transpose(0, 1)
        new = SurrogateBatchState(
            ue_xy_m=xy,
            waypoint_m=wp,
            indoor=state.indoor,
            speed_mps=state.speed_mps,
            step=state.step + 1,
            rng_mobility=rng_m,
            rng_twin=torch.stack([g.get_state() for g in gens_t]),
            prev_cfg=now_cfg,
            slow_score=slow_score.contiguous(),
            phi_serving=ts.ue_serving.reshape(b_size, n).long(),
        )
        c = sc.n_cells
        f32 = torch.float32

        def per_ue(x: torch.Tensor) -> torch.Tensor:
            # [M, B·n] -> [B, M, n]
            return x.reshape(m_size, b_size, n).transpose(0, 1).contiguous()

        def per_cell(x: torch.Tensor) -> torch.Tensor:
            # [M, B·C] -> [B, M, C]
            return x.reshape(m_size, b_size, c).transpose(0, 1).contiguous()

        serving = ts.ue_serving.reshape(b_size, n)  # [B, n] Φ serving cell
        active = per_ue(ts.ue_active)  # [B, M, n] bool
        rsrp = per_ue(ts.ue_rsrp_dbm).to(f32).clamp(*RSRP_RANGE_DBM)  # [B, M, n]
        tx = self._tx_nominal_dbm + torch.as_tensor(
            np.stack([cf.power_offset_db for cf in configs]), dtype=torch.float64
        )  # [B, C]
        re_psd = (tx - self._re_db).gather(1, serving)  # [B, n] dBm per RE of the server
        coupling_loss = (re_psd[:, None, :] - rsrp.double()).to(f32)  # TS 38.215 §5.1.1

        def bm(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
            # [B, n] -> [B, M, n]
            return x.to(dtype)[:, None, :].expand(b_size, m_size, n).contiguous()

        kpi = KpiSample(
            ue_rsrp_dbm=rsrp,
            ue_sinr_db=per_ue(ts.ue_sinr_db).to(f32).clamp(*SINR_RANGE_DB),
            ue_throughput_mbps=per_ue(ts.ue_throughput_mbps).to(f32),
            ue_active=active,
            ue_serving=bm(serving, torch.long),
            ue_handovers=per_ue(ts.ue_handovers).to(f32),
            cell_prb_util=per_cell(ts.cell_prb_util).to(f32),
            cell_throughput_mbps=per_cell(ts.cell_throughput_mbps).to(f32),
            cell_energy_w=per_cell(ts.cell_energy_w).to(f32),
            cell_n_active=per_cell(ts.cell_n_active),
            cell_handovers_out=per_cell(ts.cell_handovers_out).to(f32),
            hour=scenes.hour.to(f32),
            load_factor=scenes.load_factor.to(f32),
            **config_tensors(configs),
            ue_x_m=bm(xy[..., 0], f32),
            ue_y_m=bm(xy[..., 1], f32),
            ue_start_x_m=bm(state.ue_xy_m[..., 0], f32),  # the walk's start
            ue_start_y_m=bm(state.ue_xy_m[..., 1], f32),
            ue_indoor=bm(state.indoor, torch.bool),
            ue_speed_mps=bm(state.speed_mps, f32),
            ue_coupling_loss_db=coupling_loss,
            ue_pingpongs=torch.zeros(b_size, m_size, n, dtype=f32),  # not modelled
            ue_rlf=torch.zeros(b_size, m_size, n, dtype=torch.bool),  # not modelled
        )
        if ts.ue_tti_sinr_db is not None and ts.ue_tti_throughput_mbps is not None:
            # the TTIs the simulator records: tti_samples evenly spaced over the window
            k = min(timing.tti_samples, n_ttis)
            idx = torch.linspace(0, n_ttis - 1, k).round().long()

            def per_tti(x: torch.Tensor) -> torch.Tensor:
                # [M, T, B·n] -> [B, M, k, n]
                x = x[:, idx].reshape(m_size, k, b_size, n)
                return x.permute(2, 0, 1, 3).contiguous().to(f32)

            kpi = dataclasses.replace(
                kpi,
                ue_tti_sinr_db=per_tti(ts.ue_tti_sinr_db).clamp(*SINR_RANGE_DB),
                ue_tti_throughput_mbps=per_tti(ts.ue_tti_throughput_mbps),
                tti_index=idx,
            )
        return new, kpi

    def _sample(
        self,
        scenes: SceneBatch,
        gens: list[torch.Generator],
        n_ttis: int,
        slow: SlowState | None,
    ) -> TwinSample:
        """Graphs and twin draws of ``scenes``, in chunks of at most ``max_ues_per_call`` UEs.

        Scene ``b`` draws from ``gens[b]`` only, so chunking changes no draw.
        """
        n, m_size = scenes.n_ues, self.n_members
        per_call = scenes.size
        if self.max_ues_per_call is not None:
            per_call = max(1, self.max_ues_per_call // n)
        parts = []
        for b0 in range(0, scenes.size, per_call):
            b1 = min(b0 + per_call, scenes.size)
            part_slow = None
            if slow is not None:  # [M, B·n, 3] / [B·n] -> UEs of scenes b0:b1
                u = slice(b0 * n, b1 * n)
                part_slow = SlowState(slow.score[:, u], slow.moved_m[u], slow.d_corr_m[u])
            graph = self.twin.graphs(scenes.select(b0, b1))
            drawn = self.twin.sample(graph, m_size, gens[b0:b1], n_ttis=n_ttis, slow=part_slow)
            parts.append(drawn.to("cpu"))  # the KPIs come back from the twin's device
        return TwinSample.cat(parts)

    def replace(
        self, state: SurrogateBatchState, index: Sequence[int], new: SurrogateBatchState
    ) -> SurrogateBatchState:
        """Elements ``index`` of ``state`` replaced by those of ``new`` (see the protocol)."""
        if len(index) != new.batch:
            raise ValueError(f"{len(index)} indices for a replacement of batch {new.batch}")
        idx = torch.as_tensor(list(index), dtype=torch.long)
        out = {}
        for name in SurrogateBatchState.__dataclass_fields__:
            x = getattr(state, name).clone()
            x[idx] = getattr(new, name)
            out[name] = x
        return SurrogateBatchState(**out)
