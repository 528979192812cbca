import json
import warnings

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from rantwin.surrogate.checkpoint import load_checkpoint, save_checkpoint
from rantwin.surrogate.graph import CELL_FEATURES, GraphConfig
from rantwin.surrogate.model import TwinConfig, TwinModel
from rantwin.surrogate.pipeline import feature_ranges
from rantwin.surrogate.train import TrainConfig, _evaluate, train_twin
from rantwin.surrogate.twin import Twin


@pytest.fixture(scope="module")
def trained(twin_graphs):
    tr, va = twin_graphs[:4], twin_graphs[4:]
    cfg = TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2)
    res = train_twin(tr, va, cfg, TrainConfig(epochs=4, physics_epochs=1, batch_size=2),
                     progress=False)  # fmt: skip
    return res, tr, va


def test_training_lowers_held_out_loss(trained):
    res, _, _ = trained
    vals = [h["val_loss"] for h in res.history]
    assert res.best_val < vals[0]
    assert res.history[0]["phase"] == "physics" and res.history[1]["phase"] == "joint"


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_the_kept_weights_are_the_graded_ones(twin_graphs, ema_decay):
    """The checkpoint's weights score the best validation loss; with the moving average on,
    those are the averaged weights (they differ from the raw run's)."""
    tr, va = twin_graphs[:4], twin_graphs[4:]
    cfg = TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2)
    kw = dict(epochs=4, physics_epochs=1, batch_size=2, patience=10)
    res = train_twin(tr, va, cfg, TrainConfig(**kw, ema_decay=ema_decay), progress=False)
    val = _evaluate(res.model, DataLoader(va, batch_size=2), cfg.beta, seed=1)["val_loss"]
    assert val == res.best_val  # the same latent draws as in training's validation
    assert res.best_val == min(h["val_loss"] for h in res.history if h["phase"] == "joint")
    if ema_decay:
        raw = train_twin(tr, va, cfg, TrainConfig(**kw, ema_decay=0.0), progress=False)
        assert raw.history[0]["val_loss"] == res.history[0]["val_loss"]  # same physics phase
        assert raw.history[-1]["val_loss"] != res.history[-1]["val_loss"]


def test_ema_decay_is_validated():
    with pytest.raises(ValueError, match="ema_decay must be in"):
        TrainConfig(ema_decay=1.0)


@pytest.mark.parametrize("conv,latent", [("transformer", 0), ("hgt", 4)])
def test_forward_shapes(twin_graphs, conv, latent):
    from torch_geometric.data import Batch

    b = Batch.from_data_list(twin_graphs[:2])
    out = TwinModel(TwinConfig(hidden=16, heads=2, conv=conv, latent_dim=latent))(b)
    n_ue, n_cell = b["ue"].num_nodes, b["cell"].num_nodes
    assert out.ue_q.shape == (n_ue, 3, 19) and out.cell_q.shape == (n_cell, 2, 19)
    assert out.ue_active_logit.shape == (n_ue,) and out.cell_ho_log_rate.shape == (n_cell,)
    assert (out.kl > 0) == (latent > 0)


@pytest.mark.parametrize("latent,prb_full", [(0, False), (3, True)])
def test_draws_stack_the_heads_of_every_draw(twin_graphs, latent, prb_full):
    """The sampler's one-call forward equals the embedding, prior and heads draw by draw."""
    from torch_geometric.data import Batch

    b = Batch.from_data_list(twin_graphs[:3])
    torch.manual_seed(0)
    m = TwinModel(TwinConfig(hidden=16, heads=2, latent_dim=latent, prb_full=prb_full)).eval()
    eps = torch.randn(4, 3, latent, generator=torch.Generator().manual_seed(1))  # [S, B, Z]
    with torch.no_grad():
        d = m.draws(b, eps, 3)
        x = m.embed(b)
        assert all(torch.equal(d.x[nt], x[nt]) for nt in x)
        mu, log_s = m.prior_params(b, x) if latent else (None, None)
        for i in range(4):
            o = m.heads(b, x, mu + eps[i] * log_s.exp() if latent else None)
            # the stacked rows may take another matmul kernel: equal to float32 rounding
            for f in ("ue_q", "cell_q", "ue_active_logit", "ue_ho_log_rate", "cell_ho_log_rate"):
                torch.testing.assert_close(getattr(d, f)[i], getattr(o, f), rtol=1e-6, atol=1e-6)
            if prb_full:
                torch.testing.assert_close(d.cell_full_logit[i], o.cell_full_logit)
            else:
                assert d.cell_full_logit is None and o.cell_full_logit is None
        assert torch.equal(d.tti_log_sigma, o.tti_log_sigma)
    if latent:  # the draws differ through z
        assert not torch.equal(d.ue_q[0], d.ue_q[1])


def test_checkpoint_round_trip_and_sampling(trained, tmp_path):
    res, tr, va = trained
    save_checkpoint(tmp_path, res.model, GraphConfig(), {"feature_ranges": feature_ranges(tr)})
    twin = Twin.load(tmp_path)
    for k, v in res.model.state_dict().items():
        assert torch.equal(v, twin.model.state_dict()[k])
    s1 = twin.sample(va, 8, torch.Generator().manual_seed(3))
    s2 = twin.sample(va, 8, torch.Generator().manual_seed(3))
    assert torch.equal(s1.ue_sinr_db, s2.ue_sinr_db)  # generator= makes draws reproducible
    n_ue = sum(g["ue"].num_nodes for g in va)
    assert s1.ue_sinr_db.shape == (8, n_ue)
    assert torch.isfinite(s1.ue_rsrp_dbm).all() and (s1.ue_throughput_mbps >= 0).all()
    assert ((s1.cell_prb_util >= 0) & (s1.cell_prb_util <= 1)).all()
    assert (s1.ue_throughput_mbps[~s1.ue_active] == 0).all()
    assert s1.ue_sinr_db.std(0).mean() > 0  # it is a sampler, not a point predictor


def test_sleeping_cells_sample_no_traffic_and_sleep_power(trained, twin_graphs):
    res, _, _ = trained
    twin = Twin(res.model, GraphConfig(), {})
    g = twin_graphs[0].clone()
    g["cell"].awake = g["cell"].awake.clone()
    g["cell"].awake[0] = False
    s = twin.sample(g, 4, torch.Generator().manual_seed(0))
    assert (s.cell_prb_util[:, 0] == 0).all() and (s.cell_throughput_mbps[:, 0] == 0).all()


def test_ue_throughputs_add_up_to_their_cells_with_cell_share(trained, twin_graphs):
    """``cell-share``: per draw, a loaded cell's UEs carry its throughput; the rule draws no
    random numbers, so the default (``independent``) gives the same draws otherwise."""
    res, _, _ = trained
    graphs = twin_graphs[:3]
    shared = Twin(res.model, GraphConfig(), {}, ue_throughput="cell-share").sample(
        graphs, 8, torch.Generator().manual_seed(2)
    )
    alone = Twin(res.model, GraphConfig(), {}).sample(graphs, 8, torch.Generator().manual_seed(2))
    offsets = torch.bincount(shared.cell_scene).cumsum(0) - torch.bincount(shared.cell_scene)
    ue_cell = offsets[shared.ue_scene] + shared.ue_serving  # [n_ues]
    sums = torch.zeros_like(shared.cell_throughput_mbps).index_add_(
        1, ue_cell, shared.ue_throughput_mbps
    )  # [S, n_cells]
    torch.testing.assert_close(sums, shared.cell_throughput_mbps)
    alone_sums = torch.zeros_like(sums).index_add_(1, ue_cell, alone.ue_throughput_mbps)
    assert not torch.allclose(alone_sums, alone.cell_throughput_mbps)  # not so without it
    for f in ("ue_sinr_db", "ue_rsrp_dbm", "ue_active", "cell_throughput_mbps", "cell_prb_util"):
        assert torch.equal(getattr(shared, f), getattr(alone, f))
    with pytest.raises(ValueError, match="ue_throughput must be one of .*got 'mean'"):
        Twin(res.model, GraphConfig(), {}, ue_throughput="mean")


def test_cells_carry_load_only_with_an_active_served_ue(trained, twin_graphs):
    """PRB utilisation and cell throughput are 0 exactly when no Φ-served UE is active."""
    res, _, _ = trained
    twin = Twin(res.model, GraphConfig(), {})
    graphs = twin_graphs[:3]
    s = twin.sample(graphs, 16, torch.Generator().manual_seed(1))
    offsets = torch.bincount(s.cell_scene).cumsum(0) - torch.bincount(s.cell_scene)
    ue_cell = offsets[s.ue_scene] + s.ue_serving  # [n_ues]
    n_active = torch.zeros(16, s.cell_scene.numel()).index_add_(1, ue_cell, s.ue_active.float())
    idle = n_active == 0  # [S, n_cells]
    assert idle.any() and (~idle).any()  # both cases occur in this sample
    assert (s.cell_prb_util[idle] == 0).all() and (s.cell_throughput_mbps[idle] == 0).all()
    awake = torch.cat([g["cell"].awake for g in graphs])  # [n_cells]
    assert (s.cell_prb_util[~idle & awake] > 0).float().mean() > 0.5
    # training masks the same cells: their load is not a target of the cell heads
    g = twin_graphs[0]
    served = torch.zeros(g["cell"].num_nodes).index_add_(
        0, g["ue"].phi_serving, g["ue"].active.float()
    )
    assert torch.equal(g["cell"].y_mask[:, 0], g["cell"].awake & (served > 0))


def test_extrapolation_warning_names_the_feature(trained):
    from rantwin.scenarios import CellConfig
    from rantwin.surrogate.features import SceneInputs
    from tests.conftest import small_variant

    res, tr, _ = trained
    twin = Twin(res.model, GraphConfig(), {"feature_ranges": feature_ranges(tr)})
    sc = small_variant()
    # UEs far faster than any in training
    inp = SceneInputs(sc, CellConfig.default(sc), np.zeros((3, 2)) + 100.0,
                      np.zeros(3, bool), np.full(3, 300.0), 0.4, 1.0)  # fmt: skip
    with pytest.warns(UserWarning, match="ue.speed"):
        twin.graph(inp)


def test_corrupt_and_mismatched_checkpoints_fail_clearly(trained, tmp_path):
    res, _, _ = trained
    save_checkpoint(tmp_path, res.model, GraphConfig())
    (tmp_path / "model.safetensors").write_bytes(b"not a tensor file at all")
    with pytest.raises(ValueError, match="unreadable safetensors"):
        load_checkpoint(tmp_path)
    save_checkpoint(tmp_path, res.model, GraphConfig())
    meta = json.loads((tmp_path / "twin.json").read_text())
    meta["model"]["hidden"] = 32
    (tmp_path / "twin.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="do not fit the architecture"):
        load_checkpoint(tmp_path)
    meta["model"]["hiddn"] = 16
    (tmp_path / "twin.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unknown key 'hiddn'"):
        load_checkpoint(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FileNotFoundError):
            load_checkpoint(tmp_path / "nope")


def test_eval_surrogate_end_to_end(trained, tmp_path):
    """A replicas dataset graded through the CLI: report files and finite scores."""
    import yaml

    from rantwin.cli.main import main
    from rantwin.scenarios import scenario_to_dict
    from tests.conftest import small_variant

    res, tr, _ = trained
    ck = tmp_path / "ck"
    save_checkpoint(ck, res.model, GraphConfig(), {"feature_ranges": feature_ranges(tr)})
    sc = tmp_path / "sc.yaml"
    sc.write_text(yaml.safe_dump(scenario_to_dict(small_variant(**{"ues.count": 30}))))
    data = tmp_path / "rep"
    assert (
        main(
            [
                "simulate",
                "--scenario",
                str(sc),
                "--episodes",
                "3",
                "--steps",
                "1",
                "--replicas",
                "--actions",
                "random",
                "--out",
                str(data),
                "--no-progress",
            ]
        )
        == 0
    )
    rep = tmp_path / "report"
    assert main(["eval-surrogate", "--ckpt", str(ck), "--data", str(data), "--report", str(rep),
                 "--samples", "4", "--device", "cpu", "--no-progress"]) == 0  # fmt: skip
    doc = json.loads((rep / "report.json").read_text())
    assert "device" not in doc.get("meta", {})  # a CPU report reads as before the option
    assert doc["meta"]["ue_throughput"] == "independent"  # the rule of the UE draws, recorded
    shared = tmp_path / "shared"
    args = ["--samples", "4", "--ue-throughput", "cell-share", "--no-progress"]
    assert main(["eval-surrogate", "--ckpt", str(ck), "--data", str(data), "--report", str(shared),
                 *args]) == 0  # fmt: skip
    other = json.loads((shared / "report.json").read_text())
    assert other["meta"]["ue_throughput"] == "cell-share"
    assert other["kpis"]["ue/sinr_db"] == doc["kpis"]["ue/sinr_db"]  # the same draws otherwise
    assert other["kpis"]["ue/throughput_mbps"] != doc["kpis"]["ue/throughput_mbps"]
    assert "ue/sinr_db" in json.dumps(doc)
    hole = doc["kpis"]["ue/coverage_hole"]  # SINR < the reward's default -5 dB, an event
    assert hole["kind"] == "event" and hole["threshold_db"] == -5.0
    assert (rep / "report.md").read_text().count("|") > 10
    assert list(rep.glob("reliability_*.png"))
    # a device this machine lacks: one line naming it, exit 2, before anything is graded
    bad = tmp_path / "bad"
    assert main(["eval-surrogate", "--ckpt", str(ck), "--data", str(data), "--report", str(bad),
                 "--device", "cuda:99", "--no-progress"]) == 2  # fmt: skip
    assert not bad.exists()
    assert main(["eval-surrogate", "--ckpt", str(ck), "--data", str(data), "--report", str(bad),
                 "--coverage-sinr-db", "nan", "--no-progress"]) == 2  # fmt: skip
    assert not bad.exists()


def test_eval_refuses_a_dataset_without_replicas(trained, twin_dataset, tmp_path):
    from rantwin.surrogate.evaluate import collect

    res, _, _ = trained
    with pytest.raises(ValueError, match="replicas"):
        collect(Twin(res.model, GraphConfig(), {}), twin_dataset, 2, progress=False)


def test_event_losses_are_proper_nlls(twin_graphs):
    """Poisson NLLs include log(y!) (full=True): never negative, so terms are comparable."""
    from torch_geometric.data import Batch

    from rantwin.surrogate.train import real_loss

    b = Batch.from_data_list(twin_graphs[:2])
    out = TwinModel(TwinConfig(hidden=16, heads=1))(b)
    terms = real_loss(out, b, 1.0)
    assert terms["ue_ho_nll"] >= 0 and terms["cell_ho_nll"] >= 0


def test_per_tti_samples_from_the_fast_timescale(trained):
    res, _, va = trained
    twin = Twin(res.model, GraphConfig(), {})
    s = twin.sample(va[:2], 3, torch.Generator().manual_seed(0), n_ttis=20)
    n_ue = sum(g["ue"].num_nodes for g in va[:2])
    assert s.ue_tti_sinr_db.shape == (3, 20, n_ue)
    assert torch.isfinite(s.ue_tti_sinr_db).all() and (s.ue_tti_throughput_mbps >= 0).all()
    # per-scene generators give the same per-TTI draws whatever the batch composition
    gens = [torch.Generator().manual_seed(5), torch.Generator().manual_seed(6)]
    both = twin.sample(va[:2], 2, gens, n_ttis=4)
    alone = twin.sample(va[1:2], 2, [torch.Generator().manual_seed(6)], n_ttis=4)
    n0 = va[0]["ue"].num_nodes
    torch.testing.assert_close(both.ue_tti_sinr_db[..., n0:], alone.ue_tti_sinr_db)


def test_cli_k_interferers_shapes_the_stored_graph(twin_dataset, tmp_path, capsys):
    from rantwin.cli.main import main
    from rantwin.surrogate.checkpoint import load_checkpoint
    from rantwin.surrogate.graph import GraphConfig

    out = tmp_path / "k2"
    data = ["--data", str(twin_dataset), "--val-data", str(twin_dataset)]
    args = ["train-surrogate", "--preset", "tiny", *data, "--out", str(out), "--epochs", "2",
            "--no-progress"]  # fmt: skip
    assert main([*args, "--k-interferers", "2"]) == 0
    _, graph_cfg, _ = load_checkpoint(out)
    assert graph_cfg == GraphConfig(k_interferers=2)
    from rantwin.scenarios import CellConfig
    from rantwin.surrogate.features import SceneInputs
    from tests.conftest import small_variant

    sc = small_variant()
    xy = np.random.default_rng(0).uniform(-200, 200, (10, 2))
    inp = SceneInputs(sc, CellConfig.default(sc), xy, np.zeros(10, bool), np.ones(10), 0.4, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a two-world twin extrapolates almost everywhere
        g = Twin.load(out).graph(inp)
    assert g["cell", "interferes", "ue"].edge_index.shape[1] == 2 * 10
    assert main([*args, "--k-interferers", "-1"]) == 2
    assert "k_interferers must be an integer >= 0, got -1" in capsys.readouterr().err
    assert main([*args, "--from", str(out), "--k-interferers", "2"]) == 2
    assert "--k-interferers shapes a new twin's graph" in capsys.readouterr().err


def test_cli_walk_sampling_is_stored_and_checked(twin_dataset, tmp_path, capsys):
    from rantwin.cli.main import main
    from rantwin.surrogate.checkpoint import load_checkpoint
    from rantwin.surrogate.graph import GraphConfig

    out = tmp_path / "walk"
    data = ["--data", str(twin_dataset), "--val-data", str(twin_dataset)]
    args = ["train-surrogate", "--preset", "tiny", *data, "--out", str(out), "--epochs", "2",
            "--no-progress"]  # fmt: skip
    assert main([*args, "--path-step-m", "15", "--path-max-segments", "4"]) == 0
    _, graph_cfg, _ = load_checkpoint(out)
    assert graph_cfg == GraphConfig(path_step_m=15.0, path_max_segments=4)
    assert main([*args, "--path-step-m", "0"]) == 2
    assert "path_step_m must be a finite number > 0" in capsys.readouterr().err
    assert main([*args, "--from", str(out), "--path-max-segments", "2"]) == 2
    assert "--path-max-segments shapes a new twin's graph" in capsys.readouterr().err


def test_eval_builds_the_graphs_training_builds(trained, tmp_path):
    """Grading gives the twin the previous super-step's config, as training does.

    A replicas dataset with random actions changes every knob at every step; a config change
    itself triggers handovers, so a grade without it scores a twin on inputs it never saw.
    """
    from rantwin.surrogate.data import load_graphs
    from rantwin.surrogate.evaluate import collect
    from tests.conftest import simulate_small, small_variant

    res, _, _ = trained
    data = simulate_small(
        tmp_path, small_variant(**{"ues.count": 20}), episodes=3, steps=3, replicas=True
    )
    twin = Twin(res.model, GraphConfig(), {})
    seen = []
    build = twin.graph

    def spy(inp):
        seen.append(build(inp))
        return seen[-1]

    twin.graph = spy  # type: ignore[method-assign]
    collect(twin, data, 2, progress=False)
    train = [g for g in load_graphs([data], progress=False) if int(g.scene[2]) == 0]
    assert len(seen) == len(train) == 3
    d_cio = CELL_FEATURES.index("d_cio")
    for got, want in zip(seen, train, strict=True):
        assert torch.equal(got["cell"].x, want["cell"].x)
        assert torch.equal(got["ue"].x, want["ue"].x)
    assert seen[1]["cell"].x[:, d_cio].abs().sum() > 0  # random actions moved the CIOs
