"""Φ serving cells along each UE's walk of the super-step: where its handovers leave from.

A cell's outgoing handovers in a super-step are the handovers of the UEs that *leave* it
during the mobility gap. Every other feature of the graph describes where a UE is at the
end of the super-step (the position the datasets record), so a car that drove through three
cells is attached to the last one only. In 30 s a UE at 30 km/h covers 250 m, more than
the inter-site distance of a dense UMi layout.

The walk is approximated by the straight segment from its start (the UE's position at the
end of the previous super-step) to its end, cut into ``ceil(length / step_m)`` segments (at
most ``max_segments``). At every point Φ names the serving cell as :func:`.features.
phi_links` does (strongest RSRP + CIO among awake cells, TS 38.215 RSRP with Φ's mean
coupling gain): under the previous config at the start, under the config in force at every
later point (the injection happens at the super-step boundary, before the walk). Each change
of the serving cell between consecutive points is one **Φ crossing**, out of the cell left
and into the cell entered. No shadowing and no hysteresis (the simulator's A3 state machine
has both): the twin learns the rest.

The start's cell is the previous super-step's Φ serving cell. Callers that have it (the
dataset loader, the surrogate backend) pass it (``SceneInputs.prev_ue_serving``) and save a
Φ pass: on ``hex7-uma`` (pedestrians, 25 m per super-step, no interior point) that pass was
20–26 % of a twin step.

Measured on the held-out ``umi-dense`` replicas of the bundled build (2026-12-01, super-steps
with a known start, 3-replica means of the simulator's outgoing handovers per cell): Φ
crossings alone explain R² 0.80 of them (0.39 with the start and end cells only, 0.74 with
4 segments, 0.82 with 16); the bundled twin's own per-cell means explain 0.867, and
0.919 together with the crossings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rantwin.radio.link import rsrp_dbm

from .features import PhiLinks, ScenarioStatics, SceneBatch, best_cell, mean_gain_db


@dataclass(frozen=True)
class PathCrossings:
    """Φ crossings of a batch of scenes (see the module docstring)."""

    cross_out: torch.Tensor  # [B, n_cells] float64, crossings out of each cell
    cross_in: torch.Tensor  # [B, n_cells] float64, crossings into each cell
    ue_crossings: torch.Tensor  # [B, n_ues] float64, crossings of each UE
    known: torch.Tensor  # [B] bool, the walk's start is known


def serving_at(
    st: ScenarioStatics,
    xy_m: torch.Tensor,  # [B, P, 2] points
    indoor: torch.Tensor,  # [B, P] bool
    tx_dbm: torch.Tensor,  # [B, C] transmit power in force
    tilt_deg: torch.Tensor,  # [B, C]
    cio_db: torch.Tensor,  # [B, C]
    awake: torch.Tensor,  # [B, C] bool
) -> torch.Tensor:
    """Φ serving cell at ``P`` points of each scene under the given knobs.

    **Output:** ``[B, P]`` long, the awake cell with the strongest RSRP + CIO.
    """
    gain = mean_gain_db(st, xy_m, indoor, tilt_deg)[2]  # [B, C, P]
    rsrp = rsrp_dbm(tx_dbm.double()[..., None], st.n_prb.double()[:, None], gain)  # [B, C, P]
    return best_cell(rsrp, cio_db.double(), awake)


def path_crossings(
    st: ScenarioStatics,
    scenes: SceneBatch,
    phi: PhiLinks,
    step_m: float,
    max_segments: int,
) -> PathCrossings:
    """Count the Φ crossings of every UE's walk and of every cell.

    Where a scene's start is unknown (``scenes.start_known`` false, or no start given at
    all), or a UE did not move, its walk is the single point where it ends, crossed only by
    the config change (Φ serving cell under the previous config → now, as ``phi_lost`` /
    ``phi_gained``). ``max_segments = 0`` counts only that.

    **Input:** ``phi``: the scenes' Φ tables (:func:`.features.phi_links`) at the end points.
    **Output:** :class:`PathCrossings`.
    """
    n_b, n_ues, n_cells = scenes.size, scenes.n_ues, st.site.numel()
    dev = scenes.device
    k_max = max(max_segments, 1)
    seq = phi.serving[..., None].expand(n_b, n_ues, k_max + 1).clone()  # [B, U, K+1]
    seq[..., 0] = phi.prev_serving
    known = (
        torch.zeros(n_b, dtype=torch.bool, device=dev)
        if scenes.start_known is None
        else scenes.start_known
    )
    if max_segments > 0 and scenes.ue_start_xy_m is not None and bool(known.any()):
        start, end = scenes.ue_start_xy_m.double(), scenes.ue_xy_m.double()  # [B, U, 2]
        length = (end - start).norm(dim=-1)  # [B, U]
        moved = known[:, None] & (length > 0)  # [B, U]
        delta = scenes.delta()  # [B, C, 4] power, tilt, CIO, sleep since the previous step
        tx = st.tx_nominal_dbm + scenes.knob("power_offset_db")  # [B, C]
        tilt, cio = scenes.knob("tilt_deg"), scenes.knob("cio_db")  # [B, C]
        awake = ~scenes.knob("sleep")  # [B, C]
        s0 = scenes.start_serving  # [B, U], the previous step's Φ serving cells (−1: unknown)
        if s0 is None or bool((s0[moved] < 0).any()):
            fresh = serving_at(
                st, start, scenes.ue_indoor, tx - delta[..., 0], tilt - delta[..., 1],
                cio - delta[..., 2], scenes.awake_before(),
            )  # fmt: skip
            s0 = fresh if s0 is None else torch.where(s0 >= 0, s0, fresh)
        seq[..., 0] = torch.where(moved, s0, phi.prev_serving)
        n_seg = torch.ceil(length / step_m).clamp(1, max_segments).long()  # [B, U]
        n_int = ((n_seg - 1) * moved).reshape(-1)  # [B·U] interior points of each walk
        if bool(n_int.any()):
            owner = torch.arange(n_b * n_ues, device=dev).repeat_interleave(
                n_int
            )  # [N] its UE (b·U + u)
            first = torch.cumsum(n_int, 0) - n_int  # [B·U]
            k = torch.arange(owner.numel(), device=dev) - first[owner] + 1  # [N] 1 … n_seg − 1
            t = (k.double() / n_seg.reshape(-1)[owner].double())[:, None]  # [N, 1]
            s_flat, e_flat = start.reshape(-1, 2), end.reshape(-1, 2)
            pts = s_flat[owner] + t * (e_flat[owner] - s_flat[owner])  # [N, 2]
            # pack each scene's points into [B, M] (padding: the scene's first UE's end)
            scene = owner // n_ues  # [N] (points come sorted by scene)
            counts = n_int.reshape(n_b, n_ues).sum(1)  # [B]
            pos = (
                torch.arange(owner.numel(), device=dev) - (torch.cumsum(counts, 0) - counts)[scene]
            )
            m = int(counts.max())
            xy = end[:, :1, :].expand(n_b, m, 2).clone()  # [B, M, 2]
            xy[scene, pos] = pts
            ind = torch.zeros(n_b, m, dtype=torch.bool, device=dev)
            ind[scene, pos] = scenes.ue_indoor.reshape(-1)[owner]
            s_pts = serving_at(st, xy, ind, tx, tilt, cio, awake)  # [B, M]
            seq.view(n_b * n_ues, k_max + 1)[owner, k] = s_pts[scene, pos]
    left, entered = seq[..., :-1], seq[..., 1:]  # [B, U, K]
    change = (left != entered).double()  # [B, U, K]
    cross_out = torch.zeros(n_b, n_cells, dtype=torch.float64, device=dev).scatter_add_(
        1, left.reshape(n_b, -1), change.reshape(n_b, -1)
    )
    cross_in = torch.zeros(n_b, n_cells, dtype=torch.float64, device=dev).scatter_add_(
        1, entered.reshape(n_b, -1), change.reshape(n_b, -1)
    )
    return PathCrossings(cross_out, cross_in, change.sum(-1), known)


def check_path_config(step_m: float, max_segments: int) -> None:
    """Raise ``ValueError`` naming a bad walk sampling setting."""
    if not (isinstance(step_m, int | float) and math.isfinite(step_m) and step_m > 0):
        raise ValueError(f"path_step_m must be a finite number > 0 (metres), got {step_m!r}")
    if isinstance(max_segments, bool) or not isinstance(max_segments, int) or max_segments < 0:
        raise ValueError(f"path_max_segments must be an integer >= 0, got {max_segments!r}")
