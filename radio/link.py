"""Link-level abstraction: RSRP, load-coupled SINR, CQI / spectral efficiency, throughput.

CQI tables are TS 38.214 V16/V17 Table 5.2.2.1-2 (``"64qam"``, CQI table 1) and
Table 5.2.2.1-3 (``"256qam"``, CQI table 2), reproduced exactly (modulation order Q_m,
code rate × 1024 and spectral efficiency as printed in the spec, 4 decimals).

SINR thresholds (:data:`CQI_SINR_THRESHOLDS_DB`): minimum SINR at which each CQI meets the
10 % BLER target on an AWGN SISO link.

- ``"64qam"``: −6.7, −4.7, −2.3, 0.2, 2.4, 4.3, 5.9, 8.1, 10.3, 11.7, 14.1, 16.3, 18.7,
  21.0, 22.7 dB — the LTE/NR 64QAM CQI table link-level curves of the Vienna LTE
  link-level simulator (Mehlführer et al., EUSIPCO 2009), as tabulated in
  Kawser et al., "Downlink SNR to CQI Mapping for Different Multiple Antenna Techniques in
  LTE", IJIEE 2(5), 2012 (rounded to 0.1 dB). Table 5.2.2.1-2 is identical to the LTE
  36.213 table, so these carry over.
- ``"256qam"``: CQI 1–11 of Table 5.2.2.1-3 reuse the 64QAM-table entries with the *same*
  (modulation, code rate) and hence the same threshold (table-2 CQI k ≡ table-1 CQI
  1, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14); CQI 12 (256QAM, 711/1024, SE 5.5547) takes the
  threshold of table-1 CQI 15 (same SE); CQI 13–15 are extrapolated from CQI 12 with the
  high-SNR Shannon slope 10·log10(2) ≈ 3.01 dB per bit/s/Hz of extra spectral efficiency
  (24.7, 26.8, 28.3 dB). This is a documented approximation, not a spec value.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ._tensor import as_float, check_min, check_range, tracing

Tensor = torch.Tensor

__all__ = [
    "CqiEntry",
    "CQI_TABLE_64QAM",
    "CQI_TABLE_256QAM",
    "CQI_TABLES",
    "CQI_SINR_THRESHOLDS_DB",
    "rsrp_dbm",
    "sinr_db",
    "sinr_to_cqi",
    "cqi_to_spectral_efficiency",
    "spectral_efficiency",
    "throughput_bps",
]


class CqiEntry(NamedTuple):
    """One row of a TS 38.214 CQI table (row 0 = "out of range")."""

    cqi: int
    modulation_order: int  # Q_m: 2 QPSK, 4 16QAM, 6 64QAM, 8 256QAM (0: out of range)
    code_rate_x1024: int
    spectral_efficiency: float  # bits/s/Hz (as printed in the spec)


CQI_TABLE_64QAM: tuple[CqiEntry, ...] = (
    # TS 38.214 Table 5.2.2.1-2 (4-bit CQI table 1)
    CqiEntry(0, 0, 0, 0.0),  # out of range
    CqiEntry(1, 2, 78, 0.1523),
    CqiEntry(2, 2, 120, 0.2344),
    CqiEntry(3, 2, 193, 0.3770),
    CqiEntry(4, 2, 308, 0.6016),
    CqiEntry(5, 2, 449, 0.8770),
    CqiEntry(6, 2, 602, 1.1758),
    CqiEntry(7, 4, 378, 1.4766),
    CqiEntry(8, 4, 490, 1.9141),
    CqiEntry(9, 4, 616, 2.4063),
    CqiEntry(10, 6, 466, 2.7305),
    CqiEntry(11, 6, 567, 3.3223),
    CqiEntry(12, 6, 666, 3.9023),
    CqiEntry(13, 6, 772, 4.5234),
    CqiEntry(14, 6, 873, 5.1152),
    CqiEntry(15, 6, 948, 5.5547),
)
"""TS 38.214 Table 5.2.2.1-2, indexable by CQI (0..15)."""

CQI_TABLE_256QAM: tuple[CqiEntry, ...] = (
    # TS 38.214 Table 5.2.2.1-3 (4-bit CQI table 2)
    CqiEntry(0, 0, 0, 0.0),  # out of range
    CqiEntry(1, 2, 78, 0.1523),
    CqiEntry(2, 2, 193, 0.3770),
    CqiEntry(3, 2, 449, 0.8770),
    CqiEntry(4, 4, 378, 1.4766),
    CqiEntry(5, 4, 490, 1.9141),
    CqiEntry(6, 4, 616, 2.4063),
    CqiEntry(7, 6, 466, 2.7305),
    CqiEntry(8, 6, 567, 3.3223),
    CqiEntry(9, 6, 666, 3.9023),
    CqiEntry(10, 6, 772, 4.5234),
    CqiEntry(11, 6, 873, 5.1152),
    CqiEntry(12, 8, 711, 5.5547),
    CqiEntry(13, 8, 797, 6.2266),
    CqiEntry(14, 8, 885, 6.9141),
    CqiEntry(15, 8, 948, 7.4063),
)
"""TS 38.214 Table 5.2.2.1-3, indexable by CQI (0..15)."""

CQI_TABLES: dict[str, tuple[CqiEntry, ...]] = {
    "64qam": CQI_TABLE_64QAM,
    "256qam": CQI_TABLE_256QAM,
}

_THR_64QAM_DB: tuple[float, ...] = (
    -6.7, -4.7, -2.3, 0.2, 2.4, 4.3, 5.9, 8.1, 10.3, 11.7, 14.1, 16.3, 18.7, 21.0, 22.7,
)  # fmt: skip
_THR_256QAM_DB: tuple[float, ...] = (
    -6.7, -2.3, 2.4, 5.9, 8.1, 10.3, 11.7, 14.1, 16.3, 18.7, 21.0, 22.7, 24.7, 26.8, 28.3,
)  # fmt: skip

CQI_SINR_THRESHOLDS_DB: dict[str, tuple[float, ...]] = {
    # minimum SINR (dB) for CQI 1..15 at 10 % BLER, AWGN (see module docstring for sources)
    "64qam": _THR_64QAM_DB,
    "256qam": _THR_256QAM_DB,
}
"""SINR thresholds in dB for CQI 1..15 per table name (index k-1 ↔ CQI k)."""


def _table(table: str) -> tuple[CqiEntry, ...]:
    if table not in CQI_TABLES:
        raise ValueError(f"table must be one of {tuple(CQI_TABLES)}, got {table!r}")
    return CQI_TABLES[table]


def rsrp_dbm(
    tx_power_dbm: Tensor | float, n_prb: Tensor | int, coupling_gain_db: Tensor | float
) -> Tensor:
    """Reference-signal received power per resource element, TS 38.215 §5.1.1.

    RSRP = P_tx − 10 log10(12 · n_prb) + G: the total transmit power is spread equally over
    the 12 · n_prb resource elements of the carrier, and G (antenna gain − path loss −
    shadowing − …) is applied. Plain broadcasting: for per-cell powers and a
    ``[..., n_cells, n_ues]`` coupling gain pass ``tx_power_dbm[:, None]`` / ``n_prb[:, None]``.

    **Input**

    - ``tx_power_dbm``: ``[...]`` float, total carrier transmit power (dBm).
    - ``n_prb``: ``[...]`` int / float > 0, PRBs of the carrier.
    - ``coupling_gain_db``: ``[...]`` float, coupling gain (negative dB).

    **Output**

    - ``rsrp_dbm``: ``[broadcast shape]`` float (dBm per RE).
    """
    p, n, g = as_float(tx_power_dbm, n_prb, coupling_gain_db)
    check_min("n_prb", n, 0.0, strict=True)
    return p - 10.0 * torch.log10(12.0 * n) + g


def sinr_db(
    rx_power_dbm: Tensor,
    serving_cell: Tensor,
    load: Tensor | float,
    noise_dbm: Tensor | float,
) -> Tensor:
    """Load-coupled downlink SINR of every UE towards its serving cell.

    SINR_u = P_{s(u),u} / (Σ_{j ≠ s(u)} ρ_j · P_{j,u} + N_u), where ρ_j ∈ [0, 1] is the
    fraction of resources cell j occupies (load-coupling / "ρ-model" interference as in
    Siomina & Yuan, and the 3GPP "interference scaled by load" abstraction).
    ``rx_power_dbm`` and ``noise_dbm`` must be on the same bandwidth basis (e.g. both per RE).

    **Input**

    - ``rx_power_dbm``: ``[..., n_cells, n_ues]`` float, received powers (dBm).
    - ``serving_cell``: ``[..., n_ues]`` long in [0, n_cells).
    - ``load``: ``[..., n_cells]`` float in [0, 1] (or scalar).
    - ``noise_dbm``: scalar or ``[..., n_ues]`` float (dBm).

    **Output**

    - ``sinr_db``: ``[..., n_ues]`` float, differentiable in powers, load and noise.

    Raises:
        ValueError: out-of-range ``serving_cell`` or ``load``.
    """
    rx, ld, nz = as_float(rx_power_dbm, load, noise_dbm)
    n_cells = rx.shape[-2]
    serving_cell = torch.as_tensor(serving_cell, device=rx.device)
    if serving_cell.is_floating_point():
        raise ValueError(f"serving_cell must be an integer tensor, got dtype {serving_cell.dtype}")
    serving_cell = serving_cell.to(torch.long)
    if serving_cell.numel() and bool(((serving_cell < 0) | (serving_cell >= n_cells)).any()):
        bad = serving_cell[(serving_cell < 0) | (serving_cell >= n_cells)].flatten()[0].item()
        raise ValueError(f"serving_cell must be in [0, {n_cells}), got {bad}")
    check_range("load", ld, 0.0, 1.0)
    # work relative to the per-UE strongest power to stay in range in float32
    ref = rx.detach().amax(dim=-2, keepdim=True)  # [..., 1, n_ues]
    p_lin = torch.pow(10.0, (rx - ref) / 10.0)  # [..., n_cells, n_ues]
    if ld.dim() > 0:
        ld = ld.unsqueeze(-1)  # [..., n_cells, 1]
    serve = serving_cell.unsqueeze(-2)  # [..., 1, n_ues]
    batch = torch.broadcast_shapes(p_lin.shape[:-2], serve.shape[:-2])
    p_lin_b = p_lin.broadcast_to(*batch, *p_lin.shape[-2:])
    serve_b = serve.broadcast_to(*batch, 1, p_lin.shape[-1])
    s = torch.gather(p_lin_b, -2, serve_b).squeeze(-2)  # [..., n_ues]
    # [..., n_cells, n_ues] mask of the serving link
    is_serving = torch.arange(n_cells, device=rx.device).unsqueeze(-1) == serve_b
    # [..., n_ues] load-weighted interference Σ_{j != s} ρ_j P_j
    interf = torch.where(is_serving, torch.zeros_like(p_lin_b), ld * p_lin_b).sum(-2)
    n_lin = torch.pow(10.0, (nz - ref.squeeze(-2)) / 10.0)  # [..., n_ues]
    return 10.0 * torch.log10(s) - 10.0 * torch.log10(interf + n_lin)


def sinr_to_cqi(sinr_db: Tensor | float, table: str = "256qam") -> Tensor:
    """Highest CQI whose 10 %-BLER SINR threshold is met (0 = out of range).

    **Input** ``sinr_db``: ``[...]`` float; ``table``: ``"64qam"`` or ``"256qam"``.
    **Output** ``cqi``: ``[...]`` long in [0, 15].
    """
    _table(table)
    (s,) = as_float(sinr_db)
    thr = torch.tensor(CQI_SINR_THRESHOLDS_DB[table], dtype=s.dtype, device=s.device)  # [15]
    return torch.bucketize(s.detach(), thr, right=True).to(torch.long)


def cqi_to_spectral_efficiency(
    cqi: Tensor | int, table: str = "256qam", *, dtype: torch.dtype | None = None
) -> Tensor:
    """Spectral efficiency (bits/s/Hz) of a CQI index, TS 38.214 Table 5.2.2.1-2 / -3.

    **Input** ``cqi``: ``[...]`` integer in [0, 15]. **Output** ``[...]`` float (0 for CQI 0).
    """
    rows = _table(table)
    c = torch.as_tensor(cqi, device=cqi.device if isinstance(cqi, Tensor) else None)
    if c.is_floating_point():
        raise ValueError(f"cqi must be an integer tensor, got dtype {c.dtype}")
    c = c.to(torch.long)
    if not tracing() and bool(((c < 0) | (c > 15)).any()):  # (a compiled caller: see tracing)
        bad = c[(c < 0) | (c > 15)].flatten()[0].item()
        raise ValueError(f"cqi must be in [0, 15], got {bad}")
    se = torch.tensor(
        [r.spectral_efficiency for r in rows],
        dtype=dtype or torch.get_default_dtype(),
        device=c.device,
    )  # [16]
    return se[c]


def spectral_efficiency(
    sinr_db: Tensor | float, table: str = "256qam", *, temperature_db: float | None = None
) -> Tensor:
    """SINR → CQI → spectral efficiency in bits/s/Hz (0 below the CQI-1 threshold).

    With ``temperature_db=None`` (default) this is the exact staircase (zero gradient).
    With ``temperature_db = T > 0`` each step is replaced by a logistic of width T,
    SE = Σ_k ΔSE_k · sigmoid((SINR − thr_k) / T), a differentiable surrogate that converges
    to the staircase as T → 0 (for training; the simulator uses the staircase).

    **Input** ``sinr_db``: ``[...]`` float. **Output** ``se``: ``[...]`` float (dtype of input).
    """
    rows = _table(table)
    (s,) = as_float(sinr_db)
    if temperature_db is None:
        return cqi_to_spectral_efficiency(sinr_to_cqi(s, table), table, dtype=s.dtype).to(s.device)
    if not temperature_db > 0:
        raise ValueError(f"temperature_db must be > 0 or None, got {temperature_db}")
    se = torch.tensor([r.spectral_efficiency for r in rows], dtype=s.dtype, device=s.device)
    d_se = se[1:] - se[:-1]  # [15] step heights
    thr = torch.tensor(CQI_SINR_THRESHOLDS_DB[table], dtype=s.dtype, device=s.device)  # [15]
    return (d_se * torch.sigmoid((s.unsqueeze(-1) - thr) / temperature_db)).sum(-1)


#: Downlink overhead OH for FR1 (TS 38.306 §4.1.2): fraction of resource elements spent on
#: control and reference signals.
OVERHEAD_FR1 = 0.14


def throughput_bps(
    spectral_efficiency: Tensor | float,
    n_prb_allocated: Tensor | float,
    scs_khz: Tensor | float = 30.0,
    overhead: float = OVERHEAD_FR1,
) -> Tensor:
    """Throughput = SE · n_PRB · 12 · SCS · (1 − overhead), in bit/s.

    The default overhead 0.14 is the TS 38.306 §4.1.2 downlink overhead OH for FR1.

    **Input**

    - ``spectral_efficiency``: ``[...]`` float, bits/s/Hz.
    - ``n_prb_allocated``: ``[...]`` float >= 0 (fractional allowed: time-averaged share).
    - ``scs_khz``: ``[...]`` float, subcarrier spacing (15, 30, 60, 120 kHz).
    - ``overhead``: float in [0, 1).

    **Output** ``[broadcast shape]`` float, bit/s.
    """
    se, n, scs = as_float(spectral_efficiency, n_prb_allocated, scs_khz)
    check_min("n_prb_allocated", n, 0.0)
    if not 0.0 <= overhead < 1.0:
        raise ValueError(f"overhead must be in [0, 1), got {overhead}")
    return se * n * 12.0 * scs * 1e3 * (1.0 - overhead)
