"""Independent random streams of the simulator (common random numbers).

One seed is split with :class:`numpy.random.SeedSequence` into named streams, one per source
of randomness. Because each stream draws the same amount of numbers whatever the cell
configuration is, two runs with the same seed and different configs share their randomness:
UE drops, mobility, traffic and fading are identical, so a paired comparison of two configs
measures the config and not the noise (common random numbers).

The simulator state stores the streams as ``torch.Generator`` states (byte tensors), so a
state can be copied and replayed: ``step(state, config)`` is a pure function.
"""

from __future__ import annotations

import numpy as np
import torch

#: The named streams, in the order they are spawned from the seed. Never reorder: it would
#: change every trajectory of every seed.
STREAMS: tuple[str, ...] = ("placement", "shadowing", "mobility", "traffic", "fading", "links")
#: Streams that define a *scene* (where the UEs are and go); see ``scene_seed``.
SCENE_STREAMS: tuple[str, ...] = ("placement", "mobility")


def _check_seed(name: str, seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)


def _generators(seed: int) -> dict[str, torch.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    out: dict[str, torch.Generator] = {}
    for name, child in zip(STREAMS, children, strict=True):
        g = torch.Generator(device="cpu")
        g.manual_seed(int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
        out[name] = g
    return out


def spawn_generators(seed: int, scene_seed: int | None = None) -> dict[str, torch.Generator]:
    """Derive one independent ``torch.Generator`` per stream from ``seed``.

    Args:
        seed: A non-negative integer.
        scene_seed: If given, the :data:`SCENE_STREAMS` (UE placement and mobility) come
            from this seed instead, so several ``seed`` values replay one scene with
            independent shadowing, traffic and fading.

    Returns:
        A dict ``{stream_name: torch.Generator}`` for every name in :data:`STREAMS`.

    Raises:
        ValueError: If a seed is negative or not an integer.
    """
    out = _generators(_check_seed("seed", seed))
    if scene_seed is not None:
        scene = _generators(_check_seed("scene_seed", scene_seed))
        out |= {name: scene[name] for name in SCENE_STREAMS}
    return out


def restore(state: torch.Tensor) -> torch.Generator:
    """Return a new generator positioned at a saved ``get_state()`` byte tensor."""
    g = torch.Generator(device="cpu")
    g.set_state(state.clone())
    return g
