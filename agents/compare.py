"""Benchmarks of several policies on one or two backends, and their report folder.

:func:`run_benchmark` evaluates every policy with the same episode seeds on each backend
(common random numbers), compares each policy with a reference (paired bootstrap CI and a
TOST equivalence test, :mod:`.stats`), and, when both backends ran, measures the
sim-to-twin gap of every policy: the twin's predicted distribution of the return and of
each KPI against what the simulator realised (PIT), and how much of a policy's gain over the
reference on the twin survives on the simulator (gain retention).

:func:`write_report` turns a :class:`Benchmark` into ``report.json``, ``summary.md`` and
plots (return fan chart, return distributions, KPI comparison, PIT histogram).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rantwin.envs import ActionMap, resolve_knobs
from rantwin.scenarios import load_scenario

from .baselines import BASELINES, make_baseline
from .evaluation import METRICS, PolicyEval, evaluate_policy
from .io import load_policy
from .policy import Policy
from .stats import GapRow, PairedComparison, gain_retention, paired_comparison, transfer_gap

__all__ = ["Benchmark", "action_map", "resolve_policy", "run_benchmark", "write_report"]

#: KPIs shown in tables and the KPI comparison plot.
REPORT_KPIS: tuple[str, ...] = (
    "mean_ue_throughput_mbps",
    "edge_ue_throughput_mbps",
    "energy_kw",
    "coverage_holes",
    "handover_rate",
    "n_sleeping",
)


def action_map(scenario: Any, knobs: Sequence[str] | None = None) -> ActionMap:
    """The action map an env of ``scenario`` controlling ``knobs`` has (no backend built)."""
    sc = load_scenario(scenario)
    return ActionMap(sc, resolve_knobs(sc, knobs))


def resolve_policy(spec: str | Policy, actions: ActionMap) -> Policy:
    """A policy from a baseline name, a trained-policy folder, or a :class:`Policy`.

    Raises:
        ValueError: ``spec`` is neither a baseline name nor a policy folder.
    """
    if not isinstance(spec, str):
        return spec
    if spec in BASELINES:
        return make_baseline(spec, actions)
    path = Path(spec)
    if path.is_dir():
        name = path.name if path.name not in ("", ".") else "policy"
        return load_policy(path, actions, name=name)
    raise ValueError(
        f"policy {spec!r} is neither a baseline ({', '.join(BASELINES)}) nor a folder with "
        "policy.json (from `rantwin train-agent`)"
    )


@dataclass(frozen=True)
class Benchmark:
    """Evaluations, comparisons and gaps of a set of policies.

    Attributes:
        evals: Backend → policy name → :class:`PolicyEval` (same seeds everywhere).
        reference: Name of the reference policy of the comparisons.
        comparisons: Backend → list of ``policy − reference`` :class:`PairedComparison`.
        gaps: Policy name → sim-to-twin :class:`GapRow` list (both backends only).
        retention: Policy name → simulator gain / twin gain over the reference (both
            backends; only where the twin gain is positive and its 95 % CI excludes 0).
        margin: TOST equivalence margin on the return.
    """

    evals: dict[str, dict[str, PolicyEval]]
    reference: str
    comparisons: dict[str, list[PairedComparison]] = field(default_factory=dict)
    gaps: dict[str, list[GapRow]] = field(default_factory=dict)
    retention: dict[str, float] = field(default_factory=dict)
    margin: float = 0.05

    def as_json(self) -> dict[str, Any]:
        """JSON-safe dict (``report.json``)."""
        return {
            "reference": self.reference,
            "margin": self.margin,
            "evals": {
                b: {p: ev.as_json() for p, ev in pol.items()} for b, pol in self.evals.items()
            },
            "comparisons": {b: [c.as_dict() for c in cs] for b, cs in self.comparisons.items()},
            "gaps": {p: [g.as_dict() for g in rows] for p, rows in self.gaps.items()},
            "retention": self.retention,
        }


def run_benchmark(
    policies: Sequence[str | Policy],
    env_kwargs: Mapping[str, Any],
    *,
    backends: Sequence[str] = ("surrogate",),
    members: Mapping[str, int] | None = None,
    episodes: int = 16,
    seed: int = 0,
    reference: str = "static",
    margin: float = 0.05,
    progress: bool = True,
) -> Benchmark:
    """Evaluate ``policies`` on each backend with paired seeds and compare them.

    Args:
        policies: Baseline names, trained-policy folders or :class:`Policy` objects.
        env_kwargs: Env arguments without ``backend`` (``scenario``, ``knobs``,
            ``episode_steps``, ...; ``backend_kwargs`` such as ``checkpoint`` or ``device``
            reach the surrogate only: the simulator's envs are built without them).
        backends: ``"surrogate"`` and / or ``"simulator"``.
        members: Ensemble members per backend (default 32 on the twin, 1 on the simulator).
        episodes: Episodes (seeds ``seed … seed + episodes − 1``) on every backend.
        seed: First episode seed.
        reference: Name of the policy every other one is compared with (added if missing).
        margin: TOST equivalence margin on the episode return.
        progress: Progress bars.

    Returns:
        :class:`Benchmark`.
    """
    if "backend" in env_kwargs:
        raise ValueError("pass backends=..., not env_kwargs['backend']")
    for b in backends:
        if b not in ("surrogate", "simulator"):
            raise ValueError(f"backend must be 'surrogate' or 'simulator', got {b!r}")
    m = {"surrogate": 32, "simulator": 1, **dict(members or {})}
    specs = list(policies)
    names = [p if isinstance(p, str) else p.name for p in specs]
    if reference not in names and reference in BASELINES:
        specs.insert(0, reference)
    rng = np.random.default_rng(seed)
    evals: dict[str, dict[str, PolicyEval]] = {}
    comparisons: dict[str, list[PairedComparison]] = {}
    for backend in backends:
        kwargs = dict(env_kwargs, backend=backend)
        if backend == "simulator":
            kwargs.pop("backend_kwargs", None)
        actions = action_map(kwargs.get("scenario", "hex7-uma"), kwargs.get("knobs"))
        resolved = [resolve_policy(s, actions) for s in specs]
        seen: set[str] = set()
        for p in resolved:
            if p.name in seen:
                raise ValueError(f"two policies are named {p.name!r}; names must be distinct")
            seen.add(p.name)
        evals[backend] = {
            p.name: evaluate_policy(
                p, kwargs, members=m[backend], episodes=episodes, seed=seed, progress=progress
            )
            for p in resolved
        }
        if reference not in evals[backend]:
            raise ValueError(f"reference policy {reference!r} is not among the policies")
        ref = evals[backend][reference].returns
        comparisons[backend] = [
            paired_comparison(ev.returns, ref, names=(name, reference), margin=margin, rng=rng)
            for name, ev in evals[backend].items()
            if name != reference
        ]
    gaps: dict[str, list[GapRow]] = {}
    retention: dict[str, float] = {}
    if "surrogate" in evals and "simulator" in evals:
        for name, tw in evals["surrogate"].items():
            sim = evals["simulator"][name]
            metrics = ["return", *METRICS]
            gaps[name] = transfer_gap(
                {k: tw.episode_means(k) for k in metrics},
                {k: sim.episode_means(k) for k in metrics},
            )
            if name != reference:  # gains = paired mean differences to the reference
                tw_cmp = next(c for c in comparisons["surrogate"] if c.a == name)
                sim_cmp = next(c for c in comparisons["simulator"] if c.a == name)
                if tw_cmp.significant and tw_cmp.mean_diff > 0:  # a ratio of noise means nothing
                    retention[name] = gain_retention(tw_cmp.mean_diff, sim_cmp.mean_diff)
    return Benchmark(evals, reference, comparisons, gaps, retention, margin)


def _kpi_table(evals: Mapping[str, PolicyEval]) -> dict[str, dict[str, tuple[float, float, float]]]:
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name, ev in evals.items():
        s = ev.summary()
        out[name] = {k: (s[k].p10, s[k].p50, s[k].p90) for k in ("return", *REPORT_KPIS)}
    return out


def write_report(bench: Benchmark, out: str | Path, title: str = "Policy evaluation") -> Path:
    """Write ``report.json``, ``summary.md`` and the plots into ``out``.

    Returns:
        Path of ``summary.md``.
    """
    from . import plots
    from .stats import pit

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(bench.as_json(), indent=2) + "\n")
    lines = [f"# {title}", ""]
    for backend, evals in bench.evals.items():
        any_ev = next(iter(evals.values()))
        e, m = any_ev.returns.shape
        lines += [
            f"## {backend}: {any_ev.scenario}, {e} episodes × {m} members, "
            f"{any_ev.series['reward'].shape[-1]} super-steps",
            "",
            "| policy | return mean | p10 | p50 | p90 | CVaR10 | UE thr Mbit/s | edge thr | "
            "energy kW | holes | HO/UE | asleep |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, ev in evals.items():
            s = ev.summary()
            r = s["return"]
            lines.append(
                f"| {name} | {r.mean:.3f} | {r.p10:.3f} | {r.p50:.3f} | {r.p90:.3f} | "
                f"{r.cvar10:.3f} | {s['mean_ue_throughput_mbps'].mean:.1f} | "
                f"{s['edge_ue_throughput_mbps'].mean:.2f} | {s['energy_kw'].mean:.2f} | "
                f"{s['coverage_holes'].mean:.3f} | {s['handover_rate'].mean:.3f} | "
                f"{s['n_sleeping'].mean:.1f} |"
            )
        lines += ["", f"Paired differences of the return against `{bench.reference}`:", ""]
        lines += [f"- {c.describe()}" for c in bench.comparisons.get(backend, [])]
        lines.append("")
        tag = backend
        cum = {
            n: np.cumsum(ev.series["reward"], -1).reshape(-1, ev.series["reward"].shape[-1])
            for n, ev in evals.items()
        }
        plots.fan_chart(
            cum,
            out_dir / f"return_fan_{tag}.png",
            ylabel="cumulative reward",
            title=f"Return over the episode ({backend})",
        )
        plots.return_distributions(
            {n: ev.returns for n, ev in evals.items()},
            out_dir / f"returns_{tag}.png",
            title=f"Episode returns ({backend})",
        )
        plots.kpi_comparison(
            _kpi_table(evals),
            out_dir / f"kpis_{tag}.png",
            title=f"KPIs ({backend}; median, p10–p90 over episodes × members)",
        )
        lines += [
            f"![return fan chart](return_fan_{tag}.png) ![returns](returns_{tag}.png)",
            "",
            f"![KPIs](kpis_{tag}.png)",
            "",
        ]
    if bench.gaps:
        lines += [
            "## Sim-to-twin gap",
            "",
            "Same policies and seeds on both backends. PIT: where the simulator's realised "
            "value falls in the twin's ensemble for the same episode (uniform if calibrated; "
            "~80 % inside the central 80 %).",
            "",
            "| policy | metric | twin | simulator | gap | PIT mean | in central 80 % |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, rows in bench.gaps.items():
            for g in rows:
                if g.metric in ("return", *REPORT_KPIS):
                    lines.append(
                        f"| {name} | {g.metric} | {g.twin_mean:.3f} | {g.sim_mean:.3f} | "
                        f"{g.gap:+.3f} | {g.pit_mean:.2f} | {g.pit_frac_central_80:.2f} |"
                    )
        if bench.retention:
            lines += [
                "",
                "Gain over the reference kept on the simulator (sim gain / twin gain):",
                "",
            ]
            lines += [f"- {n}: {v:.0%}" for n, v in bench.retention.items()]
        pits = np.concatenate(
            [
                pit(
                    bench.evals["simulator"][n].returns.reshape(len(ev.seeds), -1)[:, 0], ev.returns
                )
                for n, ev in bench.evals["surrogate"].items()
            ]
        )
        plots.pit_histogram(
            pits,
            out_dir / "pit_return.png",
            title="PIT of the simulator's return under the twin's ensemble",
        )
        lines += ["", "![PIT](pit_return.png)", ""]
    path = out_dir / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path
