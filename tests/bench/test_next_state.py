"""The next-state benchmark replays held-out episodes with and without a carried state."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from rantwin.bench import next_state
from rantwin.surrogate.checkpoint import save_checkpoint
from rantwin.surrogate.data import load_graphs
from rantwin.surrogate.diffusion.checkpoint import save_diffusion
from rantwin.surrogate.diffusion.denoiser import DenoiserConfig
from rantwin.surrogate.diffusion.head import DiffusionHead
from rantwin.surrogate.graph import GraphConfig
from rantwin.surrogate.model import TwinConfig, TwinModel
from tests.conftest import simulate_small, small_variant


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("next")
    simulate_small(root, small_variant(), episodes=2, steps=3)
    torch.manual_seed(0)
    model = TwinModel(TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2, slow=True)).eval()
    save_checkpoint(root / "twin", model, GraphConfig(), {})
    heads = {}
    for label, ns in (("plain", False), ("next", True)):
        head = DiffusionHead(DenoiserConfig(hidden=16, n_layers=1, heads=2, twin_hidden=16,
                                            next_state=ns)).eval()  # fmt: skip
        with torch.no_grad():
            for lin in head.denoiser.out.values():
                lin.weight.normal_(0, 0.05)
        save_diffusion(root / label, head, model, twin_path="twin")
        heads[label] = root / label
    return root, heads


def test_episodes_are_grouped_and_sorted(setup):
    root, _ = setup
    eps = next_state._episodes(load_graphs([root / "data"], progress=False))
    assert len(eps) == 2
    assert all([int(g.scene[3]) for g in e] == [0, 1, 2] for e in eps)


def test_report_has_every_model_and_kpi(setup, tmp_path):
    root, heads = setup
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an untrained twin extrapolates
        next_state.main(["--twin", str(root / "twin"), "--data", str(root / "data"),
                         "--head", f"plain={heads['plain']}", "--head", f"next={heads['next']}",
                         "--samples", "4", "--steps", "2", "--sampler", "ddim",
                         "--out", str(tmp_path)])  # fmt: skip
    rep = json.loads((tmp_path / "next_state.json").read_text())
    assert set(rep["models"]) == {"quantile (slow state)", "plain", "next"}
    for label, res in rep["models"].items():
        for kpi in next_state.KPIS:
            r = res[kpi]
            assert -1 <= r["lag1_corr"] <= 1 and 0 <= r["coverage"] <= 1, (label, kpi)
            # teacher forcing only for models that carry a state
            assert ("crps_forced" in r) == (label != "plain")
    assert "| next | rsrp_res_db |" in (tmp_path / "next_state.md").read_text()
    with pytest.raises(SystemExit, match="LABEL=DIR"):
        next_state.main(["--twin", str(root / "twin"), "--data", str(root / "data"),
                         "--head", "nolabel", "--out", str(tmp_path)])  # fmt: skip
