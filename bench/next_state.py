r"""Time structure of the twin's draws over consecutive super-steps (issues #4 v1, #7).

    python -m rantwin.bench.next_state --data runs/d/val-umi-dense \
        --head plain=runs/diffusion --head next=runs/diffusion-next --out runs/bench-next

Every episode of ``--data`` (a ``rantwin simulate`` dataset with episodes of several
super-steps, from held-out deployments) is replayed by each model under the configs the
simulator had, ``--samples`` draws per scene:

1. **Free-running** (what an env does): step 0 from no state, step k from the model's own
   state of step k − 1 (the quantile twin's slow state, a next-state head's previous draw;
   none for a head without it). Per UE KPI (RSRP and SINR residual to Φ in dB, throughput in
   Mbit/s): the **lag-1 correlation** of consecutive values of the same UE (and draw), pooled
   over UEs, steps and episodes, next to the simulator's own; and the p10–p90 coverage and
   CRPS of every step's draws of the simulator's value, so that carrying a state is seen not
   to cost calibration.
2. **One-step forecast** (teacher forcing, models with a state): step k conditioned on the
   simulator's step k − 1 (a next-state head: the simulator's previous KPIs; the quantile
   twin: their normal scores under its quantiles). CRPS of step k against free-running: the
   skill that the previous state brings.

Writes ``next_state.json`` and ``next_state.md`` in ``--out`` and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Batch, HeteroData
from tqdm import tqdm

from rantwin.envs.backends.surrogate import default_checkpoint
from rantwin.surrogate.data import TARGET_SCALE, load_graphs
from rantwin.surrogate.diffusion.checkpoint import load_diffusion
from rantwin.surrogate.diffusion.next_state import mask_inactive_throughput
from rantwin.surrogate.diffusion.sampler import SamplerConfig
from rantwin.surrogate.metrics import band_coverage_from_samples, crps
from rantwin.surrogate.slow import SlowState, prior_mean_scores
from rantwin.surrogate.twin import Twin, TwinSample

KPIS = ("rsrp_res_db", "sinr_res_db", "throughput_mbps")


def _corr(pairs: np.ndarray) -> float | None:
    """Pearson correlation of ``[N, 2]`` pairs; ``None`` when undefined (constant or < 3)."""
    if len(pairs) < 3 or (pairs.std(0) == 0).any():
        return None
    return float(np.corrcoef(pairs.T)[0, 1])


def _episodes(graphs: list[HeteroData]) -> list[list[HeteroData]]:
    """Graphs grouped by (dataset, world, episode), each sorted by step; ≥ 2 steps only."""
    by_ep: dict[tuple[int, ...], list[HeteroData]] = defaultdict(list)
    for g in graphs:
        by_ep[tuple(g.scene.tolist()[:3])].append(g)
    out = []
    for eps in by_ep.values():
        eps.sort(key=lambda g: int(g.scene[3]))
        steps = [int(g.scene[3]) for g in eps]
        if len(eps) >= 2 and steps == list(range(steps[0], steps[0] + len(eps))):
            out.append(eps)
    return out


def _truth(g: HeteroData) -> np.ndarray:
    """The simulator's UE KPIs of a scene in physical units: ``[n_ues, 3]`` (NaN = none)."""
    ue = g["ue"]
    s = TARGET_SCALE
    thr = torch.expm1(ue.y[:, 2] * s["ue_log_thr"]) * ue.active.float()
    out = torch.stack([ue.y[:, 0] * s["rsrp_db"], ue.y[:, 1] * s["sinr_db"], thr], -1)
    return out.double().numpy()


def _draws(ts: TwinSample, g: HeteroData) -> np.ndarray:
    """A twin sample's UE KPIs in the units of :func:`_truth`: ``[S, n_ues, 3]``."""
    ue = g["ue"]
    rsrp = ts.ue_rsrp_dbm - ue.phi_rsrp_dbm
    sinr = ts.ue_sinr_db - ue.phi_sinr_db
    return torch.stack([rsrp, sinr, ts.ue_throughput_mbps], -1).double().numpy()


def _teacher_state(twin: Twin, g0: HeteroData, n_samples: int) -> torch.Tensor:
    """The state a model would carry had it drawn the simulator's step: ``[S, n_ues, 3]``."""
    ue = g0["ue"]
    if twin.head is not None:  # next-state head: the previous KPIs themselves
        prev = mask_inactive_throughput(ue.y, ue.active.bool()).float()
    else:  # quantile twin: normal scores of the values under its quantiles (prior mean)
        prev = prior_mean_scores(twin.model, Batch.from_data_list([g0]))[1]  # [n, 3]
    return prev.expand(n_samples, -1, -1).contiguous()


def _slow(score: torch.Tensor, g: HeteroData, g0: HeteroData) -> SlowState:
    moved = (g["ue"].xy_m - g0["ue"].xy_m).norm(dim=-1).float()  # [n]
    return SlowState(score=score, moved_m=moved, d_corr_m=torch.full_like(moved, g.d_corr_m))


def run_model(twin: Twin, episodes, n_samples: int, seed: int, label: str) -> dict:
    """Free-running and teacher-forced replays of every episode (module docstring)."""
    lag_pairs: list[list[np.ndarray]] = [[], [], []]  # per KPI: [N, 2] (value k-1, value k)
    obs, free, forced = [], [], []  # per step >= 1: [n, 3], [n, S, 3], [n, S, 3]
    obs0, free0 = [], []  # step 0
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    with torch.no_grad():
        for eps in tqdm(episodes, desc=label, unit="episode", leave=False):
            prev_draw, state = None, None
            for k, g in enumerate(eps):
                slow: SlowState | None = None
                if k > 0 and state is not None:
                    slow = _slow(state, g, eps[k - 1])
                ts = twin.sample(g, n_samples, gen, slow=slow)
                draw = _draws(ts, g)  # [S, n, 3]
                state = ts.ue_slow_score if twin.carries_state else None
                y = _truth(g)
                if k == 0:
                    obs0.append(y)
                    free0.append(draw.transpose(1, 0, 2))
                else:
                    obs.append(y)
                    free.append(draw.transpose(1, 0, 2))
                    for j in range(3):
                        a, b = prev_draw[..., j].ravel(), draw[..., j].ravel()  # type: ignore[index]
                        lag_pairs[j].append(np.stack([a, b], -1))
                    if twin.carries_state:
                        st = _teacher_state(twin, eps[k - 1], n_samples)
                        tf = twin.sample(g, n_samples, gen, slow=_slow(st, g, eps[k - 1]))
                        forced.append(_draws(tf, g).transpose(1, 0, 2))
                prev_draw = draw
    y, f = np.concatenate(obs), np.concatenate(free)  # [N, 3], [N, S, 3]
    out: dict = {"seconds": time.perf_counter() - t0}
    for j, name in enumerate(KPIS):
        pairs = np.concatenate(lag_pairs[j])
        ok = np.isfinite(pairs).all(1)
        if name == "throughput_mbps":  # active at both steps
            ok &= (pairs > 0).all(1)
        r = {
            "lag1_corr": _corr(pairs[ok]),
            "coverage": band_coverage_from_samples(y[:, j], f[:, :, j]),
            "crps_free": float(np.mean(crps(y[:, j], f[:, :, j]))),
            "coverage_step0": band_coverage_from_samples(
                np.concatenate(obs0)[:, j], np.concatenate(free0)[:, :, j]
            ),
        }
        if name == "throughput_mbps":  # the score of active UEs (an inactive UE's is 0)
            act = y[:, j] > 0
            r["crps_free"] = float(np.mean(crps(y[act, j], f[act, :, j])))
        if forced:
            tf = np.concatenate(forced)
            sel = y[:, j] > 0 if name == "throughput_mbps" else slice(None)
            r["crps_forced"] = float(np.mean(crps(y[sel, j], tf[sel, :, j])))
        out[name] = r
    return out


def simulator_lag1(episodes) -> dict:
    """Lag-1 correlation of the simulator's own consecutive UE KPIs."""
    out = {}
    for j, name in enumerate(KPIS):
        pairs = []
        for eps in episodes:
            for g0, g in zip(eps[:-1], eps[1:], strict=True):
                a, b = _truth(g0)[:, j], _truth(g)[:, j]
                if a.shape == b.shape:
                    pairs.append(np.stack([a, b], -1))
        p = np.concatenate(pairs)
        ok = np.isfinite(p).all(1) & ((p > 0).all(1) if name == "throughput_mbps" else True)
        out[name] = {"lag1_corr": _corr(p[ok])}
    return out


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _markdown(report: dict) -> str:
    lines = [
        "| model | KPI | lag-1 corr (simulator) | p10–p90 cov, steps ≥ 1 | step 0 | "
        "CRPS free | CRPS one-step (teacher-forced) |",
        "|---|---|---|---|---|---|---|",
    ]
    sim = report["simulator"]
    for label, res in report["models"].items():
        for name in KPIS:
            r = res[name]
            forced = f"{r['crps_forced']:.3f}" if "crps_forced" in r else "—"
            lag = f"{_fmt(r['lag1_corr'])} ({_fmt(sim[name]['lag1_corr'])})"
            lines.append(
                f"| {label} | {name} | {lag} | "
                f"{r['coverage']:.3f} | {r['coverage_step0']:.3f} | {r['crps_free']:.3f} | "
                f"{forced} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Command line (``--help``)."""
    ap = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--twin", default=None, help="twin checkpoint dir (default: the bundled)")
    ap.add_argument("--data", action="append", required=True, help="held-out dataset (repeat)")
    ap.add_argument(
        "--head", action="append", default=[], metavar="LABEL=DIR",
        help="a diffusion head to replay next to the quantile twin (repeat)",
    )  # fmt: skip
    ap.add_argument(
        "--sampler", default="dpmpp2m", help="head sampler: ddpm | ddim | dpmpp2m | dpmpp2m-sde"
    )
    ap.add_argument("--steps", type=int, default=8, help="head sampler steps")
    ap.add_argument("--samples", type=int, default=16, help="draws per scene")
    ap.add_argument("--max-episodes", type=int, default=None, help="limit the episodes")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed")
    ap.add_argument("--out", default="runs/bench-next-state", help="output dir")
    ap.add_argument("--threads", type=int, default=None, help="torch threads")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    twin = Twin.load(args.twin or default_checkpoint())
    episodes = _episodes(load_graphs(args.data, twin.graph_cfg, progress=False))
    if not episodes:
        raise SystemExit("--data: no episode with 2 or more consecutive super-steps")
    episodes = episodes[: args.max_episodes]
    models: dict[str, Twin] = {"quantile (slow state)": twin}
    for spec in args.head:
        label, sep, path = spec.partition("=")
        if not sep:
            raise SystemExit(f"--head must be LABEL=DIR, got {spec!r}")
        head, _ = load_diffusion(path, twin.model)
        models[label] = twin.with_head(head, SamplerConfig(kind=args.sampler, steps=args.steps))
    report = {
        "data": args.data,
        "episodes": len(episodes),
        "samples": args.samples,
        "simulator": simulator_lag1(episodes),
        "models": {},
    }
    for label, model in models.items():
        report["models"][label] = run_model(model, episodes, args.samples, args.seed, label)
        print(f"{label}: {report['models'][label]['seconds']:.0f} s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "next_state.json").write_text(json.dumps(report, indent=2) + "\n")
    md = _markdown(report)
    (out / "next_state.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
