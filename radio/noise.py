"""Thermal noise power."""

from __future__ import annotations

import torch

from ._tensor import as_float, check_min

Tensor = torch.Tensor

__all__ = ["THERMAL_NOISE_DBM_PER_HZ", "thermal_noise_dbm"]

THERMAL_NOISE_DBM_PER_HZ = -174.0
"""Thermal noise density k·T at T = 290 K, rounded as in TR 38.901 / TR 36.814 (dBm/Hz)."""


def thermal_noise_dbm(
    bandwidth_hz: Tensor | float, noise_figure_db: Tensor | float = 0.0
) -> Tensor:
    """Receiver noise power N = −174 dBm/Hz + 10 log10(B) + NF.

    **Input**

    - ``bandwidth_hz``: ``[...]`` float > 0, noise bandwidth in Hz (e.g. one RE: 30e3).
    - ``noise_figure_db``: ``[...]`` float, receiver noise figure in dB (UE: 9 dB,
      TR 38.901 Table 7.8-1).

    **Output**

    - ``noise_dbm``: ``[broadcast shape]`` float, noise power in dBm.

    Raises:
        ValueError: if ``bandwidth_hz`` <= 0.
    """
    b, nf = as_float(bandwidth_hz, noise_figure_db)
    check_min("bandwidth_hz", b, 0.0, strict=True)
    return THERMAL_NOISE_DBM_PER_HZ + 10.0 * torch.log10(b) + nf
