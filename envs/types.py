"""Typed tensors shared by every backend and every env: :class:`KpiSample`.

A :class:`KpiSample` is one super-step of KPIs for a batch of ``B`` environments, each
with ``M`` ensemble members (independent draws stepped in lockstep under the same config).
The observation (:mod:`.observation`), the reward (:mod:`.reward`) and the dataset rows
(:mod:`.rollout`) are each computed from it by one function.

Conventions: float KPIs are ``float32``; counts are ``float32`` too (a generative backend
may sample non-integer counts; datasets round them); ``ue_serving`` is ``long`` and the
flags are ``bool``. Optional fields are ``None`` when a backend cannot provide them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rantwin.scenarios import CellConfig

__all__ = ["KpiSample", "config_tensors"]


@dataclass(frozen=True)
class KpiSample:
    """KPIs of one super-step, batched: leading dims ``[batch, members]``.

    Per UE values describe the super-step's TTI window (handover counts the whole
    super-step), as in the simulator's report (``docs/simulator.md``).
    """

    # ---- per UE -------------------------------------------------------------------------
    ue_rsrp_dbm: torch.Tensor  # [B, M, n_ues] float32, RSRP of the serving cell
    ue_sinr_db: torch.Tensor  # [B, M, n_ues] float32, wideband SINR (mean in dB over TTIs)
    ue_throughput_mbps: torch.Tensor  # [B, M, n_ues] float32, mean over the super-step
    ue_active: torch.Tensor  # [B, M, n_ues] bool, UE had traffic
    ue_serving: torch.Tensor  # [B, M, n_ues] long, serving cell at the end of the step
    ue_handovers: torch.Tensor  # [B, M, n_ues] float32, handovers during the super-step
    # ---- per cell -----------------------------------------------------------------------
    cell_prb_util: torch.Tensor  # [B, M, n_cells] float32 in [0, 1]
    cell_throughput_mbps: torch.Tensor  # [B, M, n_cells] float32
    cell_energy_w: torch.Tensor  # [B, M, n_cells] float32, base-station input power
    cell_n_active: torch.Tensor  # [B, M, n_cells] float32 (count), active served UEs
    cell_handovers_out: torch.Tensor  # [B, M, n_cells] float32 (count)
    # ---- per batch element --------------------------------------------------------------
    hour: torch.Tensor  # [B] float32, hour of day of the super-step in [0, 24)
    load_factor: torch.Tensor  # [B] float32, diurnal load factor
    # ---- the config in force (shared by all members) ------------------------------------
    cfg_power_offset_db: torch.Tensor  # [B, n_cells] float32
    cfg_tilt_deg: torch.Tensor  # [B, n_cells] float32
    cfg_cio_db: torch.Tensor  # [B, n_cells] float32
    cfg_sleep: torch.Tensor  # [B, n_cells] bool
    # ---- optional -----------------------------------------------------------------------
    ue_tti_sinr_db: torch.Tensor | None = None  # [B, M, n_samples, n_ues] float32
    ue_tti_throughput_mbps: torch.Tensor | None = None  # [B, M, n_samples, n_ues] float32
    tti_index: torch.Tensor | None = None  # [n_samples] long, TTI of each sample
    ue_x_m: torch.Tensor | None = None  # [B, M, n_ues] float32, position at the step's end
    ue_y_m: torch.Tensor | None = None  # [B, M, n_ues] float32
    ue_start_x_m: torch.Tensor | None = None  # [B, M, n_ues] float32, where its walk began
    ue_start_y_m: torch.Tensor | None = None  # [B, M, n_ues] float32
    ue_indoor: torch.Tensor | None = None  # [B, M, n_ues] bool
    ue_speed_mps: torch.Tensor | None = None  # [B, M, n_ues] float32
    ue_coupling_loss_db: torch.Tensor | None = None  # [B, M, n_ues] float32, to serving cell
    ue_pingpongs: torch.Tensor | None = None  # [B, M, n_ues] float32 (count)
    ue_rlf: torch.Tensor | None = None  # [B, M, n_ues] bool, radio-link failure

    @property
    def batch(self) -> int:
        """Batch size ``B``."""
        return int(self.ue_sinr_db.shape[0])

    @property
    def members(self) -> int:
        """Ensemble members ``M``."""
        return int(self.ue_sinr_db.shape[1])

    @property
    def n_ues(self) -> int:
        """UEs per member."""
        return int(self.ue_sinr_db.shape[2])

    @property
    def n_cells(self) -> int:
        """Cells."""
        return int(self.cell_prb_util.shape[2])

    def index_batch(self, index: Sequence[int] | torch.Tensor) -> KpiSample:
        """The sample restricted to some batch elements (``tti_index`` is shared).

        Args:
            index: Batch indices (``[B']`` long).

        Returns:
            A :class:`KpiSample` with batch ``B'``.
        """
        idx = torch.as_tensor(index, dtype=torch.long)
        out: dict[str, torch.Tensor | None] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v if v is None or f.name == "tti_index" else v[idx]
        return KpiSample(**out)  # type: ignore[arg-type]

    @staticmethod
    def stack(samples: Sequence[KpiSample]) -> KpiSample:
        """Concatenate samples along the batch dimension.

        Args:
            samples: Samples with equal members, UEs and cells.

        Returns:
            The concatenated :class:`KpiSample`.
        """
        out: dict[str, torch.Tensor | None] = {}
        for f in dataclasses.fields(KpiSample):
            vals = [getattr(s, f.name) for s in samples]
            if any(v is None for v in vals):
                out[f.name] = None
            elif f.name == "tti_index":
                out[f.name] = vals[0]
            else:
                out[f.name] = torch.cat(vals, 0)
        return KpiSample(**out)  # type: ignore[arg-type]


def config_tensors(configs: Sequence[CellConfig]) -> dict[str, torch.Tensor]:
    """The ``cfg_*`` fields of a :class:`KpiSample` from one config per batch element.

    Args:
        configs: ``B`` configs.

    Returns:
        ``{"cfg_power_offset_db": [B, n_cells] float32, ..., "cfg_sleep": [B, n_cells] bool}``.
    """

    def stack(name: str, dtype: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(np.stack([getattr(c, name) for c in configs]), dtype=dtype)

    return {
        "cfg_power_offset_db": stack("power_offset_db", torch.float32),
        "cfg_tilt_deg": stack("tilt_deg", torch.float32),
        "cfg_cio_db": stack("cio_db", torch.float32),
        "cfg_sleep": stack("sleep", torch.bool),
    }
