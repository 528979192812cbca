"""A diffusion head on a twin with the mixed PRB head: it keeps the twin's atom at PRB = 1."""

import pytest
import torch

from rantwin.surrogate.diffusion.denoiser import DenoiserConfig
from rantwin.surrogate.diffusion.head import DiffusionHead
from rantwin.surrogate.diffusion.sampler import SamplerConfig
from rantwin.surrogate.graph import GraphConfig
from rantwin.surrogate.model import TwinConfig, TwinModel
from rantwin.surrogate.train import cell_target_mask
from rantwin.surrogate.twin import Twin


def _atom_twin() -> Twin:
    torch.manual_seed(0)
    model = TwinModel(TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2, prb_full=True))
    with torch.no_grad():  # P(PRB = 1 | loaded) = 1
        model.prb_full_head[-1].weight.zero_()
        model.prb_full_head[-1].bias.fill_(30.0)
    return Twin(model.eval(), GraphConfig(), {})


def _head(prb_atom: bool) -> DiffusionHead:
    torch.manual_seed(1)
    head = DiffusionHead(
        DenoiserConfig(hidden=16, n_layers=1, heads=2, twin_hidden=16, prb_atom=prb_atom)
    ).eval()
    with torch.no_grad():  # zero-initialised read-out: make the draws depend on the inputs
        for lin in head.denoiser.out.values():
            lin.weight.normal_(0, 0.3)
    return head


@pytest.mark.parametrize("prb_atom", [True, False])
def test_the_head_keeps_the_atom_only_when_trained_for_it(twin_graphs, prb_atom):
    twin = _atom_twin().with_head(_head(prb_atom), SamplerConfig(kind="ddim", steps=2))
    s = twin.sample(twin_graphs[:2], 4, torch.Generator().manual_seed(0))
    # the cells that carry load in a draw: awake with an active Φ-served UE (twin.py)
    awake = torch.cat([g["cell"].awake for g in twin_graphs[:2]])  # [n_cells]
    loaded = (s.cell_n_active > 0) & awake  # [n_samples, n_cells]
    assert loaded.any()
    at_one = s.cell_prb_util[loaded] == 1.0
    assert bool(at_one.all()) if prb_atom else not bool(at_one.all())
    assert ((s.cell_prb_util >= 0) & (s.cell_prb_util <= 1)).all()


def test_the_atom_is_not_a_target_of_the_unsaturated_part(twin_graphs):
    cell = twin_graphs[0]["cell"].clone()
    y = cell.y.clone()
    y[:, 0] = torch.where(torch.arange(y.shape[0]) % 2 == 0, torch.tensor(1.0), torch.tensor(0.4))
    cell.y = y
    plain, atom = cell_target_mask(cell, False), cell_target_mask(cell, True)
    assert torch.equal(plain, cell.y_mask)
    assert torch.equal(atom[:, 0], cell.y_mask[:, 0] & (y[:, 0] < 1.0))
    assert torch.equal(atom[:, 1], cell.y_mask[:, 1])
    assert (plain[:, 0] & ~atom[:, 0]).any()  # some loaded saturated cells were dropped
