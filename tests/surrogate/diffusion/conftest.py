"""A tiny untrained twin and diffusion head over the session's small simulated graphs."""

from __future__ import annotations

import pytest
import torch

from rantwin.surrogate.graph import GraphConfig
from rantwin.surrogate.model import TwinConfig, TwinModel
from rantwin.surrogate.twin import Twin


@pytest.fixture(scope="module")
def tiny_twin():
    torch.manual_seed(0)
    return Twin(
        TwinModel(TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2)), GraphConfig(), {}
    )


@pytest.fixture(scope="module")
def tiny_head(tiny_twin, twin_graphs):
    from rantwin.surrogate.diffusion.denoiser import DenoiserConfig
    from rantwin.surrogate.diffusion.head import DiffusionHead
    from rantwin.surrogate.diffusion.train import attach_conditioning, fit_standardisation

    attach_conditioning(tiny_twin, twin_graphs)
    torch.manual_seed(1)
    cfg = DenoiserConfig(
        hidden=16,
        n_layers=2,
        heads=2,
        twin_hidden=16,
        **fit_standardisation(twin_graphs, "innovation"),
    )
    head = DiffusionHead(cfg).eval()
    # the read-out is zero-initialised (v = 0): perturb it so outputs depend on the inputs
    with torch.no_grad():
        for lin in head.denoiser.out.values():
            lin.weight.normal_(0, 0.3)
    return head
