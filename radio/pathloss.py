"""Large-scale path loss, LOS probability and shadowing statistics (Φ, deterministic part).

Models (``MODELS``):

==================  =========================================================================
``fspl``            Free-space path loss (Friis), on the 3D distance; LOS only.
``hata-urban``      Okumura–Hata, small/medium city (COST-231 Hata above 1500 MHz).
``hata-suburban``   Okumura–Hata urban minus the suburban correction.
``hata-rural``      Okumura–Hata urban minus the open-area (rural) correction.
``winner2-urban``   WINNER II D1.1.2 Table 4-4, scenario C2 (typical urban macro), LOS / NLOS.
``winner2-suburban`` WINNER II D1.1.2 Table 4-4, scenario C1 (suburban macro), LOS / NLOS.
``winner2-rural``   WINNER II D1.1.2 Table 4-4, scenario D1 (rural macro), LOS / NLOS.
``38901-uma``       TR 38.901 Table 7.4.1-1, UMa, LOS / NLOS.
``38901-umi``       TR 38.901 Table 7.4.1-1, UMi-Street Canyon, LOS / NLOS.
``38901-rma``       TR 38.901 Table 7.4.1-1, RMa, LOS / NLOS.
==================  =========================================================================

Units: distances and heights in metres, carrier frequency in GHz, losses in dB.

Conventions shared by all models:

* ``los=None`` means **NLOS** for the models that have both states (WINNER II, 38.901);
  Hata has a single (median, built-up area) state and ignores ``los``; FSPL is LOS only.
* Distances below the model's lower limit ``MIN_DISTANCE_M[model]`` (10 m, 1 m for FSPL) are
  clamped to it silently (UE right under the mast); the gradient with respect to a clamped
  distance is zero. Every other out-of-validity input (distance above the maximum or between
  the clamp and the model's own lower validity bound, frequency or antenna height outside the
  tabulated range) is evaluated by extrapolating the formula and reported by **one**
  :class:`PathlossValidityWarning` per call.
* Negative distances, non-positive frequencies or heights and unknown model names raise
  ``ValueError``.
* TR 38.901 UMa / UMi are tabulated for h_BS = 25 m / 10 m only; other BS heights are
  accepted without a warning (they enter through d_3D and the breakpoint only). RMa warns
  outside 10–150 m, Hata outside 30–200 m.
* TR 38.901 breakpoint distances use c = 3.0e8 m/s as the spec does (Table 7.4.1-1 note 1).
* UMa breakpoint: effective environment height h_E = 1 m (the spec draws h_E from
  {1 m w.p. 1/(1+C(d_2D, h_UT)), else U{12, 15, ..., h_UT-1.5}}, Table 7.4.1-1 note 1);
  the deterministic simplification h_E = 1 m is used here, which is exact for
  h_UT < 13 m (C = 0) and what most calibrations use for ground-level UEs.
"""

from __future__ import annotations

import math
import warnings

import torch

from ._tensor import as_bool, as_float, check_min, tracing

Tensor = torch.Tensor

__all__ = [
    "MODELS",
    "MIN_DISTANCE_M",
    "PathlossValidityWarning",
    "pathloss_db",
    "pathloss_los_nlos_db",
    "los_probability",
    "shadowing_std_db",
    "decorrelation_distance_m",
]

MODELS: tuple[str, ...] = (
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

MIN_DISTANCE_M: dict[str, float] = {m: (1.0 if m == "fspl" else 10.0) for m in MODELS}
"""2D distance below which the distance is clamped (TR 38.901 / WINNER II lower limit 10 m)."""

_C_SPEC_M_S = 3.0e8  # TR 38.901 Table 7.4.1-1 note 1 and WINNER II Table 4-4: c = 3.0e8 m/s
_C_EXACT_M_S = 299_792_458.0  # FSPL uses the exact value

RMA_BUILDING_HEIGHT_M = 5.0
"""RMa average building height h (TR 38.901 Table 7.4.1-1 default, applicability 5–50 m)."""
RMA_STREET_WIDTH_M = 20.0
"""RMa average street width W (TR 38.901 Table 7.4.1-1 default, applicability 5–50 m)."""
UMA_H_E_M = 1.0
"""Effective environment height for the UMa / UMi breakpoint (see module docstring)."""


class PathlossValidityWarning(UserWarning):
    """An input lies outside the range in which the path-loss model was validated."""


# --- validity table ---------------------------------------------------------------------
# model -> (fc_min_ghz, fc_max_ghz, (d_min_los, d_max_los), (d_min_nlos, d_max_nlos),
#           (h_bs_min, h_bs_max) | None, (h_ut_min, h_ut_max) | None)
_INF = math.inf
_VALIDITY: dict[str, tuple] = {
    "fspl": (0.0, _INF, (0.0, _INF), (0.0, _INF), None, None),
    # Hata (1980) 150-1500 MHz, COST-231 Hata extension 1500-2000 MHz; 1-20 km;
    # h_b 30-200 m, h_m 1-10 m.
    "hata-urban": (0.15, 2.0, (1e3, 2e4), (1e3, 2e4), (30.0, 200.0), (1.0, 10.0)),
    "hata-suburban": (0.15, 2.0, (1e3, 2e4), (1e3, 2e4), (30.0, 200.0), (1.0, 10.0)),
    "hata-rural": (0.15, 2.0, (1e3, 2e4), (1e3, 2e4), (30.0, 200.0), (1.0, 10.0)),
    # WINNER II D1.1.2 Table 4-4: 2-6 GHz; C2 LOS 10 m-5 km, C1 LOS 30 m-5 km,
    # D1 LOS 10 m-10 km, NLOS 50 m-5 km.
    "winner2-urban": (2.0, 6.0, (10.0, 5e3), (50.0, 5e3), None, None),
    "winner2-suburban": (2.0, 6.0, (30.0, 5e3), (50.0, 5e3), None, None),
    "winner2-rural": (2.0, 6.0, (10.0, 1e4), (50.0, 5e3), None, None),
    # TR 38.901 Table 7.4.1-1 (and §7.4.1 frequency ranges).
    "38901-uma": (0.5, 100.0, (10.0, 5e3), (10.0, 5e3), None, (1.5, 22.5)),
    "38901-umi": (0.5, 100.0, (10.0, 5e3), (10.0, 5e3), None, (1.5, 22.5)),
    "38901-rma": (0.5, 30.0, (10.0, 1e4), (10.0, 5e3), (10.0, 150.0), (1.0, 10.0)),
}


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")


def _out_of(x: Tensor, lo: float, hi: float) -> bool:
    xd = x.detach()
    return bool(((xd < lo) | (xd > hi)).any())


def _warn_validity(
    model: str,
    d2: Tensor,
    fc: Tensor,
    hbs: Tensor,
    hut: Tensor,
    los: Tensor | None,
    both: bool = False,
) -> None:
    """Emit at most one :class:`PathlossValidityWarning` describing every violated range.

    ``los`` selects the distance range each link is checked against (``None``: NLOS);
    ``both`` checks every link against the LOS and the NLOS ranges (both states evaluated).
    Nothing while ``torch.compile`` traces (:func:`~._tensor.tracing`): a compiled caller
    calls :func:`warn_validity` on the links after the compiled call.
    """
    if tracing():
        return
    fc_lo, fc_hi, d_los, d_nlos, hbs_rng, hut_rng = _VALIDITY[model]
    msgs: list[str] = []
    if _out_of(fc, fc_lo, fc_hi):
        msgs.append(f"carrier_ghz outside [{fc_lo}, {fc_hi}] GHz")
    d_clamp = MIN_DISTANCE_M[model]
    dd = d2.detach()
    lo_hi: list[tuple[tuple[float, float], Tensor | None]]
    if model.startswith("hata") or model == "fspl":
        lo_hi = [(d_los, None)]
    elif both:
        lo_hi = [(d_los, None), (d_nlos, None)]
    elif los is None:
        lo_hi = [(d_nlos, None)]
    else:
        lo_hi = [(d_los, los), (d_nlos, ~los)]
    for (lo, hi), mask in lo_hi:
        dm = dd if mask is None else torch.where(mask, dd, torch.full_like(dd, lo))
        if bool((dm > hi).any()):
            msgs.append(f"distance_2d_m above {hi:g} m")
        if lo > d_clamp and bool(((dm < lo) & (dm >= d_clamp)).any()):
            msgs.append(f"distance_2d_m between {d_clamp:g} m and {lo:g} m (formula extrapolated)")
    if hbs_rng is not None and _out_of(hbs, *hbs_rng):
        msgs.append(f"h_bs_m outside [{hbs_rng[0]}, {hbs_rng[1]}] m")
    if hut_rng is not None and _out_of(hut, *hut_rng):
        msgs.append(f"h_ut_m outside [{hut_rng[0]}, {hut_rng[1]}] m")
    if msgs:
        warnings.warn(
            f"pathloss model {model!r} evaluated outside its validity range: "
            + "; ".join(dict.fromkeys(msgs))
            + " (results are extrapolated)",
            PathlossValidityWarning,
            stacklevel=3,
        )


def warn_validity(
    model: str,
    distance_2d_m: Tensor | float,
    carrier_ghz: Tensor | float,
    h_bs_m: Tensor | float,
    h_ut_m: Tensor | float,
) -> None:
    """The validity warning of :func:`pathloss_los_nlos_db`, without evaluating the path loss.

    For a caller that evaluated it under ``torch.compile``, where the warning cannot be
    raised (the compiled Φ of :mod:`rantwin.surrogate.compiled`). **Input:** as
    :func:`pathloss_los_nlos_db`.

    Warns:
        PathlossValidityWarning: at most once, every link checked against the LOS and the
            NLOS validity ranges.
    """
    d2, fc, hbs, hut = _checked_inputs(model, distance_2d_m, carrier_ghz, h_bs_m, h_ut_m)
    _warn_validity(model, d2, fc, hbs, hut, None, both=True)


# --- individual models ------------------------------------------------------------------


def _fspl(d3: Tensor, fc: Tensor) -> Tensor:
    # Friis: PL = 20 log10(4 π d f / c), f in Hz -> 20 log10(d) + 20 log10(fc_GHz) + 32.45
    const = 20.0 * math.log10(4.0 * math.pi * 1e9 / _C_EXACT_M_S)
    return 20.0 * torch.log10(d3) + 20.0 * torch.log10(fc) + const


def _hata(model: str, d2: Tensor, fc: Tensor, hbs: Tensor, hut: Tensor) -> Tensor:
    f = fc * 1e3  # [...] MHz
    d_km = d2 / 1e3  # [...] km
    lf = torch.log10(f)
    # Hata (1980) eq. (small/medium city) mobile antenna correction a(h_m)
    a_hm = (1.1 * lf - 0.7) * hut - (1.56 * lf - 0.8)
    common = -13.82 * torch.log10(hbs) - a_hm + (44.9 - 6.55 * torch.log10(hbs)) * torch.log10(d_km)
    # Hata urban, 150-1500 MHz:
    #   69.55 + 26.16 log f - 13.82 log h_b - a(h_m) + (44.9 - 6.55 log h_b) log d
    hata = 69.55 + 26.16 * lf + common
    # COST-231 Hata, 1500-2000 MHz (C_m = 0 dB, medium city / suburban):
    # 46.3 + 33.9 log f - 13.82 log h_b - a(h_m) + (44.9 - 6.55 log h_b) log d + C_m
    cost231 = 46.3 + 33.9 * lf + common
    urban = torch.where(f > 1500.0, cost231, hata)
    if model == "hata-urban":
        return urban
    if model == "hata-suburban":
        # Hata suburban: L_su = L_u - 2 (log10(f / 28))^2 - 5.4
        return urban - 2.0 * torch.log10(f / 28.0) ** 2 - 5.4
    # Hata open / rural: L_o = L_u - 4.78 (log10 f)^2 + 18.33 log10 f - 40.94
    return urban - 4.78 * lf**2 + 18.33 * lf - 40.94


def _winner2(
    model: str, d3: Tensor, fc: Tensor, hbs: Tensor, hut: Tensor, need_los: bool
) -> tuple[Tensor | None, Tensor]:
    """WINNER II D1.1.2 Table 4-4 (C2 / C1 / D1), d = Tx-Rx (3D) distance, fc in GHz."""
    lf = torch.log10(fc / 5.0)
    ld = torch.log10(d3)
    pl_los = None
    if model == "winner2-urban":
        # Table 4-4, C2 NLOS:
        #   (44.9 - 6.55 log10 h_BS) log10 d + 34.46 + 5.83 log10 h_BS + 23 log10(fc/5)
        pl_nlos = (
            (44.9 - 6.55 * torch.log10(hbs)) * ld + 34.46 + 5.83 * torch.log10(hbs) + 23.0 * lf
        )
        if need_los:
            # Table 4-4 note 4: effective heights h' = h - 1 m, d'_BP = 4 h'_BS h'_MS f_c / c
            hbs_e = torch.clamp(hbs - 1.0, min=1e-3)
            hut_e = torch.clamp(hut - 1.0, min=1e-3)
            d_bp = 4.0 * hbs_e * hut_e * fc * 1e9 / _C_SPEC_M_S
            # Table 4-4, C2 LOS: 26 log10 d + 39 + 20 log10(fc/5)  (10 m < d < d'_BP)
            pl1 = 26.0 * ld + 39.0 + 20.0 * lf
            # (d'_BP < d < 5 km): 40 log10 d + 13.47 - 14 log10 h'_BS - 14 log10 h'_MS
            #                     + 6 log10(fc/5)
            pl2 = (
                40.0 * ld + 13.47 - 14.0 * torch.log10(hbs_e) - 14.0 * torch.log10(hut_e) + 6.0 * lf
            )
            pl_los = torch.where(d3 < d_bp, pl1, pl2)
    elif model == "winner2-suburban":
        # Table 4-4, C1 NLOS:
        #   (44.9 - 6.55 log10 h_BS) log10 d + 31.46 + 5.83 log10 h_BS + 23 log10(fc/5)
        pl_nlos = (
            (44.9 - 6.55 * torch.log10(hbs)) * ld + 31.46 + 5.83 * torch.log10(hbs) + 23.0 * lf
        )
        if need_los:
            # Table 4-4 note 6: d_BP = 4 h_BS h_MS f_c / c (actual heights)
            d_bp = 4.0 * hbs * hut * fc * 1e9 / _C_SPEC_M_S
            # Table 4-4, C1 LOS: 23.8 log10 d + 41.2 + 20 log10(fc/5)  (30 m < d < d_BP)
            pl1 = 23.8 * ld + 41.2 + 20.0 * lf
            # (d_BP < d < 5 km): 40 log10 d + 11.65 - 16.2 log10 h_BS - 16.2 log10 h_MS
            #                    + 3.8 log10(fc/5)
            pl2 = 40.0 * ld + 11.65 - 16.2 * torch.log10(hbs) - 16.2 * torch.log10(hut) + 3.8 * lf
            pl_los = torch.where(d3 < d_bp, pl1, pl2)
    else:  # winner2-rural
        # Table 4-4, D1 NLOS: 25.1 log10 d + 55.4 - 0.13 (h_BS - 25) log10(d/100)
        #                     - 0.9 (h_MS - 1.5) + 21.3 log10(fc/5)
        pl_nlos = (
            25.1 * ld
            + 55.4
            - 0.13 * (hbs - 25.0) * torch.log10(d3 / 100.0)
            - 0.9 * (hut - 1.5)
            + 21.3 * lf
        )
        if need_los:
            # Table 4-4 note 6: d_BP = 4 h_BS h_MS f_c / c
            d_bp = 4.0 * hbs * hut * fc * 1e9 / _C_SPEC_M_S
            # Table 4-4, D1 LOS: 21.5 log10 d + 44.2 + 20 log10(fc/5)  (10 m < d < d_BP)
            pl1 = 21.5 * ld + 44.2 + 20.0 * lf
            # (d_BP < d < 10 km): 40 log10 d + 10.5 - 18.5 log10 h_BS - 18.5 log10 h_MS
            #                     + 1.5 log10(fc/5)
            pl2 = 40.0 * ld + 10.5 - 18.5 * torch.log10(hbs) - 18.5 * torch.log10(hut) + 1.5 * lf
            pl_los = torch.where(d3 < d_bp, pl1, pl2)
    return pl_los, pl_nlos


def _uma_umi_los(
    model: str, d2: Tensor, d3: Tensor, fc: Tensor, hbs: Tensor, hut: Tensor
) -> Tensor:
    # TR 38.901 Table 7.4.1-1 note 1: d'_BP = 4 h'_BS h'_UT f_c / c, h' = h - h_E (h_E = 1 m)
    hbs_e = torch.clamp(hbs - UMA_H_E_M, min=0.0)
    hut_e = torch.clamp(hut - UMA_H_E_M, min=0.0)
    d_bp = 4.0 * hbs_e * hut_e * fc * 1e9 / _C_SPEC_M_S  # [...] m
    lf = 20.0 * torch.log10(fc)
    if model == "38901-uma":
        # TR 38.901 Table 7.4.1-1, UMa LOS: PL1 = 28.0 + 22 log10(d_3D) + 20 log10(f_c)
        pl1 = 28.0 + 22.0 * torch.log10(d3) + lf
        # PL2 = 28.0 + 40 log10(d_3D) + 20 log10(f_c) - 9 log10((d'_BP)^2 + (h_BS - h_UT)^2)
        pl2 = 28.0 + 40.0 * torch.log10(d3) + lf - 9.0 * torch.log10(d_bp**2 + (hbs - hut) ** 2)
    else:
        # TR 38.901 Table 7.4.1-1, UMi-Street Canyon LOS:
        #   PL1 = 32.4 + 21 log10(d_3D) + 20 log10(f_c)
        pl1 = 32.4 + 21.0 * torch.log10(d3) + lf
        # PL2 = 32.4 + 40 log10(d_3D) + 20 log10(f_c) - 9.5 log10((d'_BP)^2 + (h_BS - h_UT)^2)
        pl2 = 32.4 + 40.0 * torch.log10(d3) + lf - 9.5 * torch.log10(d_bp**2 + (hbs - hut) ** 2)
    # PL1 for 10 m <= d_2D <= d'_BP, PL2 for d'_BP <= d_2D <= 5 km
    return torch.where(d2 <= d_bp, pl1, pl2)


def _uma_umi_nlos_prime(model: str, d3: Tensor, fc: Tensor, hut: Tensor) -> Tensor:
    if model == "38901-uma":
        # TR 38.901 Table 7.4.1-1, UMa NLOS:
        #   PL' = 13.54 + 39.08 log10(d_3D) + 20 log10(f_c) - 0.6 (h_UT - 1.5)
        return 13.54 + 39.08 * torch.log10(d3) + 20.0 * torch.log10(fc) - 0.6 * (hut - 1.5)
    # TR 38.901 Table 7.4.1-1, UMi NLOS:
    #   PL' = 35.3 log10(d_3D) + 22.4 + 21.3 log10(f_c) - 0.3 (h_UT - 1.5)
    return 35.3 * torch.log10(d3) + 22.4 + 21.3 * torch.log10(fc) - 0.3 * (hut - 1.5)


def _rma_pl1(d: Tensor, fc: Tensor) -> Tensor:
    h = RMA_BUILDING_HEIGHT_M
    # TR 38.901 Table 7.4.1-1, RMa LOS:
    #   PL1 = 20 log10(40 π d_3D f_c / 3) + min(0.03 h^1.72, 10) log10(d_3D)
    #         - min(0.044 h^1.72, 14.77) + 0.002 log10(h) d_3D
    return (
        20.0 * torch.log10(40.0 * math.pi * d * fc / 3.0)
        + min(0.03 * h**1.72, 10.0) * torch.log10(d)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * math.log10(h) * d
    )


def _rma_los(d2: Tensor, d3: Tensor, fc: Tensor, hbs: Tensor, hut: Tensor) -> Tensor:
    # TR 38.901 Table 7.4.1-1 note 5: d_BP = 2 π h_BS h_UT f_c / c (actual antenna heights)
    d_bp = 2.0 * math.pi * hbs * hut * fc * 1e9 / _C_SPEC_M_S  # [...] m
    pl1 = _rma_pl1(d3, fc)
    # PL2 = PL1(d_BP) + 40 log10(d_3D / d_BP)
    pl2 = _rma_pl1(d_bp, fc) + 40.0 * torch.log10(d3 / d_bp)
    return torch.where(d2 <= d_bp, pl1, pl2)


def _rma_nlos_prime(d3: Tensor, fc: Tensor, hbs: Tensor, hut: Tensor) -> Tensor:
    w, h = RMA_STREET_WIDTH_M, RMA_BUILDING_HEIGHT_M
    # TR 38.901 Table 7.4.1-1, RMa NLOS: PL' = 161.04 - 7.1 log10(W) + 7.5 log10(h)
    #   - (24.37 - 3.7 (h/h_BS)^2) log10(h_BS) + (43.42 - 3.1 log10(h_BS)) (log10(d_3D) - 3)
    #   + 20 log10(f_c) - (3.2 (log10(11.75 h_UT))^2 - 4.97)
    return (
        161.04
        - 7.1 * math.log10(w)
        + 7.5 * math.log10(h)
        - (24.37 - 3.7 * (h / hbs) ** 2) * torch.log10(hbs)
        + (43.42 - 3.1 * torch.log10(hbs)) * (torch.log10(d3) - 3.0)
        + 20.0 * torch.log10(fc)
        - (3.2 * torch.log10(11.75 * hut) ** 2 - 4.97)
    )


def pathloss_db(
    model: str,
    distance_2d_m: Tensor | float,
    carrier_ghz: Tensor | float,
    h_bs_m: Tensor | float,
    h_ut_m: Tensor | float,
    los: Tensor | bool | None = None,
) -> Tensor:
    """Median large-scale path loss of one of :data:`MODELS` (no shadowing, no O2I).

    **Input**

    - ``model``: str, one of :data:`MODELS`.
    - ``distance_2d_m``: ``[...]`` float, horizontal BS–UE distance d_2D in metres (>= 0).
    - ``carrier_ghz``: ``[...]`` float, carrier frequency f_c in GHz (> 0).
    - ``h_bs_m``: ``[...]`` float, BS antenna height in metres (> 0).
    - ``h_ut_m``: ``[...]`` float, UE antenna height in metres (> 0).
    - ``los``: ``[...]`` bool or ``None``; ``None`` = NLOS for models with both states
      (WINNER II, 38.901), ignored by Hata (single state) and FSPL (LOS only).

    All inputs broadcast against each other; d_3D = sqrt(d_2D² + (h_BS − h_UT)²) is computed
    inside (TR 38.901 Fig. 7.4.1-1) and used wherever the spec writes d_3D. The 38.901 NLOS
    value is ``max(PL_LOS, PL'_NLOS)`` (Table 7.4.1-1); LOS uses the PL1 / PL2 breakpoint
    form. Hata uses d_2D in km and f in MHz with the small/medium-city a(h_m); above
    1500 MHz the COST-231 Hata urban base (C_m = 0 dB) replaces the Hata one and the same
    suburban / open-area corrections are applied. WINNER II uses d = d_3D.

    **Output**

    - ``pl_db``: ``[broadcast shape]``, dtype of the floating inputs (float32 / float64),
      path loss in dB (positive), differentiable with respect to every float input.

    Raises:
        ValueError: unknown ``model`` (lists the valid ones), negative ``distance_2d_m``,
            non-positive ``carrier_ghz`` / heights, or a floating ``los`` tensor.

    Warns:
        PathlossValidityWarning: once per call if any element is out of the model's
            validity range (see the module docstring for the clamp below 10 m).
    """
    d2, fc, hbs, hut = _checked_inputs(model, distance_2d_m, carrier_ghz, h_bs_m, h_ut_m)
    los_t = None if los is None else as_bool("los", los, d2.device)
    shapes = [d2.shape, fc.shape, hbs.shape, hut.shape]
    if los_t is not None:
        shapes.append(los_t.shape)
    shape = torch.broadcast_shapes(*shapes)
    _warn_validity(model, d2, fc, hbs, hut, los_t)
    pl_los, pl_nlos = _los_and_nlos(model, d2, fc, hbs, hut, need_los=los_t is not None)
    if los_t is None or pl_los is None or pl_los is pl_nlos:  # NLOS, or a single-state model
        out = pl_nlos
    else:
        out = torch.where(los_t, pl_los, pl_nlos)
    return out.broadcast_to(shape)


def pathloss_los_nlos_db(
    model: str,
    distance_2d_m: Tensor | float,
    carrier_ghz: Tensor | float,
    h_bs_m: Tensor | float,
    h_ut_m: Tensor | float,
) -> tuple[Tensor, Tensor]:
    """The path loss of every link in both LOS states, from one evaluation of the formulas.

    Bit for bit ``(pathloss_db(..., los=True), pathloss_db(..., los=False))``, at the cost
    of one call: the 38.901 NLOS value is ``max(PL_LOS, PL'_NLOS)`` (Table 7.4.1-1), so the
    LOS branch is evaluated once for both. Single-state models (Hata, FSPL) return the same
    tensor twice. Used where a caller mixes the states with a LOS probability
    (:func:`rantwin.radio.phi.mean_coupling_gain_db`).

    **Input:** as :func:`pathloss_db`, without ``los``.

    **Output:** ``pl_los_db, pl_nlos_db``: ``[broadcast shape]`` each, in dB.

    Raises:
        ValueError: as :func:`pathloss_db`.

    Warns:
        PathlossValidityWarning: at most once per call, every link checked against the
            LOS and the NLOS validity ranges.
    """
    d2, fc, hbs, hut = _checked_inputs(model, distance_2d_m, carrier_ghz, h_bs_m, h_ut_m)
    shape = torch.broadcast_shapes(d2.shape, fc.shape, hbs.shape, hut.shape)
    _warn_validity(model, d2, fc, hbs, hut, None, both=True)
    pl_los, pl_nlos = _los_and_nlos(model, d2, fc, hbs, hut, need_los=True)
    assert pl_los is not None  # need_los: every model gives its LOS value
    return pl_los.broadcast_to(shape), pl_nlos.broadcast_to(shape)


def _checked_inputs(
    model: str,
    distance_2d_m: Tensor | float,
    carrier_ghz: Tensor | float,
    h_bs_m: Tensor | float,
    h_ut_m: Tensor | float,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The inputs of a path-loss call as float tensors, after the model and range checks."""
    _check_model(model)
    d2, fc, hbs, hut = as_float(distance_2d_m, carrier_ghz, h_bs_m, h_ut_m)
    check_min("distance_2d_m", d2, 0.0)
    check_min("carrier_ghz", fc, 0.0, strict=True)
    check_min("h_bs_m", hbs, 0.0, strict=True)
    check_min("h_ut_m", hut, 0.0, strict=True)
    return d2, fc, hbs, hut


def _los_and_nlos(
    model: str, d2: Tensor, fc: Tensor, hbs: Tensor, hut: Tensor, need_los: bool
) -> tuple[Tensor | None, Tensor]:
    """``(PL_LOS, PL_NLOS)`` of checked inputs; PL_LOS may be ``None`` unless ``need_los``.

    Single-state models (FSPL, Hata) return one tensor as both.
    """
    d2c = torch.clamp(d2, min=MIN_DISTANCE_M[model])  # [...] m
    # TR 38.901 Fig. 7.4.1-1: d_3D = sqrt(d_2D^2 + (h_BS - h_UT)^2)
    d3 = torch.sqrt(d2c**2 + (hbs - hut) ** 2)  # [...] m

    if model == "fspl":
        out = _fspl(d3, fc)
        return out, out
    if model.startswith("hata"):
        out = _hata(model, d2c, fc, hbs, hut)
        return out, out
    if model.startswith("winner2"):
        return _winner2(model, d3, fc, hbs, hut, need_los=need_los)
    if model == "38901-rma":
        pl_los = _rma_los(d2c, d3, fc, hbs, hut)
        # TR 38.901 Table 7.4.1-1, RMa NLOS: PL = max(PL_RMa-LOS, PL'_RMa-NLOS)
        return pl_los, torch.maximum(pl_los, _rma_nlos_prime(d3, fc, hbs, hut))
    # 38901-uma / 38901-umi
    pl_los = _uma_umi_los(model, d2c, d3, fc, hbs, hut)
    # TR 38.901 Table 7.4.1-1, UMa / UMi NLOS: PL = max(PL_LOS, PL'_NLOS)
    return pl_los, torch.maximum(pl_los, _uma_umi_nlos_prime(model, d3, fc, hut))


def los_probability(
    model: str, distance_2d_m: Tensor | float, h_ut_m: Tensor | float = 1.5
) -> Tensor:
    """LOS probability Pr_LOS(d_2D-out, h_UT) of TR 38.901 Table 7.4.2-1.

    - RMa: 1 for d ≤ 10 m, else exp(−(d − 10)/1000).
    - UMi-Street Canyon: 1 for d ≤ 18 m, else 18/d + exp(−d/36)(1 − 18/d).
    - UMa: 1 for d ≤ 18 m, else [18/d + exp(−d/63)(1 − 18/d)]
      · (1 + C'(h_UT) · 5/4 · (d/100)³ · exp(−d/150)),
      C'(h_UT) = 0 for h_UT ≤ 13 m, ((h_UT − 13)/10)^1.5 for 13 < h_UT ≤ 23 m
      (h_UT above 23 m uses C'(23 m) = 1; the product is clipped to ≤ 1).
    - Other models: ones for ``fspl`` (always LOS), zeros otherwise (Hata is a single
      NLOS-like state; WINNER II is used here with its NLOS rows unless the caller passes LOS).

    **Input**

    - ``distance_2d_m``: ``[...]`` float, outdoor 2D distance d_2D-out in metres (>= 0).
    - ``h_ut_m``: ``[...]`` float, UE height in metres (only UMa uses it).

    **Output**

    - ``p_los``: ``[broadcast shape]`` float in [0, 1], differentiable in d_2D.
    """
    _check_model(model)
    d, hut = as_float(distance_2d_m, h_ut_m)
    check_min("distance_2d_m", d, 0.0)
    shape = torch.broadcast_shapes(d.shape, hut.shape)
    if model == "fspl":
        return torch.ones(shape, dtype=d.dtype, device=d.device)
    if not model.startswith("38901"):
        return torch.zeros(shape, dtype=d.dtype, device=d.device)
    if model == "38901-rma":
        # TR 38.901 Table 7.4.2-1, RMa: 1 (d <= 10 m); exp(-(d - 10)/1000) (d > 10 m)
        p = torch.exp(-(torch.clamp(d, min=10.0) - 10.0) / 1000.0)
        return p.broadcast_to(shape)
    # Evaluating the d > 18 m branch at max(d, 18) gives exactly 1 at and below 18 m
    # (and avoids 18/0 in the unused branch of a torch.where, which would poison gradients).
    ds = torch.clamp(d, min=18.0)  # [...] m
    if model == "38901-umi":
        # TR 38.901 Table 7.4.2-1, UMi-Street canyon: 18/d + exp(-d/36)(1 - 18/d)
        p = 18.0 / ds + torch.exp(-ds / 36.0) * (1.0 - 18.0 / ds)
        return p.broadcast_to(shape)
    # TR 38.901 Table 7.4.2-1, UMa: C'(h_UT) = ((h_UT - 13)/10)^1.5 for 13 < h_UT <= 23
    c_prime = (torch.clamp(hut, min=13.0, max=23.0) - 13.0) / 10.0
    c_prime = torch.where(c_prime > 0, c_prime, torch.zeros_like(c_prime)) ** 1.5
    base = 18.0 / ds + torch.exp(-ds / 63.0) * (1.0 - 18.0 / ds)
    p = base * (1.0 + c_prime * 1.25 * (ds / 100.0) ** 3 * torch.exp(-ds / 150.0))
    p = torch.where(d <= 18.0, torch.ones_like(p), torch.clamp(p, max=1.0))
    return p.broadcast_to(shape)


# TR 38.901 Table 7.4.1-1 σ_SF (RMa LOS: 4 dB for PL1, 6 dB beyond d_BP -> 4 dB returned);
# WINNER II D1.1.2 Table 4-4 (LOS before the breakpoint 4 dB, NLOS 8 dB); Hata 8 dB.
_SIGMA_SF_DB: dict[str, tuple[float, float]] = {  # model -> (LOS, NLOS)
    "fspl": (0.0, 0.0),
    "hata-urban": (8.0, 8.0),
    "hata-suburban": (8.0, 8.0),
    "hata-rural": (8.0, 8.0),
    "winner2-urban": (4.0, 8.0),
    "winner2-suburban": (4.0, 8.0),
    "winner2-rural": (4.0, 8.0),
    "38901-uma": (4.0, 6.0),
    "38901-umi": (4.0, 7.82),
    "38901-rma": (4.0, 8.0),
}

# TR 38.901 Table 7.5-6 SF correlation distance; WINNER II D1.1.2 Table 4-5 (C2 40/50,
# C1 45/40, D1 64/40); Hata / FSPL: 50 m (no tabulated value; documented default).
_DECORRELATION_M: dict[str, tuple[float, float]] = {  # model -> (LOS, NLOS)
    "fspl": (50.0, 50.0),
    "hata-urban": (50.0, 50.0),
    "hata-suburban": (50.0, 50.0),
    "hata-rural": (50.0, 50.0),
    "winner2-urban": (40.0, 50.0),
    "winner2-suburban": (45.0, 40.0),
    "winner2-rural": (64.0, 40.0),
    "38901-uma": (37.0, 50.0),
    "38901-umi": (10.0, 13.0),
    "38901-rma": (37.0, 120.0),
}


def shadowing_std_db(
    model: str, los: Tensor | bool | None = None, *, dtype: torch.dtype | None = None
) -> Tensor:
    """Log-normal shadow-fading standard deviation σ_SF in dB.

    Sources: TR 38.901 Table 7.4.1-1 (UMa 4 / 6, UMi 4 / 7.82, RMa 4 / 8 dB for LOS / NLOS;
    the RMa LOS value beyond d_BP is 6 dB, the PL1 value 4 dB is returned), WINNER II
    D1.1.2 Table 4-4 (4 dB LOS before the breakpoint, 8 dB NLOS), Hata 8 dB, FSPL 0 dB.

    **Input**

    - ``model``: one of :data:`MODELS`.
    - ``los``: ``[...]`` bool tensor, Python bool or ``None`` (= NLOS).
    - ``dtype``: floating dtype of the result (default ``torch.get_default_dtype()``).

    **Output**

    - ``sigma_db``: ``[...]`` (shape of ``los``; 0-dim for a Python bool / ``None``).
    """
    _check_model(model)
    dtype = dtype or torch.get_default_dtype()
    s_los, s_nlos = _SIGMA_SF_DB[model]
    if los is None:
        return torch.tensor(s_nlos, dtype=dtype)
    los_t = as_bool("los", los, torch.device("cpu") if not isinstance(los, Tensor) else los.device)
    return torch.where(
        los_t,
        torch.tensor(s_los, dtype=dtype, device=los_t.device),
        torch.tensor(s_nlos, dtype=dtype, device=los_t.device),
    )


def decorrelation_distance_m(model: str, los: bool = False) -> float:
    """Shadow-fading decorrelation distance d_corr in metres.

    TR 38.901 Table 7.5-6: UMa LOS 37 / NLOS 50, UMi LOS 10 / NLOS 13, RMa LOS 37 / NLOS 120.
    WINNER II D1.1.2 Table 4-5: C2 40 / 50, C1 45 / 40, D1 64 / 40. Hata and FSPL have no
    tabulated value: 50 m is returned (documented default).

    Args:
        model: One of :data:`MODELS`.
        los: LOS (True) or NLOS (False) condition.

    Returns:
        The decorrelation distance in metres.
    """
    _check_model(model)
    if isinstance(los, Tensor):
        if los.numel() != 1:
            raise ValueError(f"los must be a single bool, got shape {tuple(los.shape)}")
        los = bool(los.item())
    s_los, s_nlos = _DECORRELATION_M[model]
    return s_los if los else s_nlos
