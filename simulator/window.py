"""The per-TTI loop of one super-step: fading, proportional-fair scheduling, SINR, rates.

Per TTI, in this order (a standard downlink SLS loop, e.g. Vienna LTE-A SLS,
Rupp et al. 2016, ch. 2):

1. each awake cell schedules, on every sub-band, the backlogged UE it serves with the largest
   proportional-fair metric ``r̂_u,b / R̄_u`` (Kelly 1998; Jalali et al. 2000), where ``r̂`` is
   the spectral efficiency at the SINR the UE reported one TTI earlier (CQI feedback delay);
2. a cell transmits on the sub-bands where it scheduled someone: that is the load that
   couples interference between cells;
3. the SINR of every UE and sub-band follows from the actual transmissions and fading,
   with a receiver-impairment ceiling of :data:`SINR_CEILING_DB`;
4. the scheduled UE receives ``SE(SINR) · PRBs · 12 · SCS · (1 − overhead) · TTI`` bits
   (TS 38.214 CQI tables through :mod:`rantwin.radio.link`), capped by its buffer;
5. ``R̄`` is updated with an exponential window of ``pf_window_ttis``; radio-link failure is
   declared after ``rlf_ttis`` consecutive TTIs of wideband SINR below the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rantwin.radio.link import spectral_efficiency

from . import fading as fd

#: Receiver impairment ceiling on SINR (EVM, phase noise, quantisation), dB: the received
#: signal carries a distortion 40 dB below itself (a UE EVM of 1 %), cf. TS 38.101-1 §6.4.2
#: (transmitter EVM requirements) and the SINR ceilings of TR 36.942 §10.2.
SINR_CEILING_DB = 40.0
#: Time constant of the proportional-fair throughput average, in TTIs.
PF_WINDOW_TTIS = 100.0


@dataclass(frozen=True)
class WindowInputs:
    """What the TTI loop needs, all on the window's fixed geometry.

    A batch holds ``B`` independent windows of one network: they share the cells' PRB and
    bit tables.
    """

    rx_mw: torch.Tensor  # [B, n_cells, n_ues] mean received power per PRB (no fast fading)
    cochannel: torch.Tensor  # [B, n_cells, n_ues] 1.0 where the cell shares the serving carrier
    serving: torch.Tensor  # [B, n_ues] long
    awake: torch.Tensor  # [B, n_cells] bool
    noise_mw: torch.Tensor  # [B, n_ues] noise per PRB
    prb_per_subband: torch.Tensor  # [n_cells] PRBs in each sub-band
    bits_per_prb_per_se: torch.Tensor  # [n_cells] 12 · SCS · (1 − OH) · TTI
    full_buffer: bool
    active: torch.Tensor  # [B, n_ues] bool (full buffer: has data all window)
    buffer_bits: torch.Tensor  # [B, n_ues] float64 backlog at window start (FTP3)
    arrivals_bits: torch.Tensor  # [B, n_ttis, n_ues] new data per TTI (FTP3)
    avg_rate: torch.Tensor  # [B, n_ues] PF average, bits per TTI


@dataclass(frozen=True)
class WindowResult:
    """What the TTI loop measured, per batch element."""

    bits: torch.Tensor  # [B, n_ues] float64 delivered in the window
    sinr_db_mean: torch.Tensor  # [B, n_ues] mean over TTIs of wideband SINR in dB
    prb_util: torch.Tensor  # [B, n_cells] mean fraction of sub-bands used
    had_data: torch.Tensor  # [B, n_ues] bool, backlogged at some TTI
    rlf: torch.Tensor  # [B, n_ues] bool
    buffer_bits: torch.Tensor  # [B, n_ues] backlog at window end
    avg_rate: torch.Tensor  # [B, n_ues]
    tti_index: torch.Tensor  # [n_samples] which TTIs were recorded
    tti_sinr_db: torch.Tensor  # [B, n_samples, n_ues]
    tti_rate_bits: torch.Tensor  # [B, n_samples, n_ues] bits delivered in that TTI


def run_window(
    inp: WindowInputs,
    fading: fd.FadingState | None,
    generators: Sequence[torch.Generator],
    n_ttis: int,
    n_samples: int,
    rlf_sinr_db: float,
    rlf_ttis: int,
) -> WindowResult:
    """Run ``n_ttis`` TTIs of ``B`` independent windows at once.

    Batch element ``b`` draws its fading from ``generators[b]`` alone, in the same order as a
    window run by itself, and every operation acts within an element: a batch gives, bit for
    bit, what its elements give one at a time (tested). Batching only shares the Python
    per-TTI loop, which is what a window costs on these small tensors.

    Args:
        inp: The windows' inputs, ``[B, ...]``.
        fading: The fading at the first TTI (``[B, n_cells, n_ues, n_subbands]``), or
            ``None`` for a run without fast fading (a geometry run).
        generators: ``B`` fading generators, one per element (unused without fading).
        n_ttis: TTIs in the window.
        n_samples: TTIs at which per-UE SINR and rate are recorded (evenly spaced).
        rlf_sinr_db: Radio-link-failure threshold on wideband SINR, dB.
        rlf_ttis: Consecutive TTIs below the threshold that declare a radio-link failure.

    Returns:
        :class:`WindowResult`, ``[B, ...]``.
    """
    n_batch, n_cells, n_ues = inp.rx_mw.shape
    if fading is not None and len(generators) != n_batch:
        raise ValueError(
            f"generators: expected one per batch element ({n_batch}), got {len(generators)}"
        )
    n_sb = 1 if fading is None else fading.re.shape[-1]
    dtype = inp.rx_mw.dtype
    serving = inp.serving  # [B, n_ues]
    own = torch.zeros(n_batch, n_cells, n_ues, dtype=torch.bool)
    own.scatter_(1, serving[:, None, :], True)
    rx_interf_mask = inp.cochannel * (~own).to(dtype)  # [B, n_cells, n_ues]
    prb_sb_ue = inp.prb_per_subband[serving].to(dtype)  # [B, n_ues]
    bits_se_ue = inp.bits_per_prb_per_se[serving].to(dtype)  # [B, n_ues]
    serve_mask = own & inp.awake[:, :, None]  # [B, n_cells, n_ues]

    buffer = inp.buffer_bits.clone()
    avg = inp.avg_rate.clone().to(dtype)
    delivered = torch.zeros(n_batch, n_ues, dtype=torch.float64)
    sinr_sum = torch.zeros(n_batch, n_ues, dtype=torch.float64)
    used = torch.zeros(n_batch, n_cells, dtype=torch.float64)
    had_data = torch.zeros(n_batch, n_ues, dtype=torch.bool)
    below = torch.zeros(n_batch, n_ues, dtype=torch.long)
    rlf = torch.zeros(n_batch, n_ues, dtype=torch.bool)
    sample_at = torch.linspace(0, n_ttis - 1, n_samples).round().long() if n_samples else None
    rec_sinr, rec_rate = [], []
    reported_se: torch.Tensor | None = None  # [B, n_ues, n_sb] CQI feedback of last TTI
    beta = 1.0 / PF_WINDOW_TTIS
    f = fading
    for t in range(n_ttis):
        if f is not None:
            f = fd.advance(generators, f) if t > 0 else f
            rx = inp.rx_mw[..., None] * fd.power_gain(f)  # [B, n_cells, n_ues, n_sb]
        else:
            rx = inp.rx_mw[..., None]  # [B, n_cells, n_ues, 1]
        if inp.full_buffer:
            backlog = inp.active
        else:
            buffer = buffer + inp.arrivals_bits[:, t]
            backlog = buffer > 0
        had_data |= backlog
        # 1. PF scheduling on last TTI's CQI (first TTI: wideband mean SINR, no fading).
        if reported_se is None:
            s0 = inp.rx_mw.gather(1, serving[:, None, :])[:, 0]  # [B, n_ues]
            i0 = (inp.rx_mw * rx_interf_mask * inp.awake[:, :, None]).sum(1)
            ceiling = s0 * 10 ** (-SINR_CEILING_DB / 10)
            reported_se = spectral_efficiency(10 * torch.log10(s0 / (i0 + inp.noise_mw + ceiling)))
            reported_se = reported_se[..., None].expand(n_batch, n_ues, n_sb)
        metric = reported_se / avg.clamp_min(1e-3)[..., None]  # [B, n_ues, n_sb]
        metric = torch.where(backlog[..., None], metric + 1e-9, torch.zeros_like(metric))
        cand = torch.where(serve_mask[..., None], metric[:, None], torch.full_like(rx, -1.0))
        best_val, best_ue = cand.max(dim=2)  # [B, n_cells, n_sb]
        tx_on = best_val > 0  # [B, n_cells, n_sb]
        alloc = torch.zeros(n_batch, n_ues, n_sb, dtype=dtype)
        b_idx, cells_idx, sb_idx = torch.nonzero(tx_on, as_tuple=True)
        alloc[b_idx, best_ue[b_idx, cells_idx, sb_idx], sb_idx] = 1.0
        # 2.–3. SINR with the interference of the cells that actually transmit.
        s = rx.gather(1, serving[:, None, :, None].expand(n_batch, 1, n_ues, n_sb))[:, 0]
        # One contraction per element: a batched einsum rounds differently from a single one
        # (its matmul blocks depend on the batch), and an element must not see its batch.
        interf_rx = rx * rx_interf_mask[..., None]  # [B, n_cells, n_ues, n_sb]
        on = tx_on.to(dtype)  # [B, n_cells, n_sb]
        interf = torch.stack(
            [torch.einsum("cub,cb->ub", interf_rx[i], on[i]) for i in range(n_batch)]
        )  # [B, n_ues, n_sb]
        denom = interf + inp.noise_mw[..., None] + s * 10 ** (-SINR_CEILING_DB / 10)
        sinr_sb_db = 10 * torch.log10(s / denom)  # [B, n_ues, n_sb]
        se = spectral_efficiency(sinr_sb_db)  # [B, n_ues, n_sb]
        reported_se = se
        wideband_db = 10 * torch.log10(s.mean(-1) / denom.mean(-1))  # [B, n_ues]
        # 4. Delivered bits, capped by the buffer.
        bits = (alloc * se).sum(-1) * prb_sb_ue * bits_se_ue  # [B, n_ues]
        if not inp.full_buffer:
            # in float64 and clamped: float32 rounding must not leave a negative backlog
            bits64 = torch.minimum(bits.double(), buffer).clamp_min(0.0)
            buffer = (buffer - bits64).clamp_min(0.0)
            bits = bits64.to(dtype)
        delivered += bits.double()
        sinr_sum += wideband_db.double()
        used += tx_on.double().mean(-1)
        # 5. PF average and radio-link failure.
        avg = (1 - beta) * avg + beta * bits
        below = torch.where(wideband_db < rlf_sinr_db, below + 1, torch.zeros_like(below))
        rlf |= below >= rlf_ttis
        if sample_at is not None and bool((sample_at == t).any()):
            reps = int((sample_at == t).sum())
            rec_sinr.extend([wideband_db] * reps)
            rec_rate.extend([bits] * reps)
    empty = torch.zeros(n_batch, 0, n_ues, dtype=dtype)
    return WindowResult(
        bits=delivered,
        sinr_db_mean=sinr_sum / max(n_ttis, 1),
        prb_util=(used / max(n_ttis, 1)).clamp(0, 1),
        had_data=had_data,
        rlf=rlf,
        buffer_bits=buffer,
        avg_rate=avg,
        tti_index=sample_at if sample_at is not None else torch.zeros(0, dtype=torch.long),
        tti_sinr_db=torch.stack(rec_sinr, 1) if rec_sinr else empty,
        tti_rate_bits=torch.stack(rec_rate, 1) if rec_rate else empty,
    )
