"""Physics admissibility: the fraction of sampled KPIs inside Φ's admissible set.

A draw is admissible when it respects what the link physics allows whatever the fading,
scheduling and traffic did:

- ``sinr_le_snr``: the SINR is not above the link's SNR, ``SINR ≤ RSRP − N_RE`` (interference
  only lowers it), with ``N_RE = −174 dBm/Hz + 10 log10(Δf) + NF`` the noise per resource
  element (the RSRP is per resource element, TS 38.215 §5.1.1) — up to ``sinr_tol_db`` for
  the super-step averaging of fading;
- ``rsrp_in_budget``: ``|RSRP − Φ RSRP| ≤ rsrp_budget_db`` (shadowing, O2I and fading
  deviations from Φ's median link budget stay within a few shadowing standard deviations);
- ``prb_in_unit``: the PRB utilisation is in [0, 1];
- ``thr_nonneg``: UE and cell throughputs are ≥ 0.

The twin's assembly (``Twin.sample`` / :func:`~.head.assemble`) *enforces* the last two
(clamping); the fractions are meant for the raw draws of a head, before that clamping, and
for the simulator's own reports (the floor, which must be ≈ 1).
"""

from __future__ import annotations

import math

import torch

from rantwin.radio.noise import thermal_noise_dbm
from rantwin.scenarios import Scenario


def noise_per_re_dbm(scenario: Scenario) -> float:
    """Receiver noise power per resource element of a scenario (dBm).

    ``N_RE = −174 + 10 log10(Δf / 1 Hz) + NF`` with the subcarrier spacing ``Δf`` and the UE
    noise figure of the scenario.
    """
    scs_hz = scenario.deployment.scs_khz * 1e3
    return float(thermal_noise_dbm(scs_hz, scenario.propagation.noise_figure_db))


def admissibility(
    ue_rsrp_dbm: torch.Tensor,
    ue_sinr_db: torch.Tensor,
    phi_rsrp_dbm: torch.Tensor,
    noise_re_dbm: torch.Tensor | float,
    cell_prb_util: torch.Tensor | None = None,
    ue_log_thr: torch.Tensor | None = None,
    cell_log_thr: torch.Tensor | None = None,
    sinr_tol_db: float = 1.0,
    rsrp_budget_db: float = 30.0,
) -> dict[str, float]:
    """Fraction of admissible values per rule (module docstring) and for all rules jointly.

    Input:
        ue_rsrp_dbm: ``[S, n_ues]`` sampled RSRP (dBm).
        ue_sinr_db: ``[S, n_ues]`` sampled SINR (dB).
        phi_rsrp_dbm: ``[n_ues]`` Φ RSRP of the serving link.
        noise_re_dbm: noise per resource element, a float or ``[n_ues]`` (scenes may differ).
        cell_prb_util: ``[S, n_cells]`` PRB utilisation (raw draw, before clamping), optional.
        ue_log_thr: ``[S, n_ues]`` ``log1p(throughput)`` (raw draw), optional.
        cell_log_thr: ``[S, n_cells]`` likewise, optional.
        sinr_tol_db: Tolerance of the SINR ≤ SNR rule (dB, ≥ 0).
        rsrp_budget_db: Largest admissible ``|RSRP − Φ RSRP|`` (dB, > 0).

    Output:
        ``{"sinr_le_snr": f, "rsrp_in_budget": f, ["prb_in_unit": f,] ["thr_nonneg": f,]
        "ue_all": f}``, each in [0, 1] (``ue_all``: both UE radio rules hold jointly).
    """
    if sinr_tol_db < 0 or not math.isfinite(sinr_tol_db):
        raise ValueError(f"sinr_tol_db must be finite and >= 0, got {sinr_tol_db}")
    if not rsrp_budget_db > 0:
        raise ValueError(f"rsrp_budget_db must be > 0, got {rsrp_budget_db}")
    if ue_rsrp_dbm.shape != ue_sinr_db.shape:
        raise ValueError(
            f"ue_rsrp_dbm {tuple(ue_rsrp_dbm.shape)} and ue_sinr_db "
            f"{tuple(ue_sinr_db.shape)} must have one shape [S, n_ues]"
        )
    snr = ue_rsrp_dbm - torch.as_tensor(noise_re_dbm, dtype=ue_rsrp_dbm.dtype)  # [S, n_ues]
    ok_sinr = ue_sinr_db <= snr + sinr_tol_db  # [S, n_ues]
    ok_rsrp = (ue_rsrp_dbm - phi_rsrp_dbm).abs() <= rsrp_budget_db  # [S, n_ues]
    out = {
        "sinr_le_snr": float(ok_sinr.float().mean()),
        "rsrp_in_budget": float(ok_rsrp.float().mean()),
    }
    if cell_prb_util is not None:
        out["prb_in_unit"] = float(((cell_prb_util >= 0) & (cell_prb_util <= 1)).float().mean())
    thr = [t.reshape(-1) for t in (ue_log_thr, cell_log_thr) if t is not None]
    if thr:
        out["thr_nonneg"] = float((torch.cat(thr) >= 0).float().mean())
    out["ue_all"] = float((ok_sinr & ok_rsrp).float().mean())
    return out
