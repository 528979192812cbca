"""``rantwin demo``: the main job, end to end, on the bundled twin and ``hex7-uma``.

1. **Train** parameter-shared PPO cell agents on the batched twin (:func:`~.train.train`;
   the agents control ``power_offset_db`` and ``tilt_deg``; episodes of 7 × 15 min after
   midnight, the hours the bundled twin was trained on; the objective is night-time energy
   saving, reward weight ``energy = 0.5``).
2. **Evaluate** the trained agents and the four rule baselines (static, CIO load balancing,
   sleep, tilt CCO) in an env with every knob, with the same episode seeds, on the twin
   ensemble (``M = 32`` members per episode) and on the simulator (paired seeds).
3. **Compare** every policy with the static baseline (paired bootstrap CI, TOST) on both
   backends; measure the sim-to-twin gap and how much of PPO's twin gain holds on the
   simulator.
4. **Report** into ``out``: ``summary.md`` (headline first), ``report.json``,
   ``learning_curve.png``, return fan charts, return distributions, KPI comparisons, a PIT
   histogram and the network map before / after (simulator, episode 0).

About 4-10 minutes on 2 CPU cores with the defaults (measured); every phase shows a
progress bar. ``--resume`` reuses a finished training run in ``out/ppo``.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .compare import Benchmark, run_benchmark, write_report
from .policy import check_counts
from .train import TrainConfig, TrainResult, train

__all__ = ["DemoConfig", "DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoConfig:
    """Arguments of the demo (``rantwin demo`` flags).

    Attributes:
        scenario: Scenario (default: the bundled default ``hex7-uma``).
        twin: Twin checkpoint (``None``: the bundled one).
        twin_device: Device the twin runs on (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...) in
            training and in the twin evaluation (the simulator runs on the CPU). The UE walk,
            the random streams and the KPIs stay on the CPU, so a seed draws the same numbers
            on any device; results differ by float rounding only. Recorded in ``demo.json``
            and ``ppo/train_config.json`` only when not ``"cpu"``.
        knobs: Knobs the PPO agents control (the others stay at their default).
        reward: Reward weights over the scenario's. The demo's objective is night-time
            energy saving, ``energy = 0.5`` (the scenario's default is 0.2, under which the
            static config is already within noise of every policy we tried).
        train_steps: PPO env steps (summed over the batched envs).
        n_envs: Batched twin envs in training.
        members: Twin ensemble members per evaluation episode.
        episodes: Evaluation episodes (paired seeds) on each backend.
        episode_steps: Super-steps per episode.
        seed: Training seed.
        eval_seed: First evaluation seed (disjoint from training and its held-out seeds).
        baselines: Rule baselines to compare with.
    """

    scenario: str = "hex7-uma"
    twin: str | None = None
    twin_device: str = "cpu"
    knobs: tuple[str, ...] = ("power_offset_db", "tilt_deg")
    reward: dict[str, float] = field(default_factory=lambda: {"energy": 0.5})
    train_steps: int = 20_000
    n_envs: int = 16
    members: int = 32
    episodes: int = 16
    episode_steps: int = 7
    seed: int = 0
    eval_seed: int = 2_000_000
    baselines: tuple[str, ...] = ("static", "mlb-cio", "sleep", "tilt-cco")

    def __post_init__(self) -> None:
        names = ("train_steps", "n_envs", "members", "episodes", "episode_steps")
        check_counts(**{n: getattr(self, n) for n in names})
        if "static" not in self.baselines:
            raise ValueError("baselines must include 'static' (the reference)")
        self.train_config()  # checks the training options (twin_device, reward, ...) now

    def train_config(self) -> TrainConfig:
        """The training run of step 1 (PPO cell agents on the twin)."""
        return TrainConfig(
            scenario=self.scenario,
            twin=self.twin,
            twin_device=self.twin_device,
            knobs=self.knobs,
            reward=dict(self.reward),
            episode_steps=self.episode_steps,
            n_envs=self.n_envs,
            timesteps=self.train_steps,
            seed=self.seed,
            eval_every=max(self.train_steps // 4, 1),
        )

    def env_kwargs(self) -> dict[str, Any]:
        """Env arguments of the evaluation (:func:`~.compare.run_benchmark`, no backend).

        ``backend_kwargs`` (twin checkpoint, device) are for the twin only:
        :func:`~.compare.run_benchmark` drops them for the simulator.
        """
        kw = self.train_config().env_kwargs()  # the training envs' arguments, less the
        keep = ("scenario", "episode_steps", "reward", "backend_kwargs")  # backend and knobs
        return {k: kw[k] for k in keep if k in kw}

    def as_json(self) -> dict[str, Any]:
        """JSON-safe dict (``demo.json``'s ``config``; ``twin_device`` only when not cpu)."""
        d = asdict(self)
        if self.twin_device == "cpu":
            del d["twin_device"]
        return d


@dataclass(frozen=True)
class DemoResult:
    """Outcome of :func:`run_demo`.

    Attributes:
        out: Report folder.
        summary: Path of ``summary.md``.
        bench: The benchmark.
        seconds: Wall time per phase.
    """

    out: Path
    summary: Path
    bench: Benchmark
    seconds: dict[str, float]


def _save_map(image: np.ndarray, path: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 5.3), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 0.94))
    ax.imshow(image)
    ax.set_axis_off()
    fig.suptitle(title, fontsize=10)
    fig.savefig(path)


def _headline(bench: Benchmark, agent: str) -> list[str]:
    lines = ["## Headline", ""]
    for backend in ("simulator", "surrogate"):
        for c in bench.comparisons.get(backend, []):
            if c.a == agent:
                verdict = (
                    "beats" if c.significant and c.mean_diff > 0 else
                    "loses to" if c.significant else "is not distinguishable from"
                )  # fmt: skip
                lines.append(f"- **{backend}**: PPO {verdict} the static config: {c.describe()}")
    if agent in bench.retention:
        lines.append(
            f"- PPO keeps **{bench.retention[agent]:.0%}** of its twin gain on the simulator "
            "(target ≥ 70 %)."
        )
    lines.append("")
    return lines


def _finished_training(agent_dir: Path, train_cfg: TrainConfig) -> bool:
    """Whether ``agent_dir`` holds a completed run of exactly ``train_cfg``."""
    try:
        card = json.loads((agent_dir / "policy.json").read_text())
        saved = json.loads((agent_dir / "train_config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return (
        saved == train_cfg.as_json()
        and not card.get("interrupted", False)
        and int(card.get("timesteps", 0)) >= train_cfg.timesteps
        and (agent_dir / "learning_curve.png").is_file()
    )


def run_demo(
    config: DemoConfig, out: str | Path, progress: bool = True, resume: bool = False
) -> DemoResult:
    """Run the demo (see the module docstring) and write its report folder.

    Args:
        config: The demo's arguments.
        out: Report folder (created; files of an earlier demo there are replaced).
        progress: Progress bars.
        resume: Reuse a finished training run of the same config in ``out/ppo`` (after an
            interruption during evaluation); otherwise training starts over.

    Returns:
        :class:`DemoResult`.
    """
    from rantwin.envs.render import render_map
    from rantwin.scenarios import load_scenario

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    train_cfg = config.train_config()
    agent_dir = out_dir / "ppo"
    if resume and _finished_training(agent_dir, train_cfg):
        curve = json.loads((agent_dir / "curve.json").read_text())
        card = json.loads((agent_dir / "policy.json").read_text())
        steps = int(card["timesteps"])
        result = TrainResult(agent_dir, steps, 0.0, float("nan"), float("nan"), False, curve)
    else:
        result = train(train_cfg, agent_dir, progress=progress)
    seconds["train"] = time.perf_counter() - t0
    if result.interrupted:
        raise KeyboardInterrupt
    shutil.copyfile(agent_dir / "learning_curve.png", out_dir / "learning_curve.png")

    t1 = time.perf_counter()
    bench = run_benchmark(
        [str(agent_dir), *config.baselines],
        config.env_kwargs(),
        backends=("surrogate", "simulator"),
        members={"surrogate": config.members, "simulator": 1},
        episodes=config.episodes,
        seed=config.eval_seed,
        reference="static",
        progress=progress,
    )
    seconds["evaluate"] = time.perf_counter() - t1
    agent = agent_dir.name
    summary = write_report(bench, out_dir, title=f"rantwin demo: {config.scenario}")
    scenario = load_scenario(config.scenario)
    sim = bench.evals["simulator"]
    for name, file in (("static", "map_static.png"), (agent, "map_ppo.png")):
        ev = sim[name]
        power = ev.configs["power_offset_db"][0, -1]  # [n_cells], episode 0, last step
        tilt = ev.configs["tilt_deg"][0, -1]
        _save_map(
            render_map(scenario, ev.final_kpi),
            out_dir / file,
            f"simulator, {name} (episode 0, last step)\npower offset {power.mean():+.1f} dB "
            f"(min {power.min():+.1f}), tilt {tilt.mean():.1f}° mean",
        )
    seconds["total"] = time.perf_counter() - t0
    body = summary.read_text().split("\n", 2)
    speed = (
        f"{result.fps:.0f} env steps/s, {result.sb3_fps:.0f} agent steps/s as SB3 counts them"
        if result.seconds > 0
        else "training reused with --resume"
    )
    intro = [
        f"# rantwin demo: {config.scenario}",
        "",
        f"PPO cell agents (parameter-shared, knobs {', '.join(config.knobs)}) trained for "
        f"{result.steps} env steps on the twin ({speed}), then evaluated against "
        f"the rule baselines with paired seeds: {config.episodes} episodes × "
        f"{config.members} twin members, and the same {config.episodes} episodes on the "
        f"simulator. Wall time: train {seconds['train']:.0f} s, evaluate "
        f"{seconds['evaluate']:.0f} s, total {seconds['total']:.0f} s.",
        "",
        *_headline(bench, agent),
        "![learning curve](learning_curve.png)",
        "",
        "Network map, simulator, end of episode 0 (UEs coloured by SINR; grey cells asleep):",
        "",
        "![before](map_static.png) ![after](map_ppo.png)",
        "",
    ]
    summary.write_text("\n".join(intro) + "\n" + (body[2] if len(body) > 2 else ""))
    meta = {
        "config": config.as_json(),
        "seconds": seconds,
        "train": {"steps": result.steps, "fps": result.fps, "sb3_fps": result.sb3_fps},
    }
    (out_dir / "demo.json").write_text(json.dumps(meta, indent=2) + "\n")
    return DemoResult(out=out_dir, summary=summary, bench=bench, seconds=seconds)
