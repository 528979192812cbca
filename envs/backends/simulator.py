"""The simulator backend: the reference system-level simulator behind the backend protocol.

The simulator is the slow oracle. Every batch element and member is an independent episode;
one :meth:`~rantwin.simulator.Simulator.step_many` call advances them all, sharing the
handover and TTI loops (bit for bit what stepping them one at a time gives). Member ``m`` of batch
element ``b`` runs an independent simulator episode whose seed is derived from
``(seeds[b], m)`` with :class:`numpy.random.SeedSequence` (:func:`member_seed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rantwin.scenarios import CellConfig, Scenario
from rantwin.simulator import Simulator
from rantwin.simulator.report import SuperStepReport
from rantwin.simulator.state import SimState

from ..types import KpiSample, config_tensors

__all__ = ["SimulatorBackend", "SimulatorBatchState", "member_seed"]


def member_seed(seed: int, member: int) -> int:
    """Simulator seed of ensemble member ``member`` of an episode seeded ``seed``.

    Args:
        seed: Episode seed (non-negative integer).
        member: Member index.

    Returns:
        A non-negative 63-bit integer, independent for every ``(seed, member)`` pair.
    """
    words = np.random.SeedSequence([int(seed), int(member)]).generate_state(2, np.uint32)
    return int((int(words[0]) << 31) ^ int(words[1]))


@dataclass(frozen=True)
class SimulatorBatchState:
    """Batched simulator state.

    Attributes:
        states: ``states[b][m]`` is the :class:`SimState` of member ``m`` of element ``b``.
    """

    states: tuple[tuple[SimState, ...], ...]  # [B][M]

    @property
    def batch(self) -> int:
        """Batch size ``B``."""
        return len(self.states)


def _t(x: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x)).to(dtype)


class SimulatorBackend:
    """The stochastic system-level simulator as a :class:`~rantwin.envs.backend.Backend`.

    Args:
        scenario: A :class:`~rantwin.scenarios.Scenario`, built-in name or YAML path.
        members: Independent simulator episodes per batch element (``M``).
    """

    def __init__(self, scenario: Scenario | str, members: int = 1):
        if isinstance(members, bool) or not isinstance(members, int) or members < 1:
            raise ValueError(f"members must be an integer >= 1, got {members!r}")
        self.sim = Simulator(scenario)
        self.scenario: Scenario = self.sim.scenario
        self.n_members = members

    def reset(
        self, seeds: Sequence[int], configs: Sequence[CellConfig] | None = None
    ) -> SimulatorBatchState:
        """Start ``len(seeds)`` episodes of ``M`` members each (see the protocol)."""
        if configs is not None and len(configs) != len(seeds):
            raise ValueError(f"got {len(configs)} configs for {len(seeds)} seeds")
        out = []
        for b, seed in enumerate(seeds):
            if int(seed) < 0:
                raise ValueError(f"seeds[{b}] must be >= 0, got {seed}")
            cfg = None if configs is None else configs[b]
            out.append(
                tuple(self.sim.reset(member_seed(seed, m), cfg) for m in range(self.n_members))
            )
        return SimulatorBatchState(tuple(out))

    def step(
        self, state: SimulatorBatchState, configs: Sequence[CellConfig]
    ) -> tuple[SimulatorBatchState, KpiSample]:
        """One super-step of every member of every element (see the protocol)."""
        if len(configs) != state.batch:
            raise ValueError(
                f"expected one config per batch element ({state.batch}), got {len(configs)}"
            )
        # Every member of every element in one batched simulator step (bit for bit the same
        # as stepping them one after the other).
        flat = [(s, cfg) for row, cfg in zip(state.states, configs, strict=True) for s in row]
        out = self.sim.step_many([s for s, _ in flat], [c for _, c in flat])
        m = self.n_members
        rows = [out[b * m : (b + 1) * m] for b in range(state.batch)]
        new_states = tuple(tuple(s2 for s2, _ in row) for row in rows)
        reports = [[rep for _, rep in row] for row in rows]
        return SimulatorBatchState(new_states), self._kpi(reports, configs)

    def replace(
        self, state: SimulatorBatchState, index: Sequence[int], new: SimulatorBatchState
    ) -> SimulatorBatchState:
        """Elements ``index`` of ``state`` replaced by those of ``new`` (see the protocol)."""
        if len(index) != new.batch:
            raise ValueError(f"{len(index)} indices for a replacement of batch {new.batch}")
        states = list(state.states)
        for i, b in enumerate(index):
            states[int(b)] = new.states[i]
        return SimulatorBatchState(tuple(states))

    @staticmethod
    def _kpi(reports: list[list[SuperStepReport]], configs: Sequence[CellConfig]) -> KpiSample:
        """Stack ``reports[b][m]`` into a :class:`KpiSample` ``[B, M, ...]``."""

        def st(name: str, dtype: torch.dtype) -> torch.Tensor:
            # [B, M, ...] from the per-(b, m) numpy arrays
            return _t(
                np.stack([np.stack([getattr(r, name) for r in row]) for row in reports]), dtype
            )

        f32 = torch.float32
        first = reports[0][0]
        return KpiSample(
            ue_rsrp_dbm=st("rsrp_dbm", f32),
            ue_sinr_db=st("sinr_db", f32),
            ue_throughput_mbps=st("throughput_mbps", f32),
            ue_active=st("active", torch.bool),
            ue_serving=st("serving_cell", torch.long),
            ue_handovers=st("handovers", f32),
            cell_prb_util=st("prb_util", f32),
            cell_throughput_mbps=st("cell_throughput_mbps", f32),
            cell_energy_w=st("energy_w", f32),
            cell_n_active=st("n_active", f32),
            cell_handovers_out=st("handovers_out", f32),
            hour=torch.tensor([row[0].hour for row in reports], dtype=f32),
            load_factor=torch.tensor([row[0].load_factor for row in reports], dtype=f32),
            **config_tensors(configs),
            ue_tti_sinr_db=st("tti_sinr_db", f32),
            ue_tti_throughput_mbps=st("tti_throughput_mbps", f32),
            tti_index=_t(first.tti_index, torch.long),
            ue_x_m=st("x_m", f32),
            ue_y_m=st("y_m", f32),
            ue_start_x_m=st("x_start_m", f32),
            ue_start_y_m=st("y_start_m", f32),
            ue_indoor=st("indoor", torch.bool),
            ue_speed_mps=st("speed_mps", f32),
            ue_coupling_loss_db=st("coupling_loss_db", f32),
            ue_pingpongs=st("pingpongs", f32),
            ue_rlf=st("rlf", torch.bool),
        )
