"""Error accumulation of the twin over long closed-loop rollouts (issue #4, v1 figure).

The twin is stepped autoregressively by the surrogate backend: its own state (UE positions,
config in force, previous config) carries from one super-step to the next. Does its KPI
distribution drift away from the simulator's as the rollout goes on?

Per super-step k of ``--steps`` (default 50), static default config, ``--episodes`` episodes:

1. simulator, seed A; simulator, seed B (the floor: two independent runs of the oracle);
   twin (surrogate backend), seed A — all with ``rantwin rollout``, same Parquet schema.
2. For each KPI, the 1-Wasserstein distance (``scipy.stats.wasserstein_distance``) between
   the pooled values of step k (all episodes, all cells or UEs): twin vs simulator A, and
   simulator B vs simulator A. The summary divides the first by the mean of the second over
   the steps: the twin's distance in units of the oracle's own sampling noise; drift shows
   as a ratio that grows with k.
3. The mean of each KPI per step for both backends (where the drift comes from).

Note: the super-steps advance the diurnal clock (15 minutes each from midnight), so step 50
is 12.5 h into the day; the bundled twin is trained on the first two hours of the night, so
a growing gap late in the rollout mixes error accumulation with extrapolation in the hour
(the twin warns about it). ``--start`` is not a rollout option; see the issue note.

Usage: ``python -m rantwin.bench.drift --work DIR [--steps 50] [--episodes 8]``; writes
``drift.json`` and ``drift.png`` in ``--work`` and prints a summary. Reruns reuse finished
rollouts (``--resume``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import wasserstein_distance

from rantwin.allocator import tune_allocator
from rantwin.cli.main import main as rantwin
from rantwin.datasets import open_dataset

#: (table, column, label): the KPIs compared per step.
KPIS = (
    ("cells", "prb_util", "cell PRB utilisation"),
    ("cells", "throughput_mbps", "cell throughput (Mbit/s)"),
    ("cells", "handovers_out", "cell handovers out"),
    ("ues", "sinr_db", "UE SINR (dB)"),
    ("ues", "rsrp_dbm", "UE RSRP (dBm)"),
    ("ues", "throughput_mbps", "UE throughput (Mbit/s)"),
)


def _rollout(out: Path, backend: str, seed: int, args: argparse.Namespace) -> None:
    cmd = ["rollout", "--backend", backend, "--scenario", args.scenario, "--actions", "static",
           "--episodes", str(args.episodes), "--steps", str(args.steps), "--seed", str(seed),
           "--out", str(out), "--no-progress"]  # fmt: skip
    if backend == "surrogate" and args.checkpoint:
        cmd += ["--checkpoint", args.checkpoint]
    if out.exists() and any(out.iterdir()):
        cmd.append("--resume")
    code = rantwin(cmd)
    if code != 0:
        raise SystemExit(f"rollout failed ({code}): rantwin {' '.join(cmd)}")


def _by_step(path: Path, table: str, column: str, n_steps: int) -> list[np.ndarray]:
    t = open_dataset(path).table(table, columns=["step", column])
    step = t["step"].to_numpy()
    val = t[column].to_numpy().astype(float)
    return [val[step == k] for k in range(n_steps)]


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Run the three rollouts, compare per step, write JSON + PNG."""
    ap = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--work", required=True, help="folder for the rollouts and the report")
    ap.add_argument("--scenario", default="hex7-uma", help="built-in scenario")
    ap.add_argument("--steps", type=int, default=50, help="super-steps per episode")
    ap.add_argument("--episodes", type=int, default=8, help="episodes per backend")
    ap.add_argument("--seed", type=int, default=0, help="seed A (seed B = A + 1000)")
    ap.add_argument("--checkpoint", default=None, help="twin checkpoint (default: the bundled)")
    args = ap.parse_args(argv)
    if args.steps < 2 or args.episodes < 1:
        raise SystemExit(
            f"need --steps >= 2 and --episodes >= 1, got {args.steps}, {args.episodes}"
        )
    tune_allocator()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    runs = {
        "sim_a": (work / "sim-a", "simulator", args.seed),
        "sim_b": (work / "sim-b", "simulator", args.seed + 1000),
        "twin": (work / "twin", "surrogate", args.seed),
    }
    for path, backend, seed in runs.values():
        _rollout(path, backend, seed, args)
    report: dict = {"scenario": args.scenario, "steps": args.steps, "episodes": args.episodes}
    for table, col, label in KPIS:
        per = {k: _by_step(p, table, col, args.steps) for k, (p, _, _) in runs.items()}
        w_twin = [
            wasserstein_distance(a, t) for a, t in zip(per["sim_a"], per["twin"], strict=True)
        ]
        w_floor = [
            wasserstein_distance(a, b) for a, b in zip(per["sim_a"], per["sim_b"], strict=True)
        ]
        report[col if table == "ues" else f"cell_{col}"] = {
            "label": label,
            "w1_twin": w_twin,
            "w1_floor": w_floor,
            "mean_sim": [float(np.mean(v)) for v in per["sim_a"]],
            "mean_twin": [float(np.mean(v)) for v in per["twin"]],
        }
    (work / "drift.json").write_text(json.dumps(report, indent=1) + "\n")
    _plot(report, work / "drift.png")
    print(f"{'KPI':28s} {'W1/floor, first 5 steps':>24s} {'last 5 steps':>14s}")
    for r in report.values():
        if not isinstance(r, dict):
            continue
        # the floor is sampling noise, about the same at every step: its mean over the steps
        # is a steadier unit than the per-step value (which can be 0 when every cell is full)
        ratio = np.array(r["w1_twin"]) / max(float(np.mean(r["w1_floor"])), 1e-9)
        print(f"{r['label']:28s} {np.median(ratio[:5]):24.2f} {np.median(ratio[-5:]):14.2f}")
    print(f"wrote {work / 'drift.json'} and {work / 'drift.png'}")


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [(k, r) for k, r in report.items() if isinstance(r, dict)]
    fig, axes = plt.subplots(2, len(items), figsize=(3.2 * len(items), 5.6), squeeze=False)
    for j, (_, r) in enumerate(items):
        k = np.arange(len(r["w1_twin"]))
        ax = axes[0, j]
        ax.plot(k, r["w1_twin"], label="twin vs sim")
        ax.plot(k, r["w1_floor"], label="sim vs sim (floor)", color="grey")
        ax.set_title(r["label"], fontsize=9)
        ax.set_xlabel("super-step")
        if j == 0:
            ax.set_ylabel("Wasserstein-1")
            ax.legend(fontsize=7)
        ax = axes[1, j]
        ax.plot(k, r["mean_sim"], label="simulator", color="black")
        ax.plot(k, r["mean_twin"], label="twin")
        ax.set_xlabel("super-step")
        if j == 0:
            ax.set_ylabel("mean")
            ax.legend(fontsize=7)
    fig.suptitle(f"{report['scenario']}: twin rollouts vs the simulator, per super-step")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
