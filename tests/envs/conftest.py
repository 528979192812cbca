"""Small scenarios and env kwargs for fast env tests."""

from __future__ import annotations

import pytest

from tests.conftest import small_variant

EPISODE = 3


def tiny_scenario():
    """hex7-uma with 42 UEs, 20 TTIs and 4 s of mobility per super-step."""
    return small_variant("hex7-uma", **{"timing.steps_per_episode": EPISODE})


@pytest.fixture(scope="session")
def tiny_sc():
    return tiny_scenario()


@pytest.fixture
def env_kwargs(tiny_sc):
    return {"scenario": tiny_sc, "episode_steps": EPISODE, "backend": "simulator"}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The simulator's small tensors run faster on one thread (no oversubscription)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
