"""Benchmark of SB3 PPO throughput on the batched twin (issue #6 figure: ≥ 10 × 189 fps).

The reference is mobile-env's small scenario with default PPO (189 fps on this kind of
machine). Measured the same way: SB3 ``PPO`` with its **default hyper-parameters** except
``n_envs`` (``n_steps = 2048`` per env, batch 64, 10 epochs; SB3's Adam with its defaults,
as the fused kernel every training here uses: :data:`rantwin.agents.train.ADAM_KWARGS`), for
``--rollouts`` full rollouts and their updates. ``sb3_fps`` is the timesteps SB3 counts over
the wall time of ``learn``, rollouts and updates: what SB3's ``time/fps`` print reaches in a
long run (it divides the timesteps by the time since the start). SB3 prints ``time/fps``
after each rollout and *before* that rollout's update, so its first print counts no update
at all: it is reported apart, as ``sb3_fps_first_print`` (until 2026-12-06 this benchmark
reported that print for one rollout, which left the update out of the figure). Rows:

- ``single-agent``: the flat ``MlpPolicy`` over the whole network (``SB3VecEnv``; one
  timestep = one env step of 21 cells);
- ``cell-agents``: parameter-shared PPO (``CellAgentsVecEnv``; SB3 counts one timestep per
  cell, i.e. 21 per env step — the unit of a multi-agent env).

``--update-ceiling`` trains nothing: per mode it times SB3's PPO update alone (one
``train()`` of default PPO on a full rollout buffer of random in-bounds observations and
actions, on the mode's spaces and number of SB3 envs): the fps that no env speed can exceed,
since SB3's fps is ``1 / (t_env + t_update)`` per timestep (:func:`update_ceiling`).

``--compile-twin`` runs the rows on the compiled twin (:mod:`rantwin.surrogate.compiled`; its
compilation counts in SB3's fps, as it would in a training run) and ``--twin-device cuda`` on a
GPU twin.

Usage: ``python -m rantwin.bench.agents [--n-envs 16] [--agent-envs 12] [--rollouts 1]
[--threads 2] [--modes ...] [--compile-twin] [--twin-device DEV] [--update-ceiling]
[--json OUT] [--no-progress]``. It takes a few minutes; run it on an idle machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from stable_baselines3.common.logger import Logger

from rantwin.agents.train import TrainConfig, build_model, make_venv, train
from rantwin.allocator import tune_allocator
from rantwin.scenarios import load_scenario

MOBILE_ENV_FPS = 189.0


def run_row(
    policy: str,
    n_envs: int,
    rollouts: int,
    scenario: str,
    compile_twin: bool = False,
    twin_device: str = "cpu",
    progress: bool = False,
) -> dict:
    """Train default PPO for ``rollouts`` rollouts; SB3's fps (see the module) and env steps/s.

    ``progress``: SB3's progress bar over the row's timesteps.
    """
    per_env = load_scenario(scenario).n_cells if policy == "cell-agents" else 1
    sb3_envs = n_envs * per_env
    steps = 2048 * n_envs * rollouts  # env steps: 2048 SB3 steps per slot per rollout
    cfg = TrainConfig(
        scenario=scenario,
        policy=policy if policy == "cell-agents" else "mlp",
        n_envs=n_envs,
        timesteps=steps,
        sb3_defaults=True,
        eval_every=0,
        eval_episodes=1,
        compile_twin=compile_twin,
        twin_device=twin_device,
    )
    with tempfile.TemporaryDirectory() as tmp:
        res = train(cfg, tmp, progress=progress)
        with open(Path(tmp) / "progress.csv") as f:
            rows = list(csv.DictReader(f))
    fps = [float(r["time/fps"]) for r in rows if r.get("time/fps")]
    return {
        "policy": policy,
        "twin": ("compiled" if compile_twin else "eager") + f", {twin_device}",
        "n_envs": n_envs,
        "sb3_envs": sb3_envs,
        "timesteps_sb3": res.steps * per_env,
        "sb3_fps": res.sb3_fps,  # rollouts and updates
        "sb3_fps_first_print": fps[0] if fps else None,  # the first rollout, before its update
        "env_steps_per_s": res.fps,
        "ratio_vs_mobile_env": res.sb3_fps / MOBILE_ENV_FPS,
    }


def update_ceiling(policy: str, n_envs: int, scenario: str, seed: int = 0) -> dict:
    """SB3's PPO update alone on a mode's spaces: the fps no env speed can exceed.

    Builds the model a row trains (:func:`rantwin.agents.train.build_model`, default PPO: a
    rollout buffer of 2048 steps per SB3 env, 10 epochs of minibatches of 64), fills its
    buffer with observations and actions drawn uniformly in their spaces, the policy's own
    values and log-probabilities of them, and standard normal advantages, then times one
    ``train()``. The env is built (its spaces) but never stepped.

    Returns:
        The mode, its SB3 envs, the update's seconds and samples, and ``update_ceiling_fps``
        = samples / seconds (with its ratio to mobile-env's 189 fps).
    """
    cell = policy == "cell-agents"
    cfg = TrainConfig(
        scenario=scenario, policy=policy if cell else "mlp", n_envs=n_envs,
        sb3_defaults=True, seed=seed,
    )  # fmt: skip
    venv = make_venv(cfg)
    try:
        model = build_model(cfg, venv, venv.venv.core.actions)
        model.set_logger(Logger(None, []))  # train() records its losses; nothing is written
        buf = model.rollout_buffer  # [n_steps, n_sb3_envs, ...]
        rng = np.random.default_rng(seed)
        obs_space, act_space = venv.observation_space, venv.action_space
        shape = (buf.buffer_size, buf.n_envs)
        buf.observations[:] = rng.uniform(obs_space.low, obs_space.high, shape + obs_space.shape)
        buf.actions[:] = rng.uniform(act_space.low, act_space.high, shape + act_space.shape)
        with torch.no_grad():  # the policy's own values and log-probs: ratios near 1
            obs = torch.as_tensor(buf.observations.reshape(-1, *obs_space.shape))
            act = torch.as_tensor(buf.actions.reshape(-1, *act_space.shape))
            values, log_prob, _ = model.policy.evaluate_actions(obs, act)
        buf.values[:] = values.numpy().reshape(shape)
        buf.log_probs[:] = log_prob.numpy().reshape(shape)
        buf.advantages[:] = rng.standard_normal(shape)
        buf.returns[:] = buf.values + buf.advantages
        buf.full, buf.pos = True, buf.buffer_size
        t0 = time.perf_counter()
        model.train()
        seconds = time.perf_counter() - t0
    finally:
        venv.close()
    samples = buf.buffer_size * buf.n_envs
    return {
        "policy": policy,
        "n_envs": n_envs,
        "sb3_envs": buf.n_envs,
        "optimizer": _optimizer_name(model.policy.optimizer),
        "update_samples": samples,
        "update_s": seconds,
        "update_ceiling_fps": samples / seconds,
        "ceiling_ratio_vs_mobile_env": samples / seconds / MOBILE_ENV_FPS,
    }


def _optimizer_name(opt: torch.optim.Optimizer) -> str:
    """``Adam (fused)``, ``Adam``, ``RMSprop``: the optimizer class and its CPU kernel."""
    return type(opt).__name__ + (" (fused)" if opt.defaults.get("fused") else "")


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Print the table (and write JSON)."""
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="hex7-uma", help="built-in scenario or YAML path")
    ap.add_argument("--n-envs", type=int, default=16, help="batched twin envs")
    ap.add_argument("--agent-envs", type=int, default=12, help="batched twin envs for cell-agents")
    ap.add_argument(
        "--rollouts", type=int, default=1, help="rollouts of 2048 steps per SB3 env (and updates)"
    )
    ap.add_argument("--threads", type=int, default=2, help="torch threads (the machine's cores)")
    ap.add_argument(
        "--modes",
        nargs="+",
        default=["single-agent", "cell-agents"],
        choices=["single-agent", "cell-agents"],
        help="rows to run",
    )
    ap.add_argument("--compile-twin", action="store_true", help="torch.compile the twin")
    ap.add_argument("--twin-device", default="cpu", help="device of the twin (cpu, cuda, …)")
    ap.add_argument(
        "--update-ceiling", action="store_true",
        help="train nothing: time SB3's PPO update alone per mode (the fps no env can exceed)",
    )  # fmt: skip
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    tuned = tune_allocator()  # before any backend, so both run with the same allocator
    torch.set_num_threads(args.threads)
    envs = {"single-agent": args.n_envs, "cell-agents": args.agent_envs}
    if args.update_ceiling:
        rows = [update_ceiling(m, envs[m], args.scenario) for m in args.modes]
        header = ["mode", "optimizer", "twin envs", "SB3 envs", "update samples", "update s",
                  "ceiling fps"]  # fmt: skip
        cells = [
            [r["policy"], r["optimizer"], r["n_envs"], r["sb3_envs"], f"{r['update_samples']:,}",
             f"{r['update_s']:.1f}", f"{r['update_ceiling_fps']:.0f}",
             f"{r['ceiling_ratio_vs_mobile_env']:.1f}"]
            for r in rows
        ]  # fmt: skip
    else:
        rows = [
            run_row(m, envs[m], args.rollouts, args.scenario, args.compile_twin,
                    args.twin_device, progress=not args.no_progress)
            for m in args.modes
        ]  # fmt: skip
        print(f"allocator tuned: {tuned} (rantwin.allocator; RANTWIN_MALLOC=system to compare)")
        header = ["mode", "twin", "twin envs", "SB3 envs", "SB3 fps",
                  "SB3's first time/fps print (no update)", "env steps/s"]  # fmt: skip
        cells = [
            [r["policy"], r["twin"], r["n_envs"], r["sb3_envs"], f"{r['sb3_fps']:.0f}",
             "n/a" if r["sb3_fps_first_print"] is None else f"{r['sb3_fps_first_print']:.0f}",
             f"{r['env_steps_per_s']:.0f}", f"{r['ratio_vs_mobile_env']:.1f}"]
            for r in rows
        ]  # fmt: skip
    header.append("× 189 fps")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for c in cells:
        print("| " + " | ".join(str(x) for x in c) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
