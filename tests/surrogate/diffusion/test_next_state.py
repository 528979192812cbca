"""Next-state conditioning: a super-step's diffusion draw sees the previous step's draw."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from rantwin.surrogate.diffusion.head import DiffusionHead
from rantwin.surrogate.diffusion.next_state import (
    PREV_DIMS,
    attach_previous,
    previous_columns,
)
from rantwin.surrogate.diffusion.sampler import SamplerConfig
from rantwin.surrogate.slow import SlowState
from rantwin.surrogate.twin import Twin

SAMPLER = SamplerConfig(kind="ddim", steps=2)


@pytest.fixture(scope="module")
def graphs(twin_graphs):
    return [g.clone() for g in twin_graphs]  # attach_previous writes on them


@pytest.fixture(scope="module")
def next_head(tiny_head):
    torch.manual_seed(2)
    head = DiffusionHead(dataclasses.replace(tiny_head.cfg, next_state=True)).eval()
    with torch.no_grad():  # zero-initialised read-out: make the draws depend on the inputs
        for lin in head.denoiser.out.values():
            lin.weight.normal_(0, 0.3)
    return head


def test_attach_previous_links_consecutive_steps_of_an_episode(graphs):
    n_linked = attach_previous(graphs)
    by_key = {tuple(g.scene.tolist()): g for g in graphs}
    firsts = [g for g in graphs if int(g.scene[3]) == 0]
    assert n_linked == len(graphs) - len(firsts) > 0
    for g in firsts:
        assert torch.isnan(g["ue"].prev_y).all() and (g["ue"].moved_m == 0).all()
    for key, g in by_key.items():
        if key[3] == 0:
            continue
        g0 = by_key[(*key[:3], key[3] - 1)]
        prev, y0, act0 = g["ue"].prev_y, g0["ue"].y, g0["ue"].active.bool()
        assert torch.equal(prev[:, :2], y0[:, :2])
        assert torch.equal(prev[act0, 2], y0[act0, 2]) and (prev[~act0, 2] == 0).all()
        moved = (g["ue"].xy_m - g0["ue"].xy_m).norm(dim=-1)
        torch.testing.assert_close(g["ue"].moved_m, moved)


def test_previous_columns_mark_absent_steps_and_check_shapes():
    prev = torch.tensor([[1.0, 2.0, 3.0], [float("nan")] * 3])  # [2, 3]
    cols = previous_columns(prev, torch.tensor([10.0, 5.0]), torch.tensor([50.0, 50.0]),
                            torch.zeros(3), torch.full((3,), 2.0))  # fmt: skip
    assert cols.shape == (2, PREV_DIMS)
    torch.testing.assert_close(cols[0, :3], torch.tensor([0.5, 1.0, 1.5]))
    assert cols[0, 3] == 1 and cols[0, 4] == pytest.approx(float(torch.exp(torch.tensor(-0.2))))
    assert (cols[1] == 0).all()  # absent: zeros, present flag 0
    with pytest.raises(ValueError, match="prev_y must be"):
        previous_columns(prev, torch.zeros(3), torch.ones(3), torch.zeros(3), torch.ones(3))


def _slow(score, graphs):
    n = score.shape[1]
    return SlowState(score=score, moved_m=torch.full((n,), 3.0), d_corr_m=torch.full((n,), 50.0))


def test_the_draw_depends_on_the_previous_one_and_a_first_step_does_not(
    next_head, tiny_twin, twin_graphs
):
    twin = tiny_twin.with_head(next_head, SAMPLER)
    assert twin.carries_state and not tiny_twin.carries_state
    gs = twin_graphs[:2]
    n = sum(int(g["ue"].num_nodes) for g in gs)
    first = twin.sample(gs, 3, torch.Generator().manual_seed(0))
    absent = twin.sample(gs, 3, torch.Generator().manual_seed(0),
                         slow=_slow(torch.full((3, n, 3), float("nan")), gs))  # fmt: skip
    assert torch.equal(first.ue_rsrp_dbm, absent.ue_rsrp_dbm)  # NaN state = first step
    # the state it hands on is its own UE draw, throughput 0 where inactive
    st = first.ue_slow_score
    assert st is not None and st.shape == (3, n, 3)
    assert (st[..., 2][~first.ue_active] == 0).all()
    nxt = twin.sample(gs, 3, torch.Generator().manual_seed(0), slow=_slow(st, gs))
    again = twin.sample(gs, 3, torch.Generator().manual_seed(0), slow=_slow(st, gs))
    assert torch.equal(nxt.ue_rsrp_dbm, again.ue_rsrp_dbm)  # deterministic given the state
    assert not torch.equal(nxt.ue_rsrp_dbm, first.ue_rsrp_dbm)  # and it depends on it
    assert torch.equal(nxt.ue_active, first.ue_active)  # events stay the twin's
    with pytest.raises(ValueError, match="slow.score must be"):
        twin.sample(gs, 2, torch.Generator().manual_seed(0), slow=_slow(st, gs))


def test_training_with_next_state_and_its_checkpoint(tiny_twin, twin_graphs, tmp_path):
    from rantwin.surrogate.diffusion.checkpoint import load_diffusion, save_diffusion
    from rantwin.surrogate.diffusion.train import TrainArgs, train_diffusion

    tr = [g.clone() for g in twin_graphs]
    args = TrainArgs(hidden=16, n_layers=1, heads=2, epochs=2, batch_size=2, next_state=True)
    res = train_diffusion(tiny_twin, tr[:4], tr[4:], args, progress=False)
    assert res.head.cfg.next_state and res.epochs_run == 2
    assert all(torch.isfinite(torch.tensor(h["val_loss"])) for h in res.history)
    save_diffusion(tmp_path / "head", res.head, tiny_twin.model, twin_path="twin")
    loaded, _ = load_diffusion(tmp_path / "head", tiny_twin.model)
    assert loaded.cfg.next_state
    # data without consecutive super-steps cannot train it
    firsts = [g.clone() for g in twin_graphs if int(g.scene[3]) == 0]
    with pytest.raises(ValueError, match="no consecutive super-steps"):
        train_diffusion(tiny_twin, firsts, firsts, args, progress=False)


def test_the_env_backend_carries_the_heads_state(next_head, tiny_twin, tmp_path):
    from rantwin.envs.backends.surrogate import SurrogateBackend
    from rantwin.scenarios import CellConfig
    from rantwin.surrogate.checkpoint import save_checkpoint
    from rantwin.surrogate.diffusion.checkpoint import save_diffusion
    from tests.conftest import small_variant

    save_checkpoint(tmp_path / "twin", tiny_twin.model, tiny_twin.graph_cfg, {})
    save_diffusion(tmp_path / "head", next_head, tiny_twin.model, twin_path="twin")
    sc = small_variant()
    be = SurrogateBackend(sc, members=2, checkpoint=tmp_path / "twin",
                          diffusion_head=tmp_path / "head")  # fmt: skip
    cfgs = [CellConfig.default(be.scenario)] * 2
    st0 = be.reset([1, 2])
    st1, _ = be.step(st0, cfgs)
    assert torch.isfinite(st1.slow_score).all()
    st2, k2 = be.step(st1, cfgs)
    forgot = dataclasses.replace(st1, slow_score=torch.full_like(st1.slow_score, float("nan")))
    _, k2_fresh = be.step(forgot, cfgs)
    assert not torch.equal(k2.ue_rsrp_dbm, k2_fresh.ue_rsrp_dbm)
    assert torch.equal(k2.ue_active, k2_fresh.ue_active)


def test_cli_trains_a_next_state_head(tiny_twin, twin_dataset, tmp_path, capsys):
    from rantwin.cli.main import main
    from rantwin.surrogate.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "twin", tiny_twin.model, tiny_twin.graph_cfg, {})
    common = ["--data", str(twin_dataset), "--val-data", str(twin_dataset), "--epochs", "1",
              "--out", str(tmp_path / "head"), "--no-progress", "--next-state"]  # fmt: skip
    code = main(["train-surrogate", "--head", "diffusion", "--twin", str(tmp_path / "twin"),
                 *common])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    twin = Twin.load(tmp_path / "twin", head=tmp_path / "head")
    assert twin.head is not None and twin.head.cfg.next_state and twin.carries_state
    assert main(["train-surrogate", *common]) != 0
    assert "--next-state is an option of --head diffusion" in capsys.readouterr().err
