"""Base-station power consumption: the EARTH model (Auer et al., IEEE Wireless Commun. 2011).

P_in = N_TRX · (P_0 + Δ_p · P_out)   for 0 < P_out ≤ P_max   (Auer et al. 2011, eq. (1))
P_in = N_TRX · P_sleep              for P_out = 0 (sleep mode)

with P_out = load · P_max. Parameters from Table 2 of the paper (2010 technology):

==========  =====  =======  ======  =====  ========
kind        N_TRX  P_max W  P_0 W   Δ_p    P_sleep W
==========  =====  =======  ======  =====  ========
macro       6      20       130     4.7    75
micro       2      6.3      56      2.6    39
==========  =====  =======  ======  =====  ========

``"small"`` is an alias of ``"micro"``. N_TRX counts transceiver chains of a *site*
(macro: 3 sectors × 2 antennas); for a per-sector figure pass
``dataclasses.replace(MACRO, n_trx=2)`` as ``model``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._tensor import as_float, check_min, check_range

Tensor = torch.Tensor

__all__ = [
    "EARTH_MODELS",
    "MACRO",
    "MACRO_SECTOR",
    "MICRO",
    "SMALL_SECTOR",
    "TRX_PER_CELL",
    "EarthParams",
    "bs_power_w",
    "cell_power_w",
]


@dataclass(frozen=True)
class EarthParams:
    """EARTH power-model parameters (Auer et al. 2011, Table 2).

    Attributes:
        n_trx: number of transceiver chains N_TRX.
        p_max_w: maximum RF output power per transceiver P_max (W).
        p0_w: power consumption at zero RF output P_0 (W, per transceiver).
        delta_p: slope of the load dependence Δ_p (dimensionless).
        p_sleep_w: sleep-mode power consumption per transceiver P_sleep (W).
    """

    n_trx: int
    p_max_w: float
    p0_w: float
    delta_p: float
    p_sleep_w: float


MACRO = EarthParams(n_trx=6, p_max_w=20.0, p0_w=130.0, delta_p=4.7, p_sleep_w=75.0)
"""EARTH macro BS (Auer et al. 2011, Table 2)."""
MICRO = EarthParams(n_trx=2, p_max_w=6.3, p0_w=56.0, delta_p=2.6, p_sleep_w=39.0)
"""EARTH micro BS (Auer et al. 2011, Table 2), used for small cells."""

EARTH_MODELS: dict[str, EarthParams] = {"macro": MACRO, "micro": MICRO, "small": MICRO}


def bs_power_w(
    load: Tensor | float,
    p_max_w: Tensor | float | None,
    active: Tensor | bool | float = True,
    model: str | EarthParams = "macro",
) -> Tensor:
    """Input (mains) power of a base station, EARTH model.

    P_in = N_TRX (P_0 + Δ_p · load · P_max) when active, N_TRX · P_sleep when asleep.
    ``active`` may be a bool tensor or a float in [0, 1] (a soft sleep decision, mixing
    the two powers linearly, which equals ``torch.where`` for 0 / 1).

    **Input**

    - ``load``: ``[...]`` float in [0, 1], fraction of P_max radiated (PRB utilisation).
    - ``p_max_w``: ``[...]`` float > 0, max RF output power per transceiver (W);
      ``None`` uses the parameter set's P_max.
    - ``active``: ``[...]`` bool or float in [0, 1].
    - ``model``: ``"macro"``, ``"micro"`` / ``"small"`` or an :class:`EarthParams`.

    **Output**

    - ``power_w``: ``[broadcast shape]`` float (W), differentiable in load, P_max, active.
    """
    if isinstance(model, EarthParams):
        prm = model
    elif model in EARTH_MODELS:
        prm = EARTH_MODELS[model]
    else:
        raise ValueError(
            f"model must be one of {tuple(EARTH_MODELS)} or EarthParams, got {model!r}"
        )
    pmax_in = prm.p_max_w if p_max_w is None else p_max_w
    act_in = active
    if isinstance(active, torch.Tensor) and not active.is_floating_point():
        act_in = active.to(torch.bool)
    ld, pmax = as_float(load, pmax_in)
    act = torch.as_tensor(act_in, device=ld.device)
    act = act.to(ld.dtype)
    check_range("load", ld, 0.0, 1.0)
    check_min("p_max_w", pmax, 0.0, strict=True)
    check_range("active", act, 0.0, 1.0)
    # Auer et al. 2011 eq. (1): P_in = N_TRX (P_0 + Δ_p P_out), P_out = load · P_max
    p_on = prm.n_trx * (prm.p0_w + prm.delta_p * ld * pmax)
    p_sleep = prm.n_trx * prm.p_sleep_w
    return act * p_on + (1.0 - act) * p_sleep


#: Transceivers per cell (sector): a 2-TRX sector, so a 3-sector macro site has the 6 TRX of
#: Auer et al. 2011, Table 2.
TRX_PER_CELL = 2
MACRO_SECTOR = EarthParams(
    n_trx=TRX_PER_CELL, p_max_w=20.0, p0_w=130.0, delta_p=4.7, p_sleep_w=75.0
)
"""One sector of an EARTH macro site (2 of its 6 TRX)."""
SMALL_SECTOR = EarthParams(n_trx=TRX_PER_CELL, p_max_w=6.3, p0_w=56.0, delta_p=2.6, p_sleep_w=39.0)
"""One small cell (EARTH micro, 2 TRX)."""


def cell_power_w(prb_util: Tensor, tx_power_dbm: Tensor, awake: Tensor, small: Tensor) -> Tensor:
    """Mains power of each cell (sector), EARTH model with the sector's transmit power.

    The sector's total transmit power is shared by its :data:`TRX_PER_CELL` transceivers
    (P_max per TRX = P_tx / N_TRX) and the load is the PRB utilisation.

    **Input**

    - ``prb_util``: ``[..., n_cells]`` float in [0, 1].
    - ``tx_power_dbm``: ``[..., n_cells]`` float, sector transmit power in force.
    - ``awake``: ``[..., n_cells]`` bool (or float in [0, 1]).
    - ``small``: ``[n_cells]`` bool, small cell (micro parameters) or macro sector.

    **Output**

    - ``power_w``: ``[..., n_cells]`` float.
    """
    p_max = 10.0 ** ((tx_power_dbm - 30.0) / 10.0) / TRX_PER_CELL
    return torch.where(
        small,
        bs_power_w(prb_util, p_max, awake, SMALL_SECTOR),
        bs_power_w(prb_util, p_max, awake, MACRO_SECTOR),
    )
