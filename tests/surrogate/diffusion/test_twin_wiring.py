"""The diffusion head inside Twin.sample, the env backend and the CLI."""

from __future__ import annotations

import torch

from rantwin.surrogate.diffusion.checkpoint import save_diffusion
from rantwin.surrogate.diffusion.sampler import SamplerConfig
from rantwin.surrogate.twin import Twin


def test_twin_samples_continuous_kpis_from_the_head(tiny_head, tiny_twin, twin_graphs):
    sampler = SamplerConfig(kind="ddim", steps=2)
    with_head = Twin(tiny_twin.model, tiny_twin.graph_cfg, {}, head=tiny_head, sampler=sampler)
    graphs = twin_graphs[:2]
    a = with_head.sample(graphs, 3, torch.Generator().manual_seed(0))
    b = with_head.sample(graphs, 3, torch.Generator().manual_seed(0))
    q = tiny_twin.sample(graphs, 3, torch.Generator().manual_seed(0))
    assert torch.equal(a.ue_sinr_db, b.ue_sinr_db)  # same seed, same draws
    assert not torch.equal(a.ue_sinr_db, q.ue_sinr_db)  # not the quantile heads' draws
    assert torch.equal(a.ue_active, q.ue_active)  # events are the twin's, drawn first
    assert torch.equal(a.ue_handovers, q.ue_handovers)
    assert (a.ue_throughput_mbps[~a.ue_active] == 0).all()
    assert ((a.cell_prb_util >= 0) & (a.cell_prb_util <= 1)).all()
    # per-scene generators (the batched envs' path) work too
    gens = [torch.Generator().manual_seed(s) for s in (1, 2)]
    c = with_head.sample(graphs, 2, gens)
    assert c.ue_sinr_db.shape == (2, sum(g["ue"].num_nodes for g in graphs))


def test_load_refuses_a_head_of_another_twin(tiny_head, tiny_twin, tmp_path):
    import pytest

    from rantwin.surrogate.checkpoint import save_checkpoint
    from rantwin.surrogate.model import TwinModel

    save_checkpoint(tmp_path / "twin", tiny_twin.model, tiny_twin.graph_cfg, {})
    save_diffusion(tmp_path / "head", tiny_head, tiny_twin.model, twin_path="twin")
    twin = Twin.load(tmp_path / "twin", head=tmp_path / "head")
    assert twin.head is not None
    other = TwinModel(tiny_twin.model.cfg)  # same architecture, other weights
    save_checkpoint(tmp_path / "other", other, tiny_twin.graph_cfg, {})
    with pytest.raises(ValueError):
        Twin.load(tmp_path / "other", head=tmp_path / "head")


def test_cli_trains_a_head_on_a_frozen_twin(tiny_twin, twin_dataset, tmp_path, capsys):
    from rantwin.cli.main import main
    from rantwin.surrogate.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "twin", tiny_twin.model, tiny_twin.graph_cfg, {})
    code = main(["train-surrogate", "--head", "diffusion", "--twin", str(tmp_path / "twin"),
                 "--data", str(twin_dataset), "--val-data", str(twin_dataset), "--epochs", "1",
                 "--out", str(tmp_path / "head"), "--no-progress"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "diffusion head written" in capsys.readouterr().out
    twin = Twin.load(tmp_path / "twin", head=tmp_path / "head")
    assert twin.head is not None


def test_rollout_and_eval_policy_draw_with_a_head(tiny_head, tiny_twin, tmp_path, capsys):
    import json

    import pyarrow.parquet as pq
    import yaml

    from rantwin.cli.main import main
    from rantwin.datasets import validate_dataset
    from rantwin.scenarios import scenario_to_dict
    from rantwin.surrogate.checkpoint import save_checkpoint
    from tests.conftest import small_variant

    save_checkpoint(tmp_path / "twin", tiny_twin.model, tiny_twin.graph_cfg, {})
    save_diffusion(tmp_path / "head", tiny_head, tiny_twin.model, twin_path="twin")
    sc = tmp_path / "sc.yaml"
    sc.write_text(yaml.safe_dump(scenario_to_dict(small_variant())))
    common = ["rollout", "--scenario", str(sc), "--backend", "surrogate", "--checkpoint",
              str(tmp_path / "twin"), "--steps", "2", "--no-progress"]  # fmt: skip
    assert main([*common, "--diffusion", str(tmp_path / "head"), "--out", str(tmp_path / "d")]) == 0
    assert main([*common, "--out", str(tmp_path / "q")]) == 0
    assert validate_dataset(tmp_path / "d") == []
    run = json.loads((tmp_path / "d" / "manifest.json").read_text())["run_config"]
    assert run["diffusion_head"] == str((tmp_path / "head").resolve())
    sinr = [pq.read_table(tmp_path / k / "ues").column("sinr_db").to_numpy() for k in "dq"]
    assert sinr[0].shape == sinr[1].shape and not (sinr[0] == sinr[1]).all()
    sim = ["rollout", "--scenario", str(sc), "--diffusion", str(tmp_path / "head"),
           "--out", str(tmp_path / "s"), "--no-progress"]  # fmt: skip
    assert main(sim) == 2 and "--diffusion is for --backend surrogate" in capsys.readouterr().err
    ev = ["eval-policy", "--policy", "static", "--scenario", str(sc), "--backend", "surrogate",
          "--twin", str(tmp_path / "twin"), "--diffusion", str(tmp_path / "head"), "--members",
          "2", "--episodes", "1", "--episode-steps", "2", "--report", str(tmp_path / "r"),
          "--no-progress"]  # fmt: skip
    assert main(ev) == 0, capsys.readouterr().err
    quantile = [a for a in ev if a != str(tmp_path / "head") and a != "--diffusion"]
    quantile[quantile.index(str(tmp_path / "r"))] = str(tmp_path / "r2")
    assert main(quantile) == 0, capsys.readouterr().err
    reports = [json.loads((tmp_path / r / "report.json").read_text()) for r in ("r", "r2")]
    assert reports[0] != reports[1]  # the head's draws reached the evaluation


def test_the_head_makes_every_tensor_where_its_inputs_are(tiny_head, tiny_twin, twin_graphs):
    # as tests/surrogate/test_twin_device.py: with torch's default device set to meta, a
    # tensor made without naming its device carries no data, so equal bits mean the head
    # would sample on a GPU twin's device (and draw its noise on the CPU generators)
    sampler = SamplerConfig(kind="ddpm", steps=2)  # stochastic: noise drawn every step
    with_head = Twin(tiny_twin.model, tiny_twin.graph_cfg, {}, head=tiny_head, sampler=sampler)
    graphs = twin_graphs[:2]
    gens = [torch.Generator().manual_seed(s) for s in (1, 2)]
    ref = (with_head.sample(graphs, 2, gens), with_head.sample(graphs, 2, torch.Generator()))
    gens = [torch.Generator().manual_seed(s) for s in (1, 2)]
    torch.set_default_device("meta")
    try:
        got = (with_head.sample(graphs, 2, gens), with_head.sample(graphs, 2, torch.Generator()))
    finally:
        torch.set_default_device(None)
    for a, b in zip(ref, got, strict=True):
        assert torch.equal(a.ue_sinr_db, b.ue_sinr_db)
        assert torch.equal(a.cell_prb_util, b.cell_prb_util)
