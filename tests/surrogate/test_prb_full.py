"""The mixed PRB head: an atom at PRB utilisation = 1 next to the unsaturated quantiles."""

import pytest
import torch
from torch_geometric.data import Batch

from rantwin.surrogate.graph import GraphConfig
from rantwin.surrogate.model import TwinConfig, TwinModel
from rantwin.surrogate.train import PRB_FULL, TrainConfig, real_loss, train_twin
from rantwin.surrogate.twin import Twin

CFG = TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2, prb_full=True)


def _with_prb(graphs, value: float):
    """Copies of ``graphs`` whose loaded cells all have PRB utilisation ``value``."""
    out = []
    for g in graphs:
        g = g.clone()
        y = g["cell"].y.clone()
        y[:, 0] = torch.where(g["cell"].y_mask[:, 0], torch.tensor(value), y[:, 0])
        g["cell"].y = y
        out.append(g)
    return out


def _set_full_bias(model: TwinModel, bias: float) -> None:
    last = model.prb_full_head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(bias)


def test_the_head_exists_only_when_asked(twin_graphs):
    b = Batch.from_data_list(twin_graphs[:2])
    out = TwinModel(CFG)(b)
    assert out.cell_full_logit is not None
    assert out.cell_full_logit.shape == (b["cell"].num_nodes,)
    plain = TwinModel(TwinConfig(hidden=16, n_layers=1, heads=1))(b)
    assert plain.cell_full_logit is None
    assert "prb_full_bce" not in real_loss(plain, b, 1.0)


def test_saturated_cells_train_the_atom_not_the_quantiles(twin_graphs):
    """PRB = 1 is a BCE target; the PRB pinball only sees loaded cells below 1."""
    model = TwinModel(CFG)
    full = Batch.from_data_list(_with_prb(twin_graphs[:2], 1.0))
    assert full["cell"].y_mask[:, 0].any()
    terms = real_loss(model(full), full, 1.0)
    assert terms["prb_full_bce"] > 0
    # every loaded cell saturated: the PRB quantiles get no gradient from the pinball
    model.zero_grad()
    terms["cell_pinball"].backward()
    grad = model.cell_head.net[-1].weight.grad.view(2, 19, -1)  # [KPI, level, hidden]
    assert torch.count_nonzero(grad[0]) == 0 and torch.count_nonzero(grad[1]) > 0
    half = Batch.from_data_list(_with_prb(twin_graphs[:2], 0.5))
    model.zero_grad()
    real_loss(model(half), half, 1.0)["cell_pinball"].backward()
    assert torch.count_nonzero(model.cell_head.net[-1].weight.grad.view(2, 19, -1)[0]) > 0
    assert 0.5 < PRB_FULL < 1.0


@pytest.mark.parametrize("bias,expect_full", [(30.0, True), (-30.0, False)])
def test_sampling_puts_the_atom_on_loaded_cells_only(twin_graphs, bias, expect_full):
    model = TwinModel(CFG).eval()
    _set_full_bias(model, bias)
    with torch.no_grad():  # unsaturated quantiles well inside (0, 1)
        model.cell_head.net[-1].weight.zero_()
        model.cell_head.net[-1].bias.fill_(-6.0)
        model.cell_head.net[-1].bias.view(2, 19)[0, 0] = 0.4
    twin = Twin(model, GraphConfig(), {})
    graphs = twin_graphs[:3]
    gens = [torch.Generator().manual_seed(i) for i in range(3)]
    for s in (
        twin.sample(graphs, 8, torch.Generator().manual_seed(0)),
        twin.sample(graphs, 8, gens),  # one generator per scene
    ):
        loaded = s.cell_prb_util > 0  # [S, n_cells]; 0 exactly when idle or asleep
        assert loaded.any()
        at_one = s.cell_prb_util[loaded] == 1.0
        assert bool(at_one.all()) if expect_full else not bool(at_one.any())
        assert ((s.cell_prb_util >= 0) & (s.cell_prb_util <= 1)).all()


def test_per_scene_draws_do_not_depend_on_the_batch(twin_graphs):
    """Scene b's atom draws come from its own generator, whatever else is batched."""
    torch.manual_seed(0)
    model = TwinModel(CFG).eval()
    _set_full_bias(model, 0.0)  # P(full) = 1/2: the draw decides
    twin = Twin(model, GraphConfig(), {})
    g = twin_graphs[:3]
    alone = twin.sample(g[2:3], 16, [torch.Generator().manual_seed(7)])
    gens = [torch.Generator().manual_seed(s) for s in (1, 2, 7)]
    together = twin.sample(g, 16, gens)
    n = alone.cell_prb_util.shape[1]
    mine = together.cell_prb_util[:, -n:]
    # the atom's draws are the same bits; the unsaturated values go through the batched
    # backbone, equal to float32 rounding only (matrix products blocked by batch size)
    assert torch.equal(mine == 1.0, alone.cell_prb_util == 1.0)
    assert ((alone.cell_prb_util == 1.0).float().mean() - 0.5).abs() < 0.3  # both outcomes
    torch.testing.assert_close(mine, alone.cell_prb_util, rtol=0, atol=1e-5)


def test_a_trained_mixed_head_learns_the_saturation_rate(twin_graphs):
    """Trained on data where every loaded cell is saturated, P(PRB = 1) goes up."""
    data = _with_prb(twin_graphs, 1.0)
    # the raw weights, not their average: eight optimiser steps barely move an EMA of decay
    # 0.995 from the initial weights, so it would grade the initialisation
    res = train_twin(data[:4], data[4:], CFG, TrainConfig(epochs=4, physics_epochs=1,
                     batch_size=2, lr=1e-2, ema_decay=0.0), progress=False)  # fmt: skip
    assert "val_prb_full_bce" in res.history[-1]
    val = Batch.from_data_list(data[4:])
    loaded = val["cell"].y_mask[:, 0]
    torch.manual_seed(0)  # train_twin initialises its model the same way
    before = torch.sigmoid(TwinModel(CFG).eval()(val).cell_full_logit[loaded]).mean()
    after = torch.sigmoid(res.model(val).cell_full_logit[loaded]).mean()
    assert after > before + 0.15 and after > 0.65, (float(before), float(after))
