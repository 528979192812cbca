import dataclasses
import sys

import pytest
import torch

from rantwin.bench import surrogate
from rantwin.envs.backends.surrogate import default_checkpoint
from rantwin.surrogate.twin import Twin


@pytest.mark.skipif(default_checkpoint() is None, reason="no bundled twin")
def test_the_timed_step_is_one_super_step_of_every_scene(monkeypatch):
    twin = Twin.load(default_checkpoint(), device="cpu")
    scenes = surrogate._scenes("hex7-uma", 2)
    calls = []
    sample = twin.sample
    monkeypatch.setattr(twin, "sample", lambda g, n, gen: calls.append(sample(g, n, gen)))
    surrogate._step(twin, scenes, torch.Generator().manual_seed(0))
    assert len(calls) == 1 and calls[0].ue_sinr_db.shape == (1, 2 * scenes.n_ues)


def test_an_unknown_device_fails_before_measuring(monkeypatch):
    argv = ["surrogate", "--checkpoint", "x", "--device", "gpu0", "--no-compile"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(ValueError, match="device='gpu0'"):
        surrogate.main()


@pytest.mark.skipif(default_checkpoint() is None, reason="no bundled twin")
def test_the_one_scene_breakdown_times_the_graph_and_the_network(monkeypatch):
    """The parts are the twin's own calls: the graph of the scene, the network on it."""
    twin = Twin.load(default_checkpoint(), device="cpu")
    one = surrogate._scenes("hex7-uma", 1)
    seen = []
    draws = twin.paths.draws

    def counted(b, e, n):
        seen.append((b["ue"].num_nodes, tuple(e.shape), n))
        return draws(b, e, n)

    monkeypatch.setattr(twin, "paths", dataclasses.replace(twin.paths, draws=counted))
    parts = surrogate._single_parts(twin, one, torch.Generator().manual_seed(0), 2)
    assert set(parts) == {"graph_s", "network_s"} and all(v > 0 for v in parts.values())
    assert seen and all(s == (one.n_ues, (1, 1, twin.model.cfg.latent_dim), 1) for s in seen)
