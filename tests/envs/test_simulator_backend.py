"""The simulator backend: one batched simulator step for every element and member, each the
simulator episode its seed names, exactly."""

import dataclasses

import numpy as np
import torch

from rantwin.envs.backends.simulator import SimulatorBackend, member_seed
from rantwin.simulator import Simulator


def test_every_element_and_member_is_its_own_simulator_episode(tiny_sc):
    backend = SimulatorBackend(tiny_sc, members=2)
    sim = Simulator(tiny_sc)
    base = sim.default_config()
    sleep = np.zeros(sim.n_cells, bool)
    sleep[2] = True
    other = dataclasses.replace(base, sleep=sleep, power_offset_db=np.full(sim.n_cells, -3.0))
    seeds, configs = [5, 8, 5], [base, other, other]
    state = backend.reset(seeds)
    for _ in range(2):
        state, kpi = backend.step(state, configs)
    for b, (seed, cfg) in enumerate(zip(seeds, configs, strict=True)):
        for m in range(2):
            alone = sim.reset(member_seed(seed, m))
            for _ in range(2):
                alone, rep = sim.step(alone, cfg)
            assert torch.equal(kpi.ue_sinr_db[b, m], torch.as_tensor(rep.sinr_db))
            assert torch.equal(kpi.ue_throughput_mbps[b, m], torch.as_tensor(rep.throughput_mbps))
            assert torch.equal(kpi.ue_serving[b, m], torch.as_tensor(rep.serving_cell).long())
            assert torch.equal(kpi.cell_energy_w[b, m], torch.as_tensor(rep.energy_w))
            assert torch.equal(state.states[b][m].ue_xy_m, alone.ue_xy_m)
    # members differ, and the config mattered: the batch did not mix episodes
    assert not torch.equal(kpi.ue_sinr_db[0, 0], kpi.ue_sinr_db[0, 1])
    assert not torch.equal(kpi.cell_energy_w[0, 0], kpi.cell_energy_w[2, 0])
