"""Batch mode: open-loop (or policy) rollouts written as a rantwin dataset.

The rows use the **same Parquet schema** as ``rantwin simulate`` (``docs/dataset-schema.md``)
and go through :class:`~rantwin.datasets.DatasetWriter`, so simulator and surrogate
rollouts are interchangeable: atomic shards, ``resume``, a manifest.

Layout: one world (``0``, the scenario); episode ``e`` and member ``m`` form the shard
``episode = e · members + m``. Episode ``e`` uses the backend seed
:func:`episode_seed` ``(seed, 0, e)`` and, for ``random`` schedules, the action draws
``default_rng([seed, 0, e, 0xAC])`` — the same as ``rantwin simulate`` — so with one member
the configs of a rollout and of a simulation with the same ``seed`` coincide. Episodes are
stepped ``batch`` at a time through one backend call per super-step.

Every column is computed from the backend's :class:`~.types.KpiSample` (:func:`kpi_tables`);
a backend that leaves out an optional field the schema needs (positions, indoor flag,
speed, coupling loss, ping-pongs, RLF) cannot write a dataset, and the error names the
fields. Per-TTI samples are optional (an empty ``ue_tti`` table without them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from rantwin.datasets import DatasetWriter, shard_id
from rantwin.datasets.schema import MAX_EPISODE
from rantwin.scenarios import CellConfig, Scenario, load_scenario, scenario_hash, scenario_to_dict
from rantwin.scenarios.schedule import SCHEDULE_KEYWORDS, load_schedule

from .backend import BACKENDS, make_backend
from .types import KpiSample

__all__ = ["RolloutArgs", "episode_seed", "kpi_tables", "run_rollout"]

_NEEDED = (
    "ue_x_m",
    "ue_y_m",
    "ue_start_x_m",
    "ue_start_y_m",
    "ue_indoor",
    "ue_speed_mps",
    "ue_coupling_loss_db",
    "ue_pingpongs",
    "ue_rlf",
)


def episode_seed(seed: int, world: int, episode: int) -> int:
    """Backend seed of one (world, episode) (same rule as ``rantwin simulate``)."""
    return int(np.random.SeedSequence([seed, world, episode]).generate_state(1)[0])


def _count(x: Any) -> np.ndarray:
    return np.rint(np.asarray(x, dtype=np.float64)).astype(np.int32)


def kpi_tables(
    kpi: KpiSample, scenario: Scenario, b: int, m: int, step: int, world: int, episode: int
) -> dict[str, dict[str, np.ndarray]]:
    """Dataset columns (``cells``, ``ues``, ``ue_tti``) of member ``m`` of element ``b``.

    Counts sampled as floats are rounded to integers.

    Raises:
        ValueError: ``kpi`` lacks an optional field the dataset schema needs.
    """
    missing = [f for f in _NEEDED if getattr(kpi, f) is None]
    if missing:
        raise ValueError(
            f"the backend's KpiSample lacks {', '.join(missing)}, which the dataset schema "
            "needs; this backend cannot write datasets"
        )

    def ue(name: str) -> np.ndarray:
        return getattr(kpi, name)[b, m].numpy()

    def cell(name: str) -> np.ndarray:
        return getattr(kpi, name)[b, m].numpy()

    n_cells, n_ues = kpi.n_cells, kpi.n_ues
    serving = ue("ue_serving").astype(np.int32)
    offset = kpi.cfg_power_offset_db[b].numpy().astype(np.float32)
    nominal = np.asarray(scenario.cells().tx_power_dbm, dtype=np.float64)

    def keys(n: int) -> dict[str, np.ndarray]:
        return {
            "world": np.full(n, world, np.int32),
            "episode": np.full(n, episode, np.int32),
            "step": np.full(n, step, np.int32),
        }

    cells = keys(n_cells) | {
        "cell": np.arange(n_cells, dtype=np.int32),
        "hour": np.full(n_cells, float(kpi.hour[b]), np.float32),
        "load_factor": np.full(n_cells, float(kpi.load_factor[b]), np.float32),
        "power_offset_db": offset,
        "tx_power_dbm": (nominal + offset.astype(np.float64)).astype(np.float32),
        "tilt_deg": kpi.cfg_tilt_deg[b].numpy().astype(np.float32),
        "cio_db": kpi.cfg_cio_db[b].numpy().astype(np.float32),
        "sleep": kpi.cfg_sleep[b].numpy().astype(bool),
        "prb_util": cell("cell_prb_util").astype(np.float32),
        "n_served": np.bincount(serving, minlength=n_cells).astype(np.int32),
        "n_active": _count(cell("cell_n_active")),
        "throughput_mbps": cell("cell_throughput_mbps").astype(np.float32),
        "energy_w": cell("cell_energy_w").astype(np.float32),
        "handovers_out": _count(cell("cell_handovers_out")),
    }
    ues = keys(n_ues) | {
        "ue": np.arange(n_ues, dtype=np.int32),
        "x_m": ue("ue_x_m").astype(np.float32),
        "y_m": ue("ue_y_m").astype(np.float32),
        "x_start_m": ue("ue_start_x_m").astype(np.float32),
        "y_start_m": ue("ue_start_y_m").astype(np.float32),
        "indoor": ue("ue_indoor").astype(bool),
        "speed_mps": ue("ue_speed_mps").astype(np.float32),
        "active": ue("ue_active").astype(bool),
        "serving_cell": serving,
        "rsrp_dbm": ue("ue_rsrp_dbm").astype(np.float32),
        "coupling_loss_db": ue("ue_coupling_loss_db").astype(np.float32),
        "sinr_db": ue("ue_sinr_db").astype(np.float32),
        "throughput_mbps": ue("ue_throughput_mbps").astype(np.float32),
        "handovers": _count(ue("ue_handovers")),
        "pingpongs": _count(ue("ue_pingpongs")),
        "rlf": ue("ue_rlf").astype(bool),
    }
    if kpi.ue_tti_sinr_db is not None and kpi.ue_tti_throughput_mbps is not None:
        sinr = kpi.ue_tti_sinr_db[b, m].numpy()  # [n_samples, n_ues]
        thr = kpi.ue_tti_throughput_mbps[b, m].numpy()
        k = sinr.shape[0]
        tti = (
            kpi.tti_index.numpy().astype(np.int32)
            if kpi.tti_index is not None
            else np.arange(k, dtype=np.int32)
        )
        # [n_samples, n_ues] -> rows ordered by (ue, tti)
        ue_tti = keys(k * n_ues) | {
            "ue": np.repeat(np.arange(n_ues, dtype=np.int32), k),
            "tti": np.tile(tti, n_ues),
            "sinr_db": sinr.T.reshape(-1).astype(np.float32),
            "throughput_mbps": thr.T.reshape(-1).astype(np.float32),
        }
    else:
        ue_tti = keys(0) | {
            "ue": np.zeros(0, np.int32),
            "tti": np.zeros(0, np.int32),
            "sinr_db": np.zeros(0, np.float32),
            "throughput_mbps": np.zeros(0, np.float32),
        }
    return {"cells": cells, "ues": ues, "ue_tti": ue_tti}


@dataclass(frozen=True)
class RolloutArgs:
    """Arguments of a batch-mode run (also stored in the dataset manifest).

    Attributes:
        backend: ``"simulator"`` or ``"surrogate"``.
        scenario: Built-in name or YAML path.
        actions: ``static``, ``random``, a schedule file, or ``policy`` (closed loop with
            the ``policy`` passed to :func:`run_rollout`).
        members: Ensemble members per episode (one shard each).
        episodes: Episodes.
        steps: Super-steps per episode (``None``: the scenario's ``steps_per_episode``).
        seed: Root seed.
        out: Output directory.
        resume: Finish an interrupted run in ``out``.
        batch: Episodes stepped together through one backend call.
        checkpoint: Twin checkpoint directory of the surrogate backend (``None``: the
            bundled twin); must be ``None`` for the simulator.
        diffusion_head: A diffusion head trained on that twin (``rantwin train-surrogate
            --head diffusion``) that draws the continuous KPIs instead of the quantile heads;
            surrogate backend only.
        twin_device: Device the twin runs on (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...);
            surrogate backend only (the simulator: ``"cpu"``). The UE walk, the random
            streams and the KPIs stay on the CPU, so a seed draws the same numbers on any
            device; results differ by float rounding only.
    """

    backend: str
    scenario: str
    actions: str
    members: int
    episodes: int
    steps: int | None
    seed: int
    out: str
    resume: bool = False
    batch: int = 8
    checkpoint: str | None = None
    diffusion_head: str | None = None
    twin_device: str = "cpu"

    def manifest_config(self) -> dict[str, Any]:
        """What identifies the dataset's content (``out``/``resume``/``batch`` do not).

        Its hash decides whether ``--resume`` may continue a dataset. ``twin_device`` is
        recorded only when it is not ``"cpu"``, and then as its kind (``"cuda"`` for
        ``"cuda:1"``): a CPU run's manifest is the one written before the option existed
        (old shards resume), and a GPU run, whose draws differ from a CPU run's in the last
        bits of float rounding, says so and is not finished on the CPU (nor a CPU run on a
        GPU), so a dataset is never a mix that no single rerun reproduces. The index of
        the card does not change the arithmetic, so any card of the kind may resume.
        """
        d = asdict(self)
        for k in ("out", "resume", "batch"):
            d.pop(k)
        if self.twin_device == "cpu":
            d.pop("twin_device")  # manifests of CPU runs read (and resume) as before
        else:
            d["twin_device"] = self.twin_device.split(":")[0]
        d["mode"] = "rollout"
        if Path(self.scenario).is_file():
            d["scenario"] = str(Path(self.scenario).resolve())
        if self.checkpoint is not None:
            d["checkpoint"] = str(Path(self.checkpoint).resolve())
        if self.diffusion_head is not None:
            d["diffusion_head"] = str(Path(self.diffusion_head).resolve())
        else:
            d.pop("diffusion_head")  # manifests of quantile-head runs read as before
        if self.actions not in (*SCHEDULE_KEYWORDS, "policy"):
            d["actions_sha256"] = hashlib.sha256(Path(self.actions).read_bytes()).hexdigest()
        return d


def check(args: RolloutArgs) -> None:
    """Reject bad arguments with a message naming the option, the value and the rule."""
    if args.backend not in BACKENDS:
        raise ValueError(f"--backend {args.backend!r}; valid backends: {', '.join(BACKENDS)}")
    if args.checkpoint is not None and args.backend != "surrogate":
        raise ValueError(f"--checkpoint is for --backend surrogate, got --backend {args.backend}")
    if args.diffusion_head is not None and args.backend != "surrogate":
        raise ValueError(f"--diffusion is for --backend surrogate, got --backend {args.backend}")
    if args.twin_device != "cpu" and args.backend != "surrogate":
        raise ValueError(f"--twin-device is for --backend surrogate, got --backend {args.backend}")
    for name in ("members", "episodes", "batch"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.episodes * args.members > MAX_EPISODE + 1:
        raise ValueError(
            f"--episodes × --members = {args.episodes * args.members} shards; at most "
            f"{MAX_EPISODE + 1} fit in one dataset world"
        )


def run_rollout(
    args: RolloutArgs,
    progress: bool = True,
    policy: Callable[[np.ndarray], np.ndarray] | Any | None = None,
) -> Path:
    """Roll out every episode not yet in ``args.out`` and write its member shards.

    Args:
        args: The run's arguments.
        progress: Show a progress bar.
        policy: For ``actions="policy"``: a callable ``obs -> action`` or an SB3 model.

    Returns:
        The dataset directory.
    """
    check(args)
    scenario = load_scenario(args.scenario)
    steps = args.steps or scenario.timing.steps_per_episode
    policy_mode = args.actions == "policy"
    if policy_mode and policy is None:
        raise ValueError("--actions policy needs a policy (python API: run_rollout(policy=...))")
    schedule = None if policy_mode else load_schedule(args.actions)
    if schedule is not None and schedule.kind == "file":
        schedule.configs(scenario, steps, np.random.default_rng(0))  # validate before writing
    options: dict = {} if args.checkpoint is None else {"checkpoint": args.checkpoint}
    if args.backend == "surrogate":
        options["per_tti"] = True  # datasets carry per-TTI samples, as the simulator's do
        if args.diffusion_head is not None:
            options["diffusion_head"] = args.diffusion_head
        if args.twin_device != "cpu":
            options["device"] = args.twin_device  # a device it lacks: ValueError, nothing written
    backend = make_backend(args.backend, scenario, args.members, **options)
    writer = DatasetWriter(Path(args.out), run_config=args.manifest_config(), resume=args.resume)
    done = writer.completed_shards()
    writer.write_world(0, scenario_to_dict(scenario), scenario_hash(scenario))
    m_count = args.members
    todo = [
        e
        for e in range(args.episodes)
        if any(shard_id(0, e * m_count + m) not in done for m in range(m_count))
    ]
    bar = tqdm(
        total=args.episodes * steps,
        initial=(args.episodes - len(todo)) * steps,
        desc=f"rollout ({args.backend})",
        unit="step",
        disable=not progress,
        dynamic_ncols=True,
    )
    for i in range(0, len(todo), args.batch):
        chunk = todo[i : i + args.batch]
        if policy_mode:
            parts = _policy_chunk(args, backend, chunk, steps, policy, bar)
        else:
            assert schedule is not None
            configs = [
                schedule.configs(scenario, steps, np.random.default_rng([args.seed, 0, e, 0xAC]))
                for e in chunk
            ]
            parts = _open_loop_chunk(args, backend, chunk, configs, steps, bar)
        for b, e in enumerate(chunk):
            for m in range(m_count):
                ep = e * m_count + m
                if shard_id(0, ep) in done:
                    continue
                rows = parts[b][m]
                tables = {
                    name: {k: np.concatenate([r[name][k] for r in rows]) for k in rows[0][name]}
                    for name in rows[0]
                }
                writer.write_shard(0, ep, tables)
    bar.close()
    writer.finalize()
    return Path(args.out)


def _open_loop_chunk(
    args: RolloutArgs,
    backend: Any,
    chunk: list[int],
    configs: list[list[CellConfig]],
    steps: int,
    bar: tqdm,
) -> list[list[list[dict[str, dict[str, np.ndarray]]]]]:
    """Rows ``[b][m][step]`` of a chunk of episodes under fixed config schedules."""
    sc = backend.scenario
    m_count = backend.n_members
    state = backend.reset(
        [episode_seed(args.seed, 0, e) for e in chunk], configs=[c[0] for c in configs]
    )
    rows: list[list[list[Any]]] = [[[] for _ in range(m_count)] for _ in chunk]
    for t in range(steps):
        state, kpi = backend.step(state, [c[t] for c in configs])
        for b, e in enumerate(chunk):
            for m in range(m_count):
                rows[b][m].append(kpi_tables(kpi, sc, b, m, t, 0, e * m_count + m))
        bar.update(len(chunk))
    return rows


def _policy_chunk(
    args: RolloutArgs, backend: Any, chunk: list[int], steps: int, policy: Any, bar: tqdm
) -> list[list[list[dict[str, dict[str, np.ndarray]]]]]:
    """Rows ``[b][m][step]`` of closed-loop episodes.

    Step 0 is the env's reset super-step (default config); steps ``1 … steps-1`` follow
    the policy's actions.
    """
    from .env import RanControlEnv
    from .evaluate import _as_policy, reset_policy

    env = RanControlEnv(
        scenario=None, backend=backend, members=backend.n_members, episode_steps=steps
    )
    act = _as_policy(policy, env)
    m_count = backend.n_members
    rows: list[list[list[Any]]] = [[[] for _ in range(m_count)] for _ in chunk]
    for b, e in enumerate(chunk):
        obs, _ = env.reset(seed=episode_seed(args.seed, 0, e))
        reset_policy(policy)
        for t in range(steps):
            if t > 0:
                obs, *_ = env.step(act(obs))
            kpi = env.last_kpi
            assert kpi is not None
            for m in range(m_count):
                rows[b][m].append(kpi_tables(kpi, env.scenario, 0, m, t, 0, e * m_count + m))
            bar.update(1)
    return rows
