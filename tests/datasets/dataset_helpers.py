"""Helpers for the datasets tests: tiny, valid synthetic shards (imported by the tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rantwin.datasets import DatasetWriter

RUN_CONFIG = {"scenario": "tiny", "episodes": 2, "seed": 7, "sim": {"tti_ms": 1.0}}


def make_tables(
    world: int = 0,
    episode: int = 0,
    n_steps: int = 3,
    n_cells: int = 3,
    n_ues: int = 4,
    n_tti: int = 2,
    seed: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """Build one valid shard's tables (plain numpy columns, deliberately not all schema dtypes)."""
    rng = np.random.default_rng(seed + 1000 * world + episode)
    step_c = np.repeat(np.arange(n_steps), n_cells)  # [n_steps * n_cells], int64 on purpose
    cell = np.tile(np.arange(n_cells), n_steps)
    nc = n_steps * n_cells
    cells = {
        "world": np.full(nc, world),
        "episode": np.full(nc, episode),
        "step": step_c,
        "cell": cell,
        "hour": (step_c * 0.25).astype(np.float64),
        "load_factor": rng.uniform(0.2, 1.0, nc),
        "power_offset_db": rng.uniform(-3, 0, nc),
        "tx_power_dbm": np.full(nc, 46.0),
        "tilt_deg": rng.uniform(2, 10, nc),
        "cio_db": np.zeros(nc),
        "sleep": np.zeros(nc, bool),
        "prb_util": rng.uniform(0, 1, nc),
        "n_served": rng.integers(0, 5, nc),
        "n_active": rng.integers(0, 3, nc),
        "throughput_mbps": rng.uniform(0, 100, nc),
        "energy_w": rng.uniform(100, 800, nc),
        "handovers_out": rng.integers(0, 2, nc),
    }
    nu = n_steps * n_ues
    step_u = np.repeat(np.arange(n_steps), n_ues)
    ue = np.tile(np.arange(n_ues), n_steps)
    x, y = rng.uniform(-500, 500, nu), rng.uniform(-500, 500, nu)
    # each walk starts where the previous step's ended (rows are step-major)
    x0 = np.concatenate([rng.uniform(-500, 500, n_ues), x[:-n_ues]])
    y0 = np.concatenate([rng.uniform(-500, 500, n_ues), y[:-n_ues]])
    ues = {
        "world": np.full(nu, world, np.int32),
        "episode": np.full(nu, episode, np.int32),
        "step": step_u,
        "ue": ue,
        "x_m": x,
        "y_m": y,
        "x_start_m": x0,
        "y_start_m": y0,
        "indoor": rng.uniform(size=nu) < 0.5,
        "speed_mps": rng.uniform(0, 3, nu),
        "active": rng.uniform(size=nu) < 0.7,
        "serving_cell": rng.integers(0, n_cells, nu),
        "rsrp_dbm": rng.uniform(-120, -70, nu),
        "coupling_loss_db": rng.uniform(80, 140, nu),
        "sinr_db": rng.uniform(-5, 25, nu),
        "throughput_mbps": rng.uniform(0, 20, nu),
        "handovers": rng.integers(0, 2, nu),
        "pingpongs": np.zeros(nu, np.int32),
        "rlf": np.zeros(nu, bool),
    }
    nt = nu * n_tti
    tti = {
        "world": np.full(nt, world),
        "episode": np.full(nt, episode),
        "step": np.repeat(step_u, n_tti),
        "ue": np.repeat(ue, n_tti),
        "tti": np.tile(np.arange(n_tti), nu),
        "sinr_db": rng.uniform(-5, 25, nt),
        "throughput_mbps": rng.uniform(0, 20, nt),
    }
    return {"cells": cells, "ues": ues, "ue_tti": tti}


def scenario(world: int) -> tuple[dict, str]:
    return {"name": f"tiny-{world}", "cells": [{"x_m": 0.0}] * 3}, f"hash-{world}"


def write_dataset(out: Path, n_worlds: int = 2, n_episodes: int = 2, finalize: bool = True) -> Path:
    w = DatasetWriter(out, RUN_CONFIG)
    for world in range(n_worlds):
        w.write_world(world, *scenario(world))
        for ep in range(n_episodes):
            w.write_shard(world, ep, make_tables(world, ep))
    if finalize:
        w.finalize({"note": "test"})
    return out
