import pytest
import torch
from torch_geometric.data import Batch

from rantwin.surrogate.diffusion.conditioning import conditioning
from rantwin.surrogate.diffusion.denoiser import DenoiserConfig


def _forward(head, twin, graphs, lam=0.3, seed=0):
    b = Batch.from_data_list(graphs)
    cond = conditioning(twin.model, b)
    g = torch.Generator().manual_seed(seed)
    xu = torch.randn(cond.n_ues, 3, generator=g)
    xc = torch.randn(cond.n_cells, 2, generator=g)
    c_ue = head.ue_condition(cond, b["ue"].active)
    with torch.no_grad():
        vu, vc = head.denoiser(
            xu,
            xc,
            torch.full((cond.n_ues,), lam),
            torch.full((cond.n_cells,), lam),
            c_ue,
            cond.cell,
            cond.edge_index,
            cond.edge_attr,
        )
    return xu, xc, vu, vc, cond


def test_shapes(tiny_head, tiny_twin, twin_graphs):
    _, _, vu, vc, cond = _forward(tiny_head, tiny_twin, twin_graphs[:2])
    assert vu.shape == (cond.n_ues, 3) and vc.shape == (cond.n_cells, 2)
    assert torch.isfinite(vu).all() and torch.isfinite(vc).all()


def test_batching_and_scene_permutation_consistency(tiny_head, tiny_twin, twin_graphs):
    """A scene's v does not depend on which scenes share the batch, nor on their order."""
    a, b = twin_graphs[0], twin_graphs[1]
    n_a, c_a = a["ue"].num_nodes, a["cell"].num_nodes
    cond_ab = conditioning(tiny_twin.model, Batch.from_data_list([a, b]))
    g = torch.Generator().manual_seed(0)
    xu = torch.randn(cond_ab.n_ues, 3, generator=g)
    xc = torch.randn(cond_ab.n_cells, 2, generator=g)

    def run(graphs, xu, xc):
        bb = Batch.from_data_list(graphs)
        cond = conditioning(tiny_twin.model, bb)
        with torch.no_grad():
            return tiny_head.denoiser(
                xu,
                xc,
                torch.zeros(cond.n_ues),
                torch.zeros(cond.n_cells),
                tiny_head.ue_condition(cond, bb["ue"].active),
                cond.cell,
                cond.edge_index,
                cond.edge_attr,
            )

    vu_ab, vc_ab = run([a, b], xu, xc)
    vu_a, vc_a = run([a], xu[:n_a], xc[:c_a])
    assert torch.allclose(vu_ab[:n_a], vu_a, atol=1e-5)
    assert torch.allclose(vc_ab[:c_a], vc_a, atol=1e-5)
    vu_ba, vc_ba = run([b, a], torch.cat([xu[n_a:], xu[:n_a]]), torch.cat([xc[c_a:], xc[:c_a]]))
    assert torch.allclose(vu_ba[-n_a:], vu_a, atol=1e-5)
    assert torch.allclose(vc_ba[-c_a:], vc_a, atol=1e-5)


def test_message_passing_couples_nodes(tiny_head, tiny_twin, twin_graphs):
    """Changing one cell's noisy state changes other nodes' v (spatial coherence)."""
    xu, xc, vu, vc, cond = _forward(tiny_head, tiny_twin, twin_graphs[:1])
    xc2 = xc.clone()
    xc2[0] += 3.0
    c_ue = tiny_head.ue_condition(cond, twin_graphs[0]["ue"].active)
    with torch.no_grad():
        vu2, vc2 = tiny_head.denoiser(
            xu,
            xc2,
            torch.full((cond.n_ues,), 0.3),
            torch.full((cond.n_cells,), 0.3),
            c_ue,
            cond.cell,
            cond.edge_index,
            cond.edge_attr,
        )
    assert not torch.allclose(vu2, vu) and not torch.allclose(vc2[1:], vc[1:])


def test_condition_dropout_uses_null_embedding(tiny_head, tiny_twin, twin_graphs):
    xu, xc, vu, vc, cond = _forward(tiny_head, tiny_twin, twin_graphs[:1])
    c_ue = tiny_head.ue_condition(cond, twin_graphs[0]["ue"].active)
    lam_u, lam_c = torch.full((cond.n_ues,), 0.3), torch.full((cond.n_cells,), 0.3)
    with torch.no_grad():
        drop = tiny_head.denoiser(
            xu,
            xc,
            lam_u,
            lam_c,
            c_ue,
            cond.cell,
            cond.edge_index,
            cond.edge_attr,
            torch.ones(cond.n_ues, dtype=torch.bool),
            torch.ones(cond.n_cells, dtype=torch.bool),
        )
        drop2 = tiny_head.denoiser(
            xu,
            xc,
            lam_u,
            lam_c,
            c_ue * 0 + 5,
            cond.cell * 0 - 5,
            cond.edge_index,
            cond.edge_attr,
            torch.ones(cond.n_ues, dtype=torch.bool),
            torch.ones(cond.n_cells, dtype=torch.bool),
        )
    assert not torch.allclose(drop[0], vu)
    assert torch.equal(drop[0], drop2[0]) and torch.equal(drop[1], drop2[1])


def test_reset_parameters_zero_readout(tiny_head):
    import copy

    d = copy.deepcopy(tiny_head.denoiser)
    d.reset_parameters()
    assert all((lin.weight == 0).all() for lin in d.out.values())


@pytest.mark.parametrize(
    "kw",
    [
        {"hidden": 10, "heads": 3},
        {"target": "median"},
        {"cond_dropout": 1.0},
        {"ue_scale": (1.0, 0.0, 1.0)},
        {"cell_shift": (0.0,)},
    ],
)
def test_invalid_config(kw):
    with pytest.raises(ValueError, match="must"):
        DenoiserConfig(**kw)
