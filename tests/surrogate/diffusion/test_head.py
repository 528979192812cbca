import pytest
import torch

from rantwin.surrogate.diffusion.sampler import SamplerConfig


def test_twin_with_head_assembles_physics(tiny_head, tiny_twin, twin_graphs):
    twin = tiny_twin.with_head(tiny_head, SamplerConfig(kind="ddim", steps=4))
    s = twin.sample(twin_graphs[:2], 4, torch.Generator().manual_seed(0))
    n_ue = sum(g["ue"].num_nodes for g in twin_graphs[:2])
    assert s.ue_sinr_db.shape == (4, n_ue) and s.ue_rsrp_dbm.shape == (4, n_ue)
    assert ((s.cell_prb_util >= 0) & (s.cell_prb_util <= 1)).all()
    assert (s.ue_throughput_mbps[~s.ue_active] == 0).all()
    assert torch.isfinite(s.cell_energy_w).all()
    assert s.ue_sinr_db.std(0).mean() > 0


def test_twin_with_head_samples_one_graph_and_per_tti(tiny_head, tiny_twin, twin_graphs):
    twin = tiny_twin.with_head(tiny_head, SamplerConfig(kind="ddim", steps=2))
    assert twin.model is tiny_twin.model and tiny_twin.head is None
    s = twin.sample(twin_graphs[0], 2, torch.Generator().manual_seed(0), n_ttis=3)
    n_ue = twin_graphs[0]["ue"].num_nodes
    assert s.ue_sinr_db.shape == (2, n_ue)
    assert s.ue_tti_sinr_db is not None and s.ue_tti_sinr_db.shape == (2, 3, n_ue)


def test_activity_is_required_when_trained_with_it(tiny_head, tiny_twin, twin_graphs):
    with pytest.raises(ValueError, match="active"):
        tiny_head.sample(tiny_twin, twin_graphs[0], 2, torch.Generator(), SamplerConfig(steps=2))
