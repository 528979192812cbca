"""``rantwin eval-surrogate``: grade the twin's distributions against the simulator's."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rantwin.scenarios import RewardWeights
from rantwin.surrogate.diffusion.sampler import SAMPLERS, SamplerConfig
from rantwin.surrogate.evaluate import check_coverage_sinr_db, collect, grade_twin
from rantwin.surrogate.report import report_markdown, write_report
from rantwin.surrogate.twin import UE_THROUGHPUT, Twin


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    p = sub.add_parser(
        "eval-surrogate",
        help="grade the twin against the simulator (coverage, CRPS, energy score, ...)",
        description=(
            "Grade a twin checkpoint on a replicas dataset of held-out deployments "
            "(`rantwin simulate --family F --worlds N --episodes E --replicas ...`): per KPI "
            "and node type, p10-p90 coverage, reliability curve, band width, CRPS, energy "
            "score of each scene's joint vector, spread-skill, JSD/TV/NRMSE of marginals, "
            "and the rate of coverage holes (SINR below a threshold), each next to the "
            "simulator's own floor. Writes report.json, report.md and PNG "
            "figures into --report."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--ckpt", required=True, help="twin checkpoint directory")
    p.add_argument("--data", required=True, help="replicas dataset of held-out deployments")
    p.add_argument("--report", required=True, help="output directory")
    p.add_argument("--samples", type=int, default=32, help="twin ensemble size per scene")
    p.add_argument("--max-scenes", type=int, default=None, help="grade at most this many scenes")
    p.add_argument("--seed", type=int, default=0, help="seed of the twin's draws")
    p.add_argument(
        "--diffusion",
        metavar="HEAD",
        help="grade the twin with this diffusion head (`train-surrogate --head diffusion`) "
        "drawing the continuous KPIs instead of the quantile heads",
    )
    p.add_argument("--diffusion-steps", type=int, default=8, help="sampler steps of the head")
    p.add_argument(
        "--diffusion-sampler",
        default="dpmpp2m",
        choices=SAMPLERS,
        help="the head's sampler: ancestral ddpm (reference, use many steps), ddim, "
        "dpmpp2m (DPM-Solver++(2M), deterministic) or dpmpp2m-sde (its stochastic form)",
    )
    p.add_argument(
        "--device",
        default="cpu",
        help="device the twin samples on (cpu, cuda, cuda:1, …); the draws' random numbers "
        "and the grading stay on the CPU, so results differ by float rounding only",
    )
    p.add_argument(
        "--coverage-sinr-db",
        type=float,
        default=RewardWeights().coverage_sinr_db,
        help="also grade the coverage-hole event SINR < this (dB) per UE, as the reward's "
        "coverage term counts it (report key ue/coverage_hole: rates, Brier score)",
    )
    p.add_argument(
        "--ue-throughput",
        default="independent",
        choices=UE_THROUGHPUT,
        help="independent: the UE heads' draws as they are (what the envs use); cell-share: "
        "each cell's drawn throughput shared out among its UEs in proportion to their draws, "
        "so that they add up to it as in the simulator (docs/twin.md)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Collect, grade, write, print a summary line per KPI."""
    if args.samples < 2:
        raise ValueError(f"--samples must be >= 2, got {args.samples}")
    check_coverage_sinr_db(args.coverage_sinr_db)  # before the minutes of sampling
    sampler = None
    if args.diffusion:
        sampler = SamplerConfig(kind=args.diffusion_sampler, steps=args.diffusion_steps)
    twin = Twin.load(
        args.ckpt, head=args.diffusion, sampler=sampler, device=args.device,
        ue_throughput=args.ue_throughput,
    )  # fmt: skip
    data = collect(twin, args.data, args.samples, args.seed, args.max_scenes,
                   progress=not args.no_progress)  # fmt: skip
    results = grade_twin(data, args.coverage_sinr_db)
    out = Path(args.report)
    meta = {
        "ckpt": str(args.ckpt),
        "data": str(args.data),
        "samples": args.samples,
        "diffusion": args.diffusion,
        "sampler": sampler.to_dict() if sampler else None,
        "ue_throughput": args.ue_throughput,
    }
    if args.device != "cpu":  # CPU reports read as before the option existed
        meta["device"] = args.device
    write_report(results, out, meta=meta)
    (out / "report.md").write_text(report_markdown(results))
    for key, r in results.items():
        m, f = r["model"], r["floor"]
        if "threshold_db" in r:  # the coverage-hole event: its rates say more than a CRPS
            print(f"{key} (SINR < {r['threshold_db']:g} dB): rate {m['event_rate_pred']:.4f} "
                  f"(observed {m['event_rate_obs']:.4f}, simulator floor "
                  f"{f['event_rate_pred']:.4f})")  # fmt: skip
            continue
        cov = m.get("coverage_p10_p90")
        cov_txt = f"coverage {cov:.3f}, " if cov is not None else ""
        print(f"{key}: {cov_txt}CRPS {m['crps_mean']:.4g} (floor {f['crps_mean']:.4g})")
    print(f"report written to {out}")
    (out / "summary.json").write_text(json.dumps({k: r["ratios"] for k, r in results.items()}))
    return 0
