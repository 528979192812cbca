"""A3 handover with L3 filtering, cell individual offsets, hysteresis and time-to-trigger.

Measurement model (TS 38.331 §5.5.3.2, layer-3 filtering):
``F_n = (1 − a) F_{n−1} + a M_n`` with ``a = 1 / 2^(k/4)`` and ``k`` the filter coefficient.

Entering condition of event A3 (TS 38.331 §5.5.4.4), with the cell individual offsets (CIO)
as the knob and the frequency offsets and a3-Offset at zero:
``Mn + Ocn − Hys > Mp + Ocp``. The handover fires once the condition has held for the same
target cell for ``timeToTrigger``. A handover back to the previous cell within
``pingpong_s`` of the last one is a ping-pong (the usual MRO definition, e.g. 3GPP TR 36.839
§5.2). Sleeping cells are neither measured nor targeted.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class HandoverState:
    """Per-UE handover bookkeeping carried across super-steps.

    :func:`run_a3` also takes it with a leading batch dimension on every field.
    """

    l3_rsrp_dbm: torch.Tensor  # [n_cells, n_ues] L3-filtered RSRP
    serving: torch.Tensor  # [n_ues] long
    ttt_ms: torch.Tensor  # [n_ues] time the A3 condition has held
    ttt_target: torch.Tensor  # [n_ues] long, candidate cell (-1 none)
    previous: torch.Tensor  # [n_ues] long, cell served before the last handover (-1 none)
    last_ho_s: torch.Tensor  # [n_ues] float64, time of the last handover


@dataclass(frozen=True)
class HandoverCounts:
    """What happened during one run of the state machine."""

    handovers: torch.Tensor  # [n_ues] long
    pingpongs: torch.Tensor  # [n_ues] long
    handovers_out: torch.Tensor  # [n_cells] long, per source cell


def l3_coefficient(k: int) -> float:
    """``a = 1 / 2^(k/4)`` (TS 38.331 §5.5.3.2)."""
    return 1.0 / 2 ** (k / 4)


def run_a3(
    state: HandoverState,
    rsrp_dbm: torch.Tensor,  # [n_points, (B,) n_cells, n_ues]
    awake: torch.Tensor,  # [(B,) n_cells] bool
    cio_db: torch.Tensor,  # [(B,) n_cells]
    hysteresis_db: float,
    ttt_ms: float,
    period_ms: float,
    l3_k: int,
    pingpong_s: float,
    start_s: float | torch.Tensor,  # [(B,)] float64
) -> tuple[HandoverState, HandoverCounts]:
    """Run the A3 state machine over ``n_points`` measurement instants.

    **Input:** RSRP samples every ``period_ms`` along the UEs' paths. With a leading batch
    dimension ``B`` on the state, the RSRP (after the points), ``awake``, ``cio_db`` and
    ``start_s``, ``B`` independent networks run together: every operation acts within an
    element, so each gets bit for bit what it gets alone (tested).
    **Output:** the new state and the handover counts (same leading dimensions).
    """
    a = l3_coefficient(l3_k)
    f = state.l3_rsrp_dbm  # [(B,) n_cells, n_ues]
    n_cells = f.shape[-2]
    serving, timer, target = state.serving, state.ttt_ms, state.ttt_target
    previous, last_ho = state.previous, state.last_ho_s
    n_ho = torch.zeros_like(serving)
    n_pp = torch.zeros_like(serving)
    out = torch.zeros((*f.shape[:-2], n_cells), dtype=torch.long)
    off = torch.where(awake, cio_db.to(f.dtype), torch.full_like(f[..., 0], -torch.inf))
    start = torch.as_tensor(start_s, dtype=torch.float64)[..., None]  # [(B,) 1]
    for p in range(rsrp_dbm.shape[0]):
        t_s = start + (p + 1) * period_ms / 1000  # [(B,) 1]
        f = (1 - a) * f + a * rsrp_dbm[p]  # [(B,) n_cells, n_ues]
        score = f + off[..., None]  # [(B,) n_cells, n_ues] Mn + Ocn
        best_score, best = score.max(dim=-2)  # [(B,) n_ues]
        own = score.gather(-2, serving[..., None, :])[..., 0, :]  # [(B,) n_ues] Mp + Ocp
        cond = (best != serving) & (best_score - hysteresis_db > own)
        timer = torch.where(cond & (best == target), timer + period_ms, torch.zeros_like(timer))
        target = torch.where(cond, best, torch.full_like(best, -1))
        fire = cond & (timer >= ttt_ms)
        if bool(fire.any()):
            pp = fire & (best == previous) & (t_s - last_ho < pingpong_s)
            n_pp += pp.long()
            n_ho += fire.long()
            out.scatter_add_(-1, serving, fire.long())  # per source cell
            previous = torch.where(fire, serving, previous)
            serving = torch.where(fire, best, serving)
            last_ho = torch.where(fire, t_s.expand_as(last_ho), last_ho)
            timer = torch.where(fire, torch.zeros_like(timer), timer)
            target = torch.where(fire, torch.full_like(target, -1), target)
    new = HandoverState(f, serving, timer, target, previous, last_ho)
    return new, HandoverCounts(n_ho, n_pp, out)


def force_off_sleeping(
    state: HandoverState,
    rsrp_dbm: torch.Tensor,  # [n_cells, n_ues]
    awake: torch.Tensor,  # [n_cells] bool
    now_s: float,
) -> tuple[HandoverState, torch.Tensor, torch.Tensor]:
    """Hand UEs of cells that went to sleep over to their strongest awake cell.

    **Output:** the new state, ``moved: [n_ues] bool`` and ``out: [n_cells] long``.
    """
    moved = ~awake[state.serving]
    if not bool(moved.any()):
        return state, moved, torch.zeros_like(awake, dtype=torch.long)
    masked = torch.where(awake[:, None], rsrp_dbm, torch.full_like(rsrp_dbm, -torch.inf))
    best = masked.argmax(dim=0)
    out = torch.bincount(state.serving[moved], minlength=awake.shape[0])
    new = HandoverState(
        state.l3_rsrp_dbm,
        torch.where(moved, best, state.serving),
        torch.where(moved, torch.zeros_like(state.ttt_ms), state.ttt_ms),
        torch.where(moved, torch.full_like(state.ttt_target, -1), state.ttt_target),
        torch.where(moved, state.serving, state.previous),
        torch.where(moved, torch.full_like(state.last_ho_s, now_s), state.last_ho_s),
    )
    return new, moved, out
