r"""Benchmark the diffusion head against the twin's quantile/CVAE head on held-out deployments.

    python -m rantwin.bench.diffusion --twin surrogate/default_twin --head runs/diffusion \
        --data runs/d/replicas-umi-dense --cost-data runs/d/replicas-hex7-uma --out runs/bench-diff

Reports (JSON + a markdown summary in ``--out``, also printed; the NFE curve and the guidance
sweep also as ``nfe_vs_crps.png`` and ``guidance.png``, ``--replot`` redraws them):

1. **Scores** per KPI on a replicas dataset (``rantwin simulate --replicas``), graded by
   :func:`rantwin.surrogate.evaluate.grade_twin` exactly as ``rantwin eval-surrogate`` does:
   CRPS, energy score (per scene), spread–skill, p10–p90 coverage, next to the simulator floor,
   for the quantile head and the diffusion head (reference and few-step samplers).
2. **NFE vs CRPS** of the samplers (mean CRPS / floor over the continuous KPIs).
3. **Guidance sweep**: ``w`` vs CRPS and diversity (the spread–skill ratio of each KPI).
4. **Admissibility** (:func:`rantwin.surrogate.diffusion.metrics.admissibility`) of the raw
   draws of each head and of the simulator's reports.
5. **Cost** per sampled super-step of a batch of scenes of ``--cost-data`` (hex7-uma): seconds
   per (scene × ensemble member), quantile head vs diffusion head, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Batch

from rantwin.datasets import open_dataset
from rantwin.scenarios import scenario_from_dict
from rantwin.surrogate.data import TARGET_SCALE, load_graphs
from rantwin.surrogate.diffusion.checkpoint import load_diffusion
from rantwin.surrogate.diffusion.metrics import admissibility, noise_per_re_dbm
from rantwin.surrogate.diffusion.sampler import SamplerConfig
from rantwin.surrogate.evaluate import collect, grade_twin
from rantwin.surrogate.quantiles import sample as sample_quantiles
from rantwin.surrogate.twin import Twin

CONTINUOUS = (
    "ue/rsrp_dbm",
    "ue/sinr_db",
    "ue/throughput_mbps",
    "cell/prb_util",
    "cell/throughput_mbps",
)


def _summary(grades: dict) -> dict:
    """The headline numbers of ``grade_twin`` per continuous KPI (model and floor)."""
    out = {}
    for k in CONTINUOUS:
        g = grades[k]
        out[k] = {
            "crps": g["model"]["crps_mean"],
            "crps_floor": g["floor"]["crps_mean"],
            "energy": g["model"].get("energy_score_mean"),
            "energy_floor": g["floor"].get("energy_score_mean"),
            "spread_skill": g["model"]["spread_skill"],
            "coverage": g["model"]["coverage"],
            "reliability_max_error": g["model"]["reliability"]["max_abs_error"],
        }
        for m in ("jsd", "total_variation", "nrmse"):  # marginals (Table II of the paper)
            out[k][m] = g["model"]["marginal"][m]
            out[k][f"{m}_floor"] = g["floor"]["marginal"][m]
    return out


def _mean_ratio(summary: dict, key: str = "crps") -> float:
    return float(np.mean([v[key] / v[f"{key}_floor"] for v in summary.values()]))


def _scores(twin_like, args, label: str) -> dict:
    t0 = time.perf_counter()
    data = collect(
        twin_like,
        args.data,
        n_samples=args.samples,
        seed=args.seed,
        max_scenes=args.max_scenes,
        progress=False,
    )
    s = _summary(grade_twin(data))
    print(
        f"  {label}: {time.perf_counter() - t0:.1f} s, CRPS/floor {_mean_ratio(s):.3f}, "
        f"ES/floor {_mean_ratio(s, 'energy'):.3f}"
    )
    return s


def _admissibility(twin: Twin, head, args) -> dict:
    """Admissibility of raw draws on the observed episode of each replicas scene."""
    ds = open_dataset(args.data)
    worlds = {w: scenario_from_dict(d) for w, d in ds.worlds().items()}
    graphs = [
        g for g in load_graphs([args.data], twin.graph_cfg, progress=False) if int(g.scene[2]) == 0
    ][: args.max_scenes]
    batch = Batch.from_data_list(graphs)
    noise = torch.cat(
        [
            torch.full((g["ue"].num_nodes,), noise_per_re_dbm(worlds[int(g.scene[1])]))
            for g in graphs
        ]
    )  # [n_ues]
    ue, cell = batch["ue"], batch["cell"]
    s = TARGET_SCALE
    gen = torch.Generator().manual_seed(args.seed)
    out = {}
    # simulator (the observed run): must be ~1
    out["simulator"] = admissibility(
        (ue.phi_rsrp_dbm + s["rsrp_db"] * ue.y[:, 0])[None],
        (ue.phi_sinr_db + s["sinr_db"] * ue.y[:, 1])[None],
        ue.phi_rsrp_dbm,
        noise,
        cell.y[None, :, 0],
        ue.y[None, :, 2],
        cell.y[None, :, 1],
    )
    with torch.no_grad():
        # quantile head at the prior mean of z: its marginal draws per node, before clamping
        x = twin.model.embed(batch)
        z = twin.model.prior_params(batch, x)[0] if twin.model.cfg.latent_dim else None
        out_q = twin.model.heads(batch, x, z)
        u = sample_quantiles(out_q.ue_q, args.samples, gen)  # [S, n_ues, 3]
        c = sample_quantiles(out_q.cell_q, args.samples, gen)  # [S, n_cells, 2]
        base = twin.sample(batch, args.samples, gen)
        du, dc = head.sample(twin, batch, args.samples, gen, args.few, active=base.ue_active)
    for name, (a, b) in (("quantile", (u, c)), ("diffusion", (du, dc))):
        out[name] = admissibility(
            ue.phi_rsrp_dbm + s["rsrp_db"] * a[..., 0],
            ue.phi_sinr_db + s["sinr_db"] * a[..., 1],
            ue.phi_rsrp_dbm,
            noise,
            b[..., 0],
            a[..., 2],
            b[..., 1],
        )
    return out


def _cost(twin: Twin, head, args) -> dict:
    graphs = load_graphs([args.cost_data], twin.graph_cfg, progress=False)[: args.cost_scenes]
    batch = Batch.from_data_list(graphs)
    n = len(graphs) * args.cost_samples

    def timeit(fn) -> float:
        times = []
        for r in range(args.repeats + 1):
            g = torch.Generator().manual_seed(r)
            t0 = time.perf_counter()
            fn(g)
            if r:  # first call warms up
                times.append(time.perf_counter() - t0)
        return float(np.median(times)) / n

    out = {
        "scenes": len(graphs),
        "samples": args.cost_samples,
        "ues_per_scene": int(graphs[0]["ue"].num_nodes),
        "cells_per_scene": int(graphs[0]["cell"].num_nodes),
    }
    out["quantile_s"] = timeit(lambda g: twin.sample(batch, args.cost_samples, g))
    samplers = [("few", args.few)] + (
        [("reference", args.reference)] if args.cost_reference else []
    )
    for name, cfg in samplers:
        with_head = twin.with_head(head, cfg)
        out[f"diffusion_{name}_s"] = timeit(
            lambda g, t=with_head: t.sample(batch, args.cost_samples, g)
        )
        out[f"ratio_{name}"] = out[f"diffusion_{name}_s"] / out["quantile_s"]
    return out


def plot(res: dict, out: Path) -> list[Path]:
    """``nfe_vs_crps.png`` and ``guidance.png`` from a bench result (what exists of them).

    NFE: mean CRPS / floor of the continuous KPIs against network evaluations per sample, one
    line per sampler kind, the reference as a dashed line. Guidance: mean CRPS / floor and
    each KPI's spread–skill (diversity) against the guidance scale ``w``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    ref = res.get("diffusion_reference")
    if res.get("nfe_vs_crps"):
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        kinds: dict[str, list[tuple[int, float]]] = {}
        for e in res["nfe_vs_crps"]:
            kinds.setdefault(e["kind"], []).append((e["nfe"], e["crps_over_floor"]))
        for kind, pts in kinds.items():
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=kind)
        if ref:
            ax.axhline(_mean_ratio(ref), ls="--", c="k", lw=1, label="reference (DDPM)")
        if res.get("quantile"):
            ax.axhline(_mean_ratio(res["quantile"]), ls=":", c="grey", lw=1, label="quantile head")
        ax.axvline(8, c="r", lw=0.8, alpha=0.5)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("network evaluations per sample (NFE)")
        ax.set_ylabel("mean CRPS / simulator floor")
        ax.set_title("samplers of the diffusion head, held-out deployments")
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(out / "nfe_vs_crps.png")
        fig.savefig(written[-1], dpi=120)
        plt.close(fig)
    if res.get("guidance"):
        g = sorted(res["guidance"], key=lambda e: e["w"])
        ws = [e["w"] for e in g]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
        a1.plot(ws, [e["crps_over_floor"] for e in g], "o-")
        a1.set_xlabel("guidance scale w")
        a1.set_ylabel("mean CRPS / simulator floor")
        for k in g[0]["spread_skill"]:
            a2.plot(ws, [e["spread_skill"][k] for e in g], "o-", label=k)
        a2.axhspan(0.8, 1.2, color="g", alpha=0.1, label="[0.8, 1.2]")
        a2.set_xlabel("guidance scale w")
        a2.set_ylabel("spread–skill (diversity)")
        a2.legend(fontsize=7)
        fig.suptitle("classifier-free guidance sweep, held-out deployments")
        fig.tight_layout()
        written.append(out / "guidance.png")
        fig.savefig(written[-1], dpi=120)
        plt.close(fig)
    return written


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Run the benchmark (see the module docstring)."""
    ap = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--twin", default="surrogate/default_twin", help="twin checkpoint dir")
    ap.add_argument("--head", help="diffusion-head checkpoint dir (required unless --replot)")
    ap.add_argument("--data", help="held-out replicas dataset (required unless --replot)")
    ap.add_argument("--cost-data", default=None, help="dataset of the cost scenario (hex7-uma)")
    ap.add_argument("--out", default="runs/bench-diffusion", help="output dir")
    ap.add_argument("--samples", type=int, default=32, help="ensemble size for the scores")
    ap.add_argument("--max-scenes", type=int, default=None, help="limit held-out scenes")
    ap.add_argument("--ref-steps", type=int, default=128, help="steps of the reference DDPM")
    ap.add_argument(
        "--few-kind", default="dpmpp2m", help="few-step sampler: ddim | dpmpp2m | dpmpp2m-sde"
    )
    ap.add_argument("--few-steps", type=int, default=8, help="steps of the few-step sampler")
    ap.add_argument("--guidance", type=float, default=1.0, help="guidance scale w")
    ap.add_argument(
        "--nfe",
        default="ddim:4,ddim:8,dpmpp2m:4,dpmpp2m:8,dpmpp2m:16,ddpm:32",
        help="kind:steps list of the NFE sweep ('' to skip)",
    )
    ap.add_argument(
        "--distilled",
        action="append",
        default=[],
        help="distilled student checkpoint (repeat): added to the NFE sweep with its own sampler",
    )
    ap.add_argument("--sweep-w", default="0,1,1.5,2,3", help="guidance sweep ('' to skip)")
    ap.add_argument("--cost-scenes", type=int, default=16, help="scenes batched for the cost")
    ap.add_argument("--cost-samples", type=int, default=8, help="ensemble size for the cost")
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats")
    ap.add_argument(
        "--cost-reference", action="store_true", help="also time the reference sampler (slow)"
    )
    ap.add_argument("--seed", type=int, default=0, help="sampling seed")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument(
        "--replot", action="store_true", help="only redraw the PNGs from OUT/diffusion-bench.json"
    )
    args = ap.parse_args(argv)
    if args.replot:
        out = Path(args.out)
        print(*plot(json.loads((out / "diffusion-bench.json").read_text()), out), sep="\n")
        return
    if not args.head or not args.data:
        ap.error("--head and --data are required (unless --replot)")
    torch.set_num_threads(args.threads)
    args.few = SamplerConfig(kind=args.few_kind, steps=args.few_steps, guidance=args.guidance)
    args.reference = SamplerConfig(kind="ddpm", steps=args.ref_steps, guidance=args.guidance)
    twin = Twin.load(args.twin)
    head, meta = load_diffusion(args.head, twin.model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res: dict = {"head": meta.get("denoiser"), "train": meta.get("metrics")}
    print("scores (held-out):")
    res["quantile"] = _scores(twin, args, "quantile head")
    res["diffusion_reference"] = _scores(
        twin.with_head(head, args.reference), args, f"diffusion ddpm-{args.ref_steps}"
    )
    res["diffusion_few"] = _scores(
        twin.with_head(head, args.few), args, f"diffusion {args.few_kind}-{args.few_steps}"
    )
    (out / "diffusion-bench.json").write_text(json.dumps(res, indent=2))  # partial
    res["nfe_vs_crps"] = []
    for item in filter(None, args.nfe.split(",")):
        kind, steps = item.split(":")
        cfg = SamplerConfig(kind=kind, steps=int(steps), guidance=args.guidance)
        s = _scores(twin.with_head(head, cfg), args, f"{kind}-{steps}")
        res["nfe_vs_crps"].append(
            {
                "kind": kind,
                "nfe": cfg.nfe,
                "crps_over_floor": _mean_ratio(s),
                "per_kpi": {k: v["crps"] for k, v in s.items()},
                "summary": s,
            }
        )
    for path in args.distilled:
        student, smeta = load_diffusion(path, twin.model)
        cfg = SamplerConfig(**smeta["sampler"])
        s = _scores(twin.with_head(student, cfg), args, f"distilled {cfg.kind}-{cfg.steps}")
        res["nfe_vs_crps"].append(
            {
                "kind": f"distilled-{cfg.kind}",
                "nfe": cfg.nfe,
                "crps_over_floor": _mean_ratio(s),
                "per_kpi": {k: v["crps"] for k, v in s.items()},
                "summary": s,
            }
        )
    res["guidance"] = []
    for w in filter(None, args.sweep_w.split(",")):
        cfg = SamplerConfig(kind=args.few_kind, steps=args.few_steps, guidance=float(w))
        s = _scores(twin.with_head(head, cfg), args, f"w={w}")
        res["guidance"].append(
            {
                "w": float(w),
                "crps_over_floor": _mean_ratio(s),
                "spread_skill": {k: v["spread_skill"] for k, v in s.items()},
            }
        )
    (out / "diffusion-bench.json").write_text(json.dumps(res, indent=2))  # partial
    res["admissibility"] = _admissibility(twin, head, args)
    print("admissibility:", json.dumps(res["admissibility"]))
    if args.cost_data:
        res["cost"] = _cost(twin, head, args)
        print("cost:", json.dumps(res["cost"]))
    (out / "diffusion-bench.json").write_text(json.dumps(res, indent=2))
    lines = [
        "| KPI | head | CRPS | CRPS/floor | ES | ES/floor | spread-skill | cov p10-p90 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k in CONTINUOUS:
        for label in ("quantile", "diffusion_reference", "diffusion_few"):
            v = res[label][k]
            lines.append(
                f"| {k} | {label} | {v['crps']:.4g} | {v['crps'] / v['crps_floor']:.3f} | "
                f"{v['energy']:.4g} | {v['energy'] / v['energy_floor']:.3f} | "
                f"{v['spread_skill']:.3f} | {v['coverage']:.3f} |"
            )
    lines += [
        "",
        "Marginals and reliability (model / simulator floor; reliability: max |empirical − "
        "nominal| over the levels 0.05 … 0.95)",
        "",
        "| KPI | head | JSD | TV | NRMSE | reliability max error |",
        "|---|---|---|---|---|---|",
    ]
    for k in CONTINUOUS:
        for label in ("quantile", "diffusion_reference", "diffusion_few"):
            v = res[label][k]
            cols = " | ".join(
                f"{v[m]:.4g} / {v[f'{m}_floor']:.4g}" for m in ("jsd", "total_variation", "nrmse")
            )
            lines.append(f"| {k} | {label} | {cols} | {v['reliability_max_error']:.3f} |")
    ref = _mean_ratio(res["diffusion_reference"])
    lines += [
        "",
        f"NFE vs mean CRPS/floor (reference ddpm-{args.ref_steps}: {ref:.4f})",
        "",
        "| sampler | NFE | mean CRPS/floor | vs reference |",
        "|---|---|---|---|",
    ]
    for e in res["nfe_vs_crps"]:
        r = e["crps_over_floor"]
        lines.append(f"| {e['kind']} | {e['nfe']} | {r:.4f} | {r / ref - 1:+.1%} |")
    lines += [
        "",
        "| w | mean CRPS/floor | spread-skill (rsrp, sinr, thr, prb, cell thr) |",
        "|---|---|---|",
    ]
    for e in res["guidance"]:
        ss = ", ".join(f"{v:.2f}" for v in e["spread_skill"].values())
        lines.append(f"| {e['w']} | {e['crps_over_floor']:.4f} | {ss} |")
    (out / "diffusion-bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(*plot(res, out), sep="\n")


if __name__ == "__main__":
    main()
