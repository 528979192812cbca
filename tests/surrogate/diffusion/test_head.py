import pytest
import torch

from rantwin.surrogate.diffusion.head import DiffusionTwin, sample_twin
from rantwin.surrogate.diffusion.sampler import SamplerConfig


def test_sample_twin_assembles_physics(tiny_head, tiny_twin, twin_graphs):
    s = sample_twin(
        tiny_twin,
        tiny_head,
        twin_graphs[:2],
        4,
        torch.Generator().manual_seed(0),
        SamplerConfig(kind="ddim", steps=4),
    )
    n_ue = sum(g["ue"].num_nodes for g in twin_graphs[:2])
    assert s.ue_sinr_db.shape == (4, n_ue) and s.ue_rsrp_dbm.shape == (4, n_ue)
    assert ((s.cell_prb_util >= 0) & (s.cell_prb_util <= 1)).all()
    assert (s.ue_throughput_mbps[~s.ue_active] == 0).all()
    assert torch.isfinite(s.cell_energy_w).all()
    assert s.ue_sinr_db.std(0).mean() > 0


def test_diffusion_twin_is_a_twin_lookalike(tiny_head, tiny_twin, twin_graphs):
    dt = DiffusionTwin(tiny_twin, tiny_head, SamplerConfig(kind="ddim", steps=2))
    s = dt.sample(twin_graphs[0], 2, torch.Generator().manual_seed(0))
    assert s.ue_sinr_db.shape == (2, twin_graphs[0]["ue"].num_nodes)
    with pytest.raises(ValueError, match="n_ttis"):
        dt.sample(twin_graphs[0], 2, n_ttis=3)


def test_activity_is_required_when_trained_with_it(tiny_head, tiny_twin, twin_graphs):
    with pytest.raises(ValueError, match="active"):
        tiny_head.sample(tiny_twin, twin_graphs[0], 2, torch.Generator(), SamplerConfig(steps=2))
