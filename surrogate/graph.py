"""Scene → torch-geometric ``HeteroData``: cell and UE nodes, Φ-attributed edges.

Node types: ``cell``, ``ue``. Edge types (:data:`EDGE_TYPES`):

- ``(cell, serves, ue)``: the Φ serving cell of each UE (strongest RSRP + CIO, awake);
- ``(cell, interferes, ue)``: the ``k_interferers`` strongest other co-channel awake cells;
- ``(cell, neighbours, cell)``: the ``k_neighbours`` nearest other cells (both directions);
- ``(ue, rev_serves, cell)`` and ``(ue, rev_interferes, cell)``: reverses, so a cell hears
  about its load and its victims.

Edge attributes carry the Φ link (RSRP, gain, LOS probability, distance, angles). All
features are normalised with the fixed constants below (not data statistics), so a world
never seen in training is normalised the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch_geometric.data import HeteroData

from rantwin.radio import pathloss
from rantwin.radio.link import OVERHEAD_FR1, spectral_efficiency

from .features import PhiLinks, ScenarioStatics, SceneBatch, SceneInputs, phi_links
from .path import PathCrossings, check_path_config, path_crossings

NodeType = str
EdgeType = tuple[str, str, str]

EDGE_TYPES: tuple[EdgeType, ...] = (
    ("cell", "serves", "ue"),
    ("cell", "interferes", "ue"),
    ("cell", "neighbours", "cell"),
    ("ue", "rev_serves", "cell"),
    ("ue", "rev_interferes", "cell"),
)
NODE_TYPES: tuple[NodeType, ...] = ("cell", "ue")
METADATA = (list(NODE_TYPES), list(EDGE_TYPES))

CELL_FEATURES = (
    "tx_power",  # (P_tx − 40 dBm) / 10
    "power_offset",  # dB / 10
    "tilt",  # deg / 15
    "cio",  # dB / 6
    "sleep",
    "log_carrier",  # log(f / 1 GHz)
    "height",  # m / 30
    "n_prb",  # / 100
    "small",
    "n_vertical",  # / 10
    "load_factor",
    "hour_sin",
    "hour_cos",
    "phi_served",  # Φ-served UEs / COUNT_SCALE (absolute: a cell's load does not depend on
    # how many UEs the rest of the layout has)
    "phi_sinr",  # mean Φ SINR of its Φ UEs, dB / 10
    "p_busy",  # 1 − (1 − load)^n: P(some Φ-served UE is active), the full-buffer traffic law
    "expected_active",  # load · Φ-served UEs / 10
    "full_buffer",  # traffic model: 1 full buffer, 0 FTP model 3
    "offered_util",  # FTP3: offered bits / Φ capacity (clipped to 3); full buffer: P(busy)
    # config in transition: change since the previous super-step (a CIO / power change
    # itself triggers handovers)
    "d_power",  # dB / 10
    "d_tilt",  # deg / 15
    "d_cio",  # dB / 6
    "d_sleep",  # +1 went to sleep, −1 woke up
    # UEs the config change itself hands over: Φ serving cell under the previous config vs now
    "phi_lost",  # UEs it Φ-served under the previous config and not now / COUNT_SCALE
    "phi_gained",  # UEs it Φ-serves now and not under the previous config, same scale
    # the UEs' walks of this super-step (.path): Φ crossings out of / into the cell
    "path_out",  # / COUNT_SCALE
    "path_in",  # same scale
    "path_known",  # 1 if the walks' starts are known (0: inputs without them)
)
UE_FEATURES = (
    "indoor",
    "speed",  # m/s / 10
    "phi_rsrp",  # (dBm + 90) / 20
    "phi_sinr",  # dB / 10
    "best_margin",  # (best − second best RSRP) dB / 10
    "log_distance",  # log10(d / 1 m) / 3, to the Φ server
    "az_cos",
    "az_sin",
    "zenith",  # (θ − 90°) / 10
    "load_factor",
    "full_buffer",
    "offered_rate",  # FTP3: offered Mbit/s / 10 (full buffer: 0)
    "phi_rate",  # Φ link rate if alone on the cell, log1p(Mbit/s) / 5
    "phi_share_rate",  # its expected proportional-fair share of it, log1p(Mbit/s) / 5
    # handover physics (dimensionless, so they carry over to unseen propagation scenarios):
    "walk_dcorr",  # log1p(metres walked per super-step / shadowing d_corr) / 3
    "shadow_diff",  # std of the shadowing difference between two sites, dB / 10
    "margin_sigma",  # best_margin / max(shadow_diff, 1 dB), clipped to 10, / 10
    "phi_moved",  # 1 if its Φ serving cell under the previous config is another cell
    "path_crossings",  # log1p(Φ crossings along its walk of this super-step) (.path)
    "path_known",  # 1 if the walk's start is known
    "p_cio_biased",  # P(the CIOs attach it to a cell weaker than another one), cio_biased_p
)
LINK_FEATURES = (
    "rsrp",  # (dBm + 90) / 20
    "rel_rsrp",  # (RSRP − serving RSRP) / 10
    "p_los",
    "log_distance",  # log10(d) / 3
    "az_cos",
    "az_sin",
    "zenith",  # (θ − 90) / 10
    "was_serving",  # 1 if the cell was the UE's Φ serving cell under the previous config
    "p_cio_biased",  # P(the CIOs order this cell and the serving one against their RSRPs)
)
#: Divisor of the per-cell UE counts among the cell features (served, lost, gained, crossings).
COUNT_SCALE = 10.0

NEIGHBOUR_FEATURES = ("log_distance", "same_site", "same_carrier", "az_cos")


@dataclass(frozen=True)
class GraphConfig:
    """How the graph is built.

    ``k_interferers = 3``: measured against 6 on the bundled build (same data, seed and
    command, 2026-12-01): held-out CRPS / floor within the scene-bootstrap intervals of each
    other on every KPI (cell handovers out 2.48 → 2.63 at midnight, the largest move), and
    the batched twin step 1.2× faster (``bench/surrogate``, the two twins in one run: B = 64
    eager 51.7k → 62.2k UE-super-steps/s, compiled 69.5k → 84.0k). The Φ SINR feature
    already carries the total interference; the edges add only who the strongest are.
    """

    k_interferers: int = 3
    k_neighbours: int = 6
    #: sampling of each UE's walk for the Φ crossings (:mod:`.path`): a point every
    #: ``path_step_m`` metres, at most ``path_max_segments`` segments (0: start/end cells only)
    path_step_m: float = 30.0
    path_max_segments: int = 10

    def __post_init__(self) -> None:
        for name in ("k_interferers", "k_neighbours"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        check_path_config(self.path_step_m, self.path_max_segments)


def fair_share(n_served: torch.Tensor, p_active: torch.Tensor) -> torch.Tensor:
    """Expected time share of an active UE among the active UEs of its cell.

    With ``n`` UEs served and each of the others active with probability ``p``
    (independently), the others active ``K ~ Binomial(n − 1, p)``, and a proportional-fair
    (round-robin in the mean) scheduler gives the UE ``1 / (1 + K)`` of the time:
    ``E[1 / (1 + K)] = (1 − (1 − p)^n) / (n p)`` (→ 1 as ``p → 0``; 1 for ``n <= 1``).

    **Input:** ``n_served`` and ``p_active`` broadcastable (``n >= 1`` where a UE is
    served). **Output:** their broadcast shape, float64 in (0, 1].
    """
    n = n_served.double().clamp_min(1)
    p = p_active.double().clamp(1e-6, 1.0)
    return ((1 - (1 - p) ** n) / (n * p)).clamp(max=1.0)


def cio_biased_p(
    phi: PhiLinks, cio_db: torch.Tensor, site: torch.Tensor, shadow_diff: torch.Tensor
) -> torch.Tensor:
    """P(the CIOs order a cell and the UE's serving cell against their actual RSRPs).

    The simulator attaches a UE by shadowed RSRP + CIO (A3, TS 38.331 §5.5.4.4). With
    ``Δ`` the Φ RSRP of cell ``c`` minus the serving cell's and ``D = Δ + X`` the actual
    difference, ``X ~ N(0, σ²)`` the shadowing difference of the two links (σ = the UE's
    inter-site ``shadow_diff``, 1 dB for a co-site cell, which shares the shadowing),
    the CIOs (``Δcio = cio_c − cio_s``) reverse the order when ``D`` lies between
    ``−Δcio`` and 0: ``p = |Φ(−Δ/σ) − Φ(−(Δ + Δcio)/σ)|``. Zero when every CIO is equal
    (the default config), so it marks where random CIOs put a UE on a weaker cell and
    lengthen its SINR tail (``docs/twin.md``, *Grading*).

    **Input:** ``cio_db [B, C]``, ``site [C]``, ``shadow_diff [B·U]`` (dB).
    **Output:** ``[B, C, U]`` float32 (0 for the serving cell and sleeping cells).
    """
    n_b, _, n_ues = phi.rsrp_dbm.shape
    serving_rsrp = phi.rsrp_dbm.gather(1, phi.serving[:, None, :])  # [B, 1, U]
    delta = phi.rsrp_dbm - serving_rsrp  # [B, C, U]
    cio = cio_db.float()
    d_cio = cio[..., None] - cio.gather(1, phi.serving)[:, None, :]  # [B, C, U]
    co_site = site[:, None] == site[phi.serving][:, None, :]  # [B, C, U]
    sigma = shadow_diff.float().reshape(n_b, 1, n_ues).clamp_min(1.0)
    sigma = torch.where(co_site, torch.ones_like(delta), sigma)  # [B, C, U]
    p = (torch.special.ndtr(-delta / sigma) - torch.special.ndtr(-(delta + d_cio) / sigma)).abs()
    return p.masked_fill(~phi.awake[..., None] | ~torch.isfinite(delta), 0.0)


def _link_attr(
    phi: PhiLinks, b: torch.Tensor, c: torch.Tensor, u: torch.Tensor, p_biased: torch.Tensor
) -> torch.Tensor:
    """Edge attributes ``[n_edges, len(LINK_FEATURES)]`` of links (scene b, cell c, UE u)."""
    rsrp = phi.rsrp_dbm[b, c, u]
    serving_rsrp = phi.rsrp_dbm[b, phi.serving[b, u], u]
    az = torch.deg2rad(phi.azimuth_offset_deg[b, c, u])
    return torch.stack(
        [
            (rsrp + 90) / 20,
            (rsrp - serving_rsrp) / 10,
            phi.p_los[b, c, u],
            torch.log10(phi.distance_2d_m[b, c, u].clamp_min(1.0)) / 3,
            torch.cos(az),
            torch.sin(az),
            (phi.zenith_deg[b, c, u] - 90) / 10,
            (phi.prev_serving[b, u] == c).float(),
            p_biased[b, c, u],
        ],
        -1,
    )


def handover_physics(
    st: ScenarioStatics, speed_mps: torch.Tensor, p_los_serving: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """What drives A3 handovers in the mobility gap, in units that carry across scenarios.

    A UE hands over when the L3-filtered RSRP of another cell beats its serving cell's by the
    hysteresis. Along a walk of ``d = speed · mobility_s_per_superstep`` metres the
    shadowing of each site decorrelates as exp(−d / d_corr) (Gudmundson 1991; d_corr of TR
    38.901 Table 7.5-6, the NLOS value the simulator's fields use), and the difference of two
    sites' shadowing has std σ_SF · sqrt(2 (1 − ρ)) with the inter-site correlation ρ (TR
    36.873 §7.3; σ_SF of the serving link's LOS/NLOS mix, Table 7.4.1-1). A 30-second walk
    at 3 km/h is 1.9 decorrelation lengths in UMi and 0.5 in UMa: in the simulator's data a
    UMi network at that speed hands over three times as often (0.71 against 0.25 per UE and
    super-step on ``hex7-umi`` and ``hex7-uma``).

    **Input:** ``speed_mps [B·U]`` (UE speeds) and ``p_los_serving [B·U]`` (LOS probability
    of each UE's Φ serving link).
    **Output:** ``walk_dcorr [B·U]`` = log1p(d / d_corr) and ``shadow_diff [B·U]`` in dB
    (0 where the scenario has no shadowing), float32.
    """
    sc = st.scenario
    prop = sc.propagation
    mobile = sc.ues.mobility != "static"
    walk_m = speed_mps.float() * (sc.timing.mobility_s_per_superstep if mobile else 0.0)  # [B·U]
    d_corr = pathloss.decorrelation_distance_m(prop.model, False)
    walk_dcorr = torch.log1p(walk_m / d_corr)
    if not prop.shadowing:
        return walk_dcorr, torch.zeros_like(walk_dcorr)
    s_los, s_nlos = st.shadow_std_db
    p = p_los_serving.float()
    sigma = torch.sqrt(p * s_los**2 + (1 - p) * s_nlos**2)  # [B·U]
    return walk_dcorr, sigma * (2 * (1 - prop.inter_site_corr)) ** 0.5


def neighbour_edges(st: ScenarioStatics, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``k`` nearest other cells of each cell (co-site sectors first), both directions.

    **Output:** ``edge_index: [2, E]`` and ``edge_attr: [E, len(NEIGHBOUR_FEATURES)]``.
    """
    n_cells = st.site.numel()
    d = torch.cdist(st.cell_xy_m, st.cell_xy_m)  # [C, C]
    same_site = st.site[:, None] == st.site[None, :]
    d_rank = d + same_site.double() * 1e-3 - same_site.double() * d  # co-site sectors first
    d_rank.fill_diagonal_(torch.inf)
    kn = min(k, n_cells - 1)
    dev = st.device
    if kn <= 0:
        return (
            torch.zeros(2, 0, dtype=torch.long, device=dev),
            torch.zeros(0, len(NEIGHBOUR_FEATURES), device=dev),
        )
    nb = d_rank.topk(kn, dim=1, largest=False).indices  # [C, kn]
    src = nb.reshape(-1)
    dst = torch.arange(n_cells, device=dev).repeat_interleave(kn)
    pairs = torch.unique(torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1), dim=1)
    az = st.azimuth_deg
    attr = torch.stack(
        [
            torch.log10(d[pairs[0], pairs[1]].clamp_min(1.0)) / 3,
            same_site[pairs[0], pairs[1]].double(),
            st.cochannel_cells[pairs[0], pairs[1]].double(),
            torch.cos(torch.deg2rad(az[pairs[0]] - az[pairs[1]])),
        ],
        -1,
    ).float()
    return pairs, attr


@dataclass(frozen=True)
class SceneTensors:
    """What :func:`graph_tensors` reads of a scene batch besides Φ: tensors only.

    (A compiled :func:`graph_tensors` guards on these tensors' shapes, not on the number of
    configs in a :class:`.features.SceneBatch`.)
    """

    power_offset_db: torch.Tensor  # [B, C] float64
    tilt_deg: torch.Tensor  # [B, C] float64
    cio_db: torch.Tensor  # [B, C] float64
    sleep: torch.Tensor  # [B, C] bool
    delta: torch.Tensor  # [B, C, 4] float64, change since the previous super-step
    ue_indoor: torch.Tensor  # [B, U] bool
    ue_speed_mps: torch.Tensor  # [B, U]
    load_factor: torch.Tensor  # [B]
    hour: torch.Tensor  # [B]

    @staticmethod
    def of(scenes: SceneBatch) -> SceneTensors:
        """The knobs of ``scenes``' configs as tensors, next to its UE and time tensors."""
        return SceneTensors(
            power_offset_db=scenes.knob("power_offset_db"),
            tilt_deg=scenes.knob("tilt_deg"),
            cio_db=scenes.knob("cio_db"),
            sleep=scenes.knob("sleep"),
            delta=scenes.delta(),
            ue_indoor=scenes.ue_indoor,
            ue_speed_mps=scenes.ue_speed_mps,
            load_factor=scenes.load_factor,
            hour=scenes.hour,
        )


@dataclass(frozen=True)
class GraphTensors:
    """Node features and edges of ``B`` scenes (:func:`graph_tensors`), before ``HeteroData``.

    Interferer edges: ``k`` per UE, scene-major (``[B, k, U]`` flattened), with
    ``interferer_valid`` false where a UE has fewer than ``k`` co-channel awake other cells.
    """

    cell_x: torch.Tensor  # [B·C, len(CELL_FEATURES)] float32
    ue_x: torch.Tensor  # [B·U, len(UE_FEATURES)] float32
    phi_rsrp_dbm: torch.Tensor  # [B·U] Φ RSRP of the serving link
    serves_index: torch.Tensor  # [2, B·U] (global cell, global UE)
    serves_attr: torch.Tensor  # [B·U, len(LINK_FEATURES)]
    interferes_index: torch.Tensor  # [2, B·k·U]
    interferes_attr: torch.Tensor  # [B·k·U, len(LINK_FEATURES)]
    interferer_valid: torch.Tensor  # [B·k·U] bool


def graph_tensors(
    st: ScenarioStatics, x: SceneTensors, phi: PhiLinks, walks: PathCrossings, k: int
) -> GraphTensors:
    """The tensor part of :func:`build_batch` (what :mod:`.compiled` compiles).

    **Input:** the scenes' tensors, their Φ tables and walks, ``k`` interferers per UE
    (``0 <= k <= n_cells - 1``). **Output:** :class:`GraphTensors`.
    """
    n_b, n_cells, n_ues = x.load_factor.shape[0], st.site.numel(), x.ue_indoor.shape[1]
    dev = st.device
    awake = phi.awake  # [B, C]
    b_u = torch.arange(n_b, device=dev).repeat_interleave(n_ues)  # [B·U]
    u_u = torch.arange(n_ues, device=dev).repeat(n_b)  # [B·U]
    serving = phi.serving.reshape(-1)  # [B·U]

    # cell → ue "interferes": strongest other co-channel awake cells
    masked = phi.rsrp_dbm.masked_fill(~(phi.cochannel & awake[..., None]), -torch.inf)
    masked = masked.scatter(1, phi.serving[:, None, :], -torch.inf)
    top = masked.topk(k, dim=1)  # [B, k, U]
    i_b = torch.arange(n_b, device=dev)[:, None, None].expand(-1, k, n_ues).reshape(-1)
    i_c = top.indices.reshape(-1)  # [B·k·U]
    i_u = torch.arange(n_ues, device=dev)[None, None, :].expand(n_b, k, -1).reshape(-1)

    # node features
    hour = 2 * torch.pi * x.hour / 24  # [B]
    lf = x.load_factor  # [B]

    def zeros(dtype: torch.dtype = torch.float32) -> torch.Tensor:  # [B, C]
        return torch.zeros(n_b, n_cells, dtype=dtype, device=dev)

    served = zeros().scatter_add(1, phi.serving, torch.ones(n_b, n_ues, device=dev))
    moved = (phi.prev_serving != phi.serving).float()  # [B, U] handed over by the config change
    lost = zeros().scatter_add(1, phi.prev_serving, moved)  # [B, C]
    gained = zeros().scatter_add(1, phi.serving, moved)  # [B, C]
    known = walks.known.double()  # [B]
    sinr_sum = zeros().scatter_add(1, phi.serving, phi.sinr_db)
    # Traffic law (physics-informed, TR 36.814 A.2.1.3.3 FTP model 3): offered load of a cell
    # against its Φ capacity; a full-buffer cell is busy iff one of its UEs is active.
    traffic = st.scenario.ues.traffic
    full_buffer = traffic.model == "full-buffer"
    cell_bw_hz = st.n_prb * 12 * st.scenario.deployment.scs_khz * 1e3 * (1 - OVERHEAD_FR1)  # [C]
    se = spectral_efficiency(phi.sinr_db.double())  # [B, U] bit/s/Hz
    ue_rate_mbps = se * cell_bw_hz[phi.serving] / 1e6  # [B, U] alone on its Φ cell
    share = fair_share(served.gather(1, phi.serving), lf[:, None])  # [B, U]
    se_sum = zeros(torch.float64).scatter_add(1, phi.serving, se)
    cap_mbps = se_sum / served.double().clamp_min(1) * cell_bw_hz / 1e6  # [B, C]
    offered_mbps = 0.0 if full_buffer else traffic.arrival_rate_per_s * traffic.file_size_mbit
    if full_buffer:
        offered_util = 1 - (1 - lf[:, None]) ** served.double()
    else:
        offered_util = lf[:, None] * offered_mbps * served.double() / cap_mbps.clamp_min(1e-3)
        offered_util = offered_util.clamp(max=3.0)
    offset = x.power_offset_db  # [B, C]
    delta = x.delta  # [B, C, 4] change since the previous super-step
    tx = st.tx_nominal_dbm + offset

    def static(v: torch.Tensor) -> torch.Tensor:  # [C] -> [B, C]
        return v[None, :].expand(n_b, n_cells)

    def per_scene(v: torch.Tensor) -> torch.Tensor:  # [B] -> [B, C]
        return v[:, None].expand(n_b, n_cells)

    cell_x = (
        torch.stack(
            [
                (tx - 40) / 10,
                offset / 10,
                x.tilt_deg / 15,
                x.cio_db / 6,
                x.sleep.double(),
                static(torch.log(st.carrier_ghz)),
                static(st.cell_h_m / 30),
                static(st.n_prb / 100),
                static(st.small.double()),
                static(st.n_vertical.double() / 10),
                per_scene(lf),
                per_scene(torch.sin(hour)),
                per_scene(torch.cos(hour)),
                served.double() / COUNT_SCALE,
                (sinr_sum / served.clamp_min(1)).double() / 10,
                1 - (1 - per_scene(lf)) ** served.double(),
                per_scene(lf) * served.double() / 10,
                torch.full((n_b, n_cells), float(full_buffer), dtype=torch.float64, device=dev),
                offered_util,
                delta[..., 0] / 10,
                delta[..., 1] / 15,
                delta[..., 2] / 6,
                delta[..., 3],
                lost.double() / COUNT_SCALE,
                gained.double() / COUNT_SCALE,
                walks.cross_out / COUNT_SCALE,
                walks.cross_in / COUNT_SCALE,
                per_scene(known),
            ],
            -1,
        )
        .float()
        .reshape(n_b * n_cells, -1)
    )
    if n_cells > 1:
        best2 = phi.rsrp_dbm.masked_fill(~awake[..., None], -torch.inf).topk(2, 1).values
        margin = (best2[:, 0] - best2[:, 1]).clamp(max=30).nan_to_num(30.0)  # [B, U]
    else:
        margin = torch.zeros(n_b, n_ues, device=dev)
    s_az = torch.deg2rad(phi.azimuth_offset_deg[b_u, serving, u_u])
    walk_dcorr, shadow_diff = handover_physics(
        st, x.ue_speed_mps.reshape(-1), phi.p_los[b_u, serving, u_u]
    )
    p_biased = cio_biased_p(phi, x.cio_db, st.site, shadow_diff)  # [B, C, U]
    p_ue = 1 - torch.prod(1 - p_biased, dim=1)  # [B, U]: some cell's order reversed
    ue_x = torch.stack(
        [
            x.ue_indoor.reshape(-1).float(),
            x.ue_speed_mps.reshape(-1).float() / 10,
            (phi.rsrp_dbm[b_u, serving, u_u] + 90) / 20,
            phi.sinr_db.reshape(-1) / 10,
            margin.reshape(-1).float() / 10,
            torch.log10(phi.distance_2d_m[b_u, serving, u_u].clamp_min(1.0)) / 3,
            torch.cos(s_az),
            torch.sin(s_az),
            (phi.zenith_deg[b_u, serving, u_u] - 90) / 10,
            lf[b_u].float(),
            torch.full((n_b * n_ues,), float(full_buffer), device=dev),
            (offered_mbps * lf[b_u]).float() / 10,
            torch.log1p(ue_rate_mbps.reshape(-1)).float() / 5,
            torch.log1p((ue_rate_mbps * share).reshape(-1)).float() / 5,
            walk_dcorr / 3,
            shadow_diff / 10,
            (margin.reshape(-1).float() / shadow_diff.clamp_min(1.0)).clamp(max=10.0) / 10,
            moved.reshape(-1),
            torch.log1p(walks.ue_crossings.reshape(-1)).float(),
            known[b_u].float(),
            p_ue.reshape(-1),
        ],
        -1,
    ).float()
    return GraphTensors(
        cell_x=cell_x,
        ue_x=ue_x,
        phi_rsrp_dbm=phi.rsrp_dbm[b_u, serving, u_u],
        serves_index=torch.stack([b_u * n_cells + serving, b_u * n_ues + u_u]),
        serves_attr=_link_attr(phi, b_u, serving, u_u, p_biased),
        interferes_index=torch.stack([i_b * n_cells + i_c, i_b * n_ues + i_u]),
        interferes_attr=_link_attr(phi, i_b, i_c, i_u, p_biased),
        interferer_valid=torch.isfinite(top.values).reshape(-1),
    )


def build_batch(
    st: ScenarioStatics,
    scenes: SceneBatch,
    cfg: GraphConfig | None = None,
    batched: bool = True,
    links: Callable[[ScenarioStatics, SceneBatch], PhiLinks] = phi_links,
    tensors: Callable[..., GraphTensors] = graph_tensors,
) -> HeteroData:
    """Build the heterogeneous graph of ``B`` scenes of one scenario in one pass.

    **Output:** one ``HeteroData`` holding all scenes (nodes concatenated scene by scene):
    ``data["cell"].x: [B·n_cells, len(CELL_FEATURES)]``, ``data["ue"].x: [B·n_ues,
    len(UE_FEATURES)]``, ``edge_index`` / ``edge_attr`` per edge type, Φ baselines
    ``data["ue"].phi_rsrp_dbm``, ``phi_sinr_db``, ``phi_serving`` ``[B·n_ues]`` and
    ``data["cell"].awake`` ``[B·n_cells]``. With ``batched`` the node stores also get
    ``batch`` vectors and ``data.num_scenes = B`` (ready for the model); without, ``B`` must
    be 1 and the graph is a plain single-scene graph (for PyG data loaders). ``links`` computes
    the Φ tables (:func:`.features.phi_links`) and ``tensors`` the features
    (:func:`graph_tensors`), or their compiled wrappers (:mod:`.compiled`).
    The graph is built on ``st.device`` (``scenes`` are moved there).
    """
    cfg = cfg or GraphConfig()
    if not batched and scenes.size != 1:
        raise ValueError(f"batched=False needs exactly one scene, got {scenes.size}")
    dev = st.device
    scenes = scenes.to(dev)
    phi = links(st, scenes)
    n_b, n_cells, n_ues = scenes.size, st.site.numel(), scenes.n_ues
    walks = path_crossings(st, scenes, phi, cfg.path_step_m, cfg.path_max_segments)
    k = min(cfg.k_interferers, max(n_cells - 1, 0))
    t = tensors(st, SceneTensors.of(scenes), phi, walks, k)
    i_idx, i_attr = t.interferes_index, t.interferes_attr
    if not bool(t.interferer_valid.all()):  # UEs with fewer than k co-channel awake others
        i_idx, i_attr = i_idx[:, t.interferer_valid], i_attr[t.interferer_valid]

    data = HeteroData()
    data["cell"].x = t.cell_x  # [B·C, len(CELL_FEATURES)]
    data["cell"].awake = phi.awake.reshape(-1)  # [B·C]
    data["ue"].x = t.ue_x  # [B·U, len(UE_FEATURES)]
    data["ue"].phi_rsrp_dbm = t.phi_rsrp_dbm  # [B·U]
    data["ue"].phi_sinr_db = phi.sinr_db.reshape(-1)  # [B·U]
    data["ue"].phi_serving = phi.serving.reshape(-1)  # [B·U], cell index within its scene
    s_idx, s_attr = t.serves_index, t.serves_attr
    data["cell", "serves", "ue"].edge_index = s_idx
    data["cell", "serves", "ue"].edge_attr = s_attr
    data["cell", "interferes", "ue"].edge_index = i_idx
    data["cell", "interferes", "ue"].edge_attr = i_attr
    data["ue", "rev_serves", "cell"].edge_index = s_idx.flip(0)
    data["ue", "rev_serves", "cell"].edge_attr = s_attr
    data["ue", "rev_interferes", "cell"].edge_index = i_idx.flip(0)
    data["ue", "rev_interferes", "cell"].edge_attr = i_attr
    key = ("neighbour_edges", cfg.k_neighbours)  # static per scenario: built once
    if key not in st.derived:
        st.derived[key] = neighbour_edges(st, cfg.k_neighbours)
    pairs, nb_attr = st.derived[key]
    offs = (torch.arange(n_b, device=dev) * n_cells).repeat_interleave(pairs.shape[1])
    data["cell", "neighbours", "cell"].edge_index = pairs.repeat(1, n_b) + offs
    data["cell", "neighbours", "cell"].edge_attr = nb_attr.repeat(n_b, 1)
    if batched:
        data["cell"].batch = torch.arange(n_b, device=dev).repeat_interleave(n_cells)
        data["ue"].batch = torch.arange(n_b, device=dev).repeat_interleave(n_ues)
        data.num_scenes = n_b
    return data


def build_graph(inp: SceneInputs, cfg: GraphConfig | None = None) -> HeteroData:
    """Build the heterogeneous graph of one scene (see :func:`build_batch`).

    Raises:
        ValueError: A scene with no UE, or NaN in the inputs (naming the input).
    """
    scenes = SceneBatch.of([inp])
    return build_batch(ScenarioStatics(inp.scenario), scenes, cfg, batched=False)
