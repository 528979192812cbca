import json

import pytest
import torch

from rantwin.surrogate.diffusion.checkpoint import META, WEIGHTS, load_diffusion, save_diffusion
from rantwin.surrogate.model import TwinConfig, TwinModel


def test_round_trip_same_weights_and_draws(tiny_head, tiny_twin, twin_graphs, tmp_path):
    save_diffusion(tmp_path, tiny_head, tiny_twin.model, twin_path="tiny")
    head, meta = load_diffusion(tmp_path, tiny_twin.model)
    assert meta["twin"]["path"] == "tiny" and head.cfg == tiny_head.cfg
    for k, v in tiny_head.denoiser.state_dict().items():
        assert torch.equal(v, head.denoiser.state_dict()[k])
    act = twin_graphs[0]["ue"].active[None].expand(2, -1)
    a = tiny_head.sample(tiny_twin, twin_graphs[0], 2, torch.Generator().manual_seed(0), active=act)
    b = head.sample(tiny_twin, twin_graphs[0], 2, torch.Generator().manual_seed(0), active=act)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_corrupted_files_name_the_file(tiny_head, tiny_twin, tmp_path):
    save_diffusion(tmp_path, tiny_head, tiny_twin.model)
    w = tmp_path / WEIGHTS
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(ValueError, match=WEIGHTS):
        load_diffusion(tmp_path)
    save_diffusion(tmp_path, tiny_head, tiny_twin.model)
    (tmp_path / META).write_text("{not json")
    with pytest.raises(ValueError, match=META):
        load_diffusion(tmp_path)
    (tmp_path / META).unlink()
    with pytest.raises(FileNotFoundError, match=META):
        load_diffusion(tmp_path)


def test_mismatched_twin_and_config(tiny_head, tiny_twin, tmp_path):
    save_diffusion(tmp_path, tiny_head, tiny_twin.model)
    other = TwinModel(TwinConfig(hidden=16, n_layers=1, heads=1, latent_dim=2))
    with pytest.raises(ValueError, match="trained on the twin"):
        load_diffusion(tmp_path, other)
    meta = json.loads((tmp_path / META).read_text())
    meta["denoiser"]["hidden"] = 32
    (tmp_path / META).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="do not fit"):
        load_diffusion(tmp_path)
    meta["denoiser"]["hiden"] = 32
    (tmp_path / META).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unknown key 'hiden'"):
        load_diffusion(tmp_path)
