"""Large-scale calibration against the 3GPP TR 38.901 phase-1 results.

The built-in scenario ``calib-38901-uma`` expresses the assumptions of TR 38.901 Table 7.8-1
(UMa, 19 sites × 3 sectors with wrap-around, ISD 500 m, 6 GHz). Over several drops we collect
the coupling loss to the serving cell and the geometry SINR of every UE and compare their
CDFs with the company-average curves of 3GPP R1-165974 (RAN1#85, "Phase 1 calibration",
spreadsheet ``Phase1Calibration_v42_CMCC.xlsx``), stored in ``data/3gpp_38901_phase1.json``
with the provenance of every number (``docs/calibration/README.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
from tqdm import tqdm

from .engine import Simulator

CALIBRATION_SCENARIO = "calib-38901-uma"


@dataclass(frozen=True)
class CalibrationResult:
    """Simulated samples, the 3GPP reference, and the gaps at the reference percentiles."""

    percentiles: np.ndarray  # [n_pct]
    coupling_loss_db: np.ndarray  # [n_samples] simulated
    geometry_sinr_db: np.ndarray  # [n_samples] simulated
    ref_coupling_loss_db: np.ndarray  # [n_pct] 3GPP company average
    ref_geometry_sinr_db: np.ndarray  # [n_pct]
    ref_sinr_min_db: np.ndarray  # [n_pct] company spread
    ref_sinr_max_db: np.ndarray  # [n_pct]
    ref_cl_min_db: np.ndarray  # [n_pct]
    ref_cl_max_db: np.ndarray  # [n_pct]

    def gaps(self) -> dict[str, dict[str, float | list[float]]]:
        """Simulated minus reference at each percentile, and the median (50 %) gap, in dB."""
        out: dict[str, dict[str, float | list[float]]] = {}
        for name, sim, ref in (
            ("coupling_loss_db", self.coupling_loss_db, self.ref_coupling_loss_db),
            ("geometry_sinr_db", self.geometry_sinr_db, self.ref_geometry_sinr_db),
        ):
            q = np.percentile(sim, self.percentiles)
            gap = q - ref
            out[name] = {
                "median_gap_db": float(gap[list(self.percentiles).index(50)]),
                "mean_abs_gap_db": float(np.mean(np.abs(gap))),
                "max_abs_gap_db": float(np.max(np.abs(gap))),
                "simulated": [round(float(v), 2) for v in q],
                "reference": [float(v) for v in ref],
            }
        return out


def load_reference() -> dict:
    """The 3GPP phase-1 calibration reference (UMa, 6 GHz) with its sources."""
    text = resources.files("rantwin.simulator").joinpath("data/3gpp_38901_phase1.json").read_text()
    return json.loads(text)


def run_calibration(drops: int = 4, seed: int = 0, progress: bool = True) -> CalibrationResult:
    """Collect coupling loss and geometry SINR over ``drops`` independent drops.

    Args:
        drops: Number of drops (each 1,710 UEs).
        seed: Root seed; drop ``k`` uses seed ``seed + k``.
        progress: Show a progress bar.

    Returns:
        A :class:`CalibrationResult`.
    """
    if drops < 1:
        raise ValueError(f"drops must be >= 1, got {drops}")
    sim = Simulator(CALIBRATION_SCENARIO)
    cl, sinr = [], []
    for k in tqdm(range(drops), desc="calibrate", unit="drop", disable=not progress):
        ls = sim.large_scale(sim.reset(seed + k))
        cl.append(ls.coupling_loss_db.numpy())
        sinr.append(ls.geometry_sinr_db.numpy())
    ref = load_reference()
    c, g = ref["coupling_loss_db"], ref["geometry_sinr_db"]
    return CalibrationResult(
        percentiles=np.asarray(c["percentiles"], dtype=float),
        coupling_loss_db=np.concatenate(cl),
        geometry_sinr_db=np.concatenate(sinr),
        ref_coupling_loss_db=np.asarray(c["values"]),
        ref_geometry_sinr_db=np.asarray(g["values"]),
        ref_sinr_min_db=np.asarray(g.get("company_min", g["values"])),
        ref_sinr_max_db=np.asarray(g.get("company_max", g["values"])),
        ref_cl_min_db=np.asarray(c.get("company_min", c["values"])),
        ref_cl_max_db=np.asarray(c.get("company_max", c["values"])),
    )
