"""The slow timescale: copula likelihood, level recurrence, fitting and sampling with state."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from rantwin.surrogate.graph import GraphConfig
from rantwin.surrogate.model import TwinConfig, TwinModel
from rantwin.surrogate.quantiles import LEVELS, quantile_at
from rantwin.surrogate.slow import (
    SlowState,
    advance,
    copula_nll,
    fit_slow_head,
    normal_scores,
)
from rantwin.surrogate.twin import Twin


def test_copula_nll_is_zero_at_rho_zero_and_rewards_the_right_sign():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(20000, generator=g)
    b = 0.7 * a + (1 - 0.49) ** 0.5 * torch.randn(20000, generator=g)
    assert torch.allclose(copula_nll(a, b, torch.zeros(())), torch.zeros(20000))
    nll = {r: float(copula_nll(a, b, torch.tensor(r)).mean()) for r in (-0.7, 0.0, 0.5, 0.7, 0.9)}
    assert min(nll, key=nll.get) == 0.7 and nll[0.7] < nll[0.0] < nll[-0.7]


def test_normal_scores_invert_the_quantile_function():
    q = torch.cumsum(torch.rand(50, len(LEVELS), generator=torch.Generator().manual_seed(1)), -1)
    u = torch.rand(1, 50, generator=torch.Generator().manual_seed(2)).clamp(0.01, 0.99)
    y = quantile_at(q, u)[0]  # [50]
    back = torch.special.ndtr(normal_scores(q, y))
    torch.testing.assert_close(back, u[0], atol=1e-5, rtol=0)


def test_advance_first_step_is_identity_and_state_keeps_the_marginal():
    g = torch.Generator().manual_seed(3)
    u0 = torch.rand(4, 5000, 3, generator=g).clamp(1e-6, 1 - 1e-6)
    same, s0 = advance(u0, None, None)
    assert torch.equal(same, u0)
    rho = torch.full((5000, 3), 0.8)
    prev = SlowState(s0, torch.zeros(5000), torch.full((5000,), 50.0))
    u1, s1 = advance(torch.rand(4, 5000, 3, generator=g).clamp(1e-6, 1 - 1e-6), prev, rho)
    corr = np.corrcoef(s0.flatten().numpy(), s1.flatten().numpy())[0, 1]
    assert abs(corr - 0.8) < 0.02 and abs(float(s1.std()) - 1) < 0.02  # marginal stays N(0, 1)
    assert 0.45 < float(u1.mean()) < 0.55
    # NaN scores (elements at their first step) pass their levels through unchanged
    nan_prev = dataclasses.replace(prev, score=torch.where(torch.arange(5000)[None, :, None] < 10,
                                                           float("nan"), s0))  # fmt: skip
    u2 = torch.rand(4, 5000, 3, generator=g).clamp(1e-6, 1 - 1e-6)
    out, s2 = advance(u2, nan_prev, rho)
    assert torch.equal(out[:, :10], u2[:, :10]) and not torch.isnan(s2).any()


def test_fit_and_sample_with_state(twin_graphs):
    torch.manual_seed(0)
    model = TwinModel(TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2, slow=True))
    g0 = twin_graphs[0]
    assert g0["ue"].xy_m.shape == (g0["ue"].num_nodes, 2) and float(g0.d_corr_m) > 0
    metrics = fit_slow_head(model.eval(), twin_graphs[:4], twin_graphs[4:], steps=30,
                            progress=False)  # fmt: skip
    assert metrics["train_pairs"] > 0 and metrics["val_pairs"] > 0
    assert np.isfinite(metrics["val_nll_rsrp_res"])
    twin = Twin(model.eval(), GraphConfig(), {})
    s0 = twin.sample(g0, 8, torch.Generator().manual_seed(0))
    assert s0.ue_slow_score is not None and s0.ue_slow_score.shape == (8, g0["ue"].num_nodes, 3)
    n = g0["ue"].num_nodes
    state = SlowState(s0.ue_slow_score, torch.zeros(n), torch.full((n,), 50.0))
    # force a strong persistence: the next step's levels follow the previous ones
    with torch.no_grad():
        model.slow_head.net[2].bias.fill_(5.0)
    s1 = twin.sample(g0, 8, torch.Generator().manual_seed(1), slow=state)
    corr = np.corrcoef(s0.ue_slow_score[..., 0].flatten(), s1.ue_slow_score[..., 0].flatten())[0, 1]
    assert corr > 0.95
    fresh = twin.sample(g0, 8, torch.Generator().manual_seed(1))
    corr0 = np.corrcoef(s0.ue_slow_score[..., 0].flatten(), fresh.ue_slow_score[..., 0].flatten())
    assert abs(corr0[0, 1]) < 0.2


def test_cli_adds_the_slow_state_to_a_trained_twin(twin_dataset, twin_graphs, tmp_path, capsys):
    from rantwin.cli.main import main
    from rantwin.surrogate.checkpoint import load_checkpoint, save_checkpoint

    plain = TwinModel(TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2))
    save_checkpoint(tmp_path / "plain", plain, GraphConfig(), {"note": "kept"})
    args = ["train-surrogate", "--from", str(tmp_path / "plain"), "--data", str(twin_dataset),
            "--out", str(tmp_path / "slow"), "--no-progress"]  # fmt: skip
    assert main(args) == 2  # needs held-out data too
    assert "--val-data" in capsys.readouterr().err
    assert main([*args, "--val-data", str(twin_dataset)]) == 0
    model, _, meta = load_checkpoint(tmp_path / "slow")
    assert model.cfg.slow and meta["note"] == "kept" and "mean_rho_rsrp_res" in meta["slow"]
    for k, v in plain.state_dict().items():  # the backbone and heads are untouched
        assert torch.equal(model.state_dict()[k], v)
