"""Assemble the twin's grades into a JSON report, PNG figures and a Markdown page.

Input of every function here: ``results``, a mapping ``"<node_type>/<kpi>"`` (e.g.
``"ue/sinr_db"``, ``"cell/prb_util"``) → either the output of
:func:`rantwin.surrogate.metrics.floor_vs_model` (the twin next to the simulator's floor) or a
bare :func:`rantwin.surrogate.metrics.grade` (no floor). Nothing here computes a metric.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

REPORT_FORMAT = "rantwin-twin-report"
REPORT_VERSION = 1
SIGNIFICANT_DIGITS = 6


def _entry(key: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise one result to ``{"kind", "model", "floor" (or None), "ratios"}``."""
    if not isinstance(value, Mapping):
        raise ValueError(f"results[{key!r}] must be a dict from grade or floor_vs_model")
    if "model" in value:
        return {
            "kind": value.get("kind", value["model"].get("kind", "continuous")),
            "model": dict(value["model"]),
            "floor": dict(value["floor"]) if value.get("floor") is not None else None,
            "ratios": dict(value.get("ratios", {})),
            **({"coverage_error": value["coverage_error"]} if "coverage_error" in value else {}),
            **({"ratio_ci": value["ratio_ci"]} if "ratio_ci" in value else {}),
            # a derived event's definition (evaluate.grade_twin's coverage hole)
            **({"threshold_db": value["threshold_db"]} if "threshold_db" in value else {}),
        }
    if "crps_mean" in value:
        return {"kind": value.get("kind", "continuous"), "model": dict(value), "floor": None}
    raise ValueError(
        f"results[{key!r}] is neither a grade (no 'crps_mean') nor a floor_vs_model result "
        "(no 'model'); build it with rantwin.surrogate.metrics"
    )


def _split_key(key: str) -> tuple[str, str]:
    node, sep, kpi = key.partition("/")
    return (node, kpi) if sep else ("all", key)


def _jsonable(x: Any) -> Any:
    """Plain JSON: numpy → Python, floats to 6 significant digits, NaN/inf → None."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple | np.ndarray):
        return [_jsonable(v) for v in (x.tolist() if isinstance(x, np.ndarray) else x)]
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        v = float(x)
        if not math.isfinite(v):
            return None
        return float(f"{v:.{SIGNIFICANT_DIGITS}g}")
    if x is None or isinstance(x, str):
        return x
    raise TypeError(f"cannot write {type(x).__name__} to the report JSON")


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", key.replace("/", "_")).strip("-") or "kpi"


def _plot_reliability(ax: Any, entry: dict[str, Any], title: str) -> None:
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="ideal")
    for who, style in (("model", "o-"), ("floor", "s--")):
        g = entry.get(who)
        if g is None:
            continue
        label = "twin" if who == "model" else "simulator floor"
        if "reliability" in g:
            ax.plot(g["reliability"]["levels"], g["reliability"]["empirical"], style, ms=3,
                    label=label)  # fmt: skip
        elif "prob_reliability" in g:
            pr = g["prob_reliability"]
            ax.plot(pr["predicted"], pr["observed"], style, ms=3, label=label)
    is_event = entry["kind"] == "event"
    ax.set_xlabel("forecast probability of an event" if is_event else "nominal level")
    ax.set_ylabel("observed frequency" if is_event else "frequency obs ≤ predicted quantile")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")


def _plot_marginal(ax: Any, entry: dict[str, Any], title: str) -> None:
    h = entry["model"]["histogram"]
    edges = np.asarray(h["edges"])
    ax.stairs(h["obs"], edges, label="simulator", color="k", linewidth=1.5)
    ax.stairs(h["samples"], edges, label="twin", color="C0", fill=True, alpha=0.4)
    floor = entry.get("floor")
    if floor is not None and len(floor["histogram"]["edges"]) == len(edges):
        if np.allclose(floor["histogram"]["edges"], edges):
            ax.stairs(floor["histogram"]["samples"], edges, label="other simulator runs",
                      color="C1", linestyle="--")  # fmt: skip
    ax.set_xlabel(title.split("/")[-1])
    ax.set_ylabel("probability mass per bin")
    ax.set_title(f"{title}: JSD {entry['model']['marginal']['jsd']:.4f} bit")
    ax.legend(fontsize="small")


def _plot_crps(fig: Any, entries: dict[str, dict[str, Any]]) -> None:
    keys = list(entries)
    axes = np.atleast_1d(fig.subplots(1, len(keys), squeeze=False)[0])
    for ax, key in zip(axes, keys, strict=True):
        e = entries[key]
        model = e["model"]["crps_mean"]
        floor = e["floor"]["crps_mean"] if e.get("floor") else math.nan
        ax.bar([0, 1], [model, floor], color=["C0", "C1"])
        if math.isfinite(floor):
            ax.axhline(1.5 * floor, color="0.4", linestyle=":", linewidth=1, label="1.5 × floor")
            ax.legend(fontsize="x-small", loc="upper right")
        ax.set_xticks([0, 1], ["twin", "floor"])
        ax.set_title(key, fontsize="small")
    axes[0].set_ylabel("mean CRPS (KPI unit)")


def write_report(
    results: Mapping[str, Mapping[str, Any]],
    out_dir: str | Path,
    *,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``report.json`` and the figures of a graded twin into ``out_dir``.

    Input:
        results: ``"<node_type>/<kpi>"`` → :func:`~rantwin.surrogate.metrics.floor_vs_model`
            output (or a bare :func:`~rantwin.surrogate.metrics.grade`), see module docstring.
        out_dir: directory, created if missing; existing files of the same names are replaced.
        meta: optional free JSON (checkpoint, datasets, seeds, …) stored under ``"meta"``.

    Output:
        dict name → path of what was written: ``"report.json"``, ``"crps.png"``, and per KPI
        ``"reliability_<node>_<kpi>.png"`` and ``"marginal_<node>_<kpi>.png"``. The JSON is
        ``{"format", "version", "meta", "kpis": {key: {"node_type", "kpi", "kind", "model",
        "floor", "ratios", …}}}``: plain JSON, floats to 6 significant digits, NaN/inf as null.
    """
    # Figures are built with the object API (no pyplot): PNGs render through Agg whatever the
    # process's interactive backend is, and no figure leaks into pyplot's global state.
    from matplotlib.figure import Figure

    if not results:
        raise ValueError("results is empty: grade at least one KPI before writing a report")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = {key: _entry(key, value) for key, value in results.items()}
    written: dict[str, Path] = {}

    doc = {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "meta": _jsonable(dict(meta or {})),
        "kpis": {
            key: {"node_type": _split_key(key)[0], "kpi": _split_key(key)[1], **_jsonable(e)}
            for key, e in entries.items()
        },
    }
    path = out / "report.json"
    path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    written[path.name] = path

    for key, e in entries.items():
        for name, draw in (("reliability", _plot_reliability), ("marginal", _plot_marginal)):
            fig = Figure(figsize=(4.8, 4.2), layout="constrained")
            draw(fig.add_subplot(), e, key)
            path = out / f"{name}_{_slug(key)}.png"
            fig.savefig(path, dpi=110)
            written[path.name] = path
    fig = Figure(figsize=(max(3.0, 2.2 * len(entries)), 3.4), layout="constrained")
    _plot_crps(fig, entries)
    path = out / "crps.png"
    fig.savefig(path, dpi=110)
    written[path.name] = path
    return written


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    v = float(x)
    if not math.isfinite(v):
        return "–"
    return f"{v:.4g}"


_CONTINUOUS_ROWS = (
    ("p10–p90 coverage (target 0.80)", "coverage_p10_p90", None),
    ("reliability max abs error", "reliability.max_abs_error", None),
    ("band width p10–p90", "band_width", "band_width"),
    ("CRPS", "crps_mean", "crps_mean"),
    ("energy score", "energy_score_mean", "energy_score_mean"),
    ("spread–skill (target 1)", "spread_skill", None),
    ("JSD of marginal (bit)", "marginal.jsd", "jsd"),
    ("total variation of marginal", "marginal.total_variation", "total_variation"),
    ("NRMSE of marginal quantiles", "marginal.nrmse", "nrmse"),
    ("mean of draws − observed mean", "marginal.mean_bias", None),
    ("mean of draws / observed mean", "marginal.mean_ratio", None),
)
_EVENT_ROWS = (
    ("Brier score P(count > 0)", "brier", "brier"),
    ("Brier score of the base rate", "brier_climatology", None),
    ("event rate: observed", "event_rate_obs", None),
    ("event rate: predicted", "event_rate_pred", None),
    ("mean count: predicted", "mean_count_pred", None),
    ("CRPS of counts (= RPS)", "crps_mean", "crps_mean"),
    ("energy score", "energy_score_mean", "energy_score_mean"),
    ("JSD of marginal (bit)", "marginal.jsd", "jsd"),
    ("total variation of marginal", "marginal.total_variation", "total_variation"),
)


def _get(d: Mapping[str, Any] | None, dotted: str) -> Any:
    for k in dotted.split("."):
        if not isinstance(d, Mapping) or k not in d:
            return None
        d = d[k]
    return d


def report_markdown(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Render the grades as Markdown: per node type, one table per KPI, each metric by the floor.

    Input:
        results: as for :func:`write_report`.

    Output:
        Markdown text (``###`` per node type, ``####`` per KPI, columns metric | twin |
        simulator floor | twin / floor), for a docs page next to the figures.
    """
    entries = {key: _entry(key, value) for key, value in results.items()}
    by_node: dict[str, list[str]] = {}
    for key in entries:
        by_node.setdefault(_split_key(key)[0], []).append(key)
    lines: list[str] = []
    for node, keys in by_node.items():
        lines += [f"### {node}", ""]
        for key in keys:
            e = entries[key]
            model, floor, ratios = e["model"], e.get("floor"), e.get("ratios", {})
            lines += [
                f"#### {_split_key(key)[1]} ({e['kind']}"
                + (f": SINR < {e['threshold_db']:g} dB" if "threshold_db" in e else "")
                + f", n = {model.get('n', '–')}, "
                f"{model.get('n_samples', '–')} twin draws"
                + (f", {floor.get('n_samples', '–')} simulator runs)" if floor else ")"),
                "",
                "| metric | twin | simulator floor | twin / floor |",
                "|---|---|---|---|",
            ]
            rows = _EVENT_ROWS if e["kind"] == "event" else _CONTINUOUS_ROWS
            for label, path, ratio_key in rows:
                value = _get(model, path)
                if value is None and path.endswith("p10_p90"):
                    value = _get(model, "coverage")
                if value is None:
                    continue
                fv = _get(floor, path) if floor else None
                if fv is None and floor and path.endswith("p10_p90"):
                    fv = _get(floor, "coverage")
                ratio = ratios.get(ratio_key) if ratio_key else None
                cell = _fmt(ratio)
                ci = _get(e.get("ratio_ci"), ratio_key) if ratio_key else None
                if ratio is not None and ci is not None:
                    level = round(100 * e["ratio_ci"]["level"])
                    cell += f" [{_fmt(ci[0])}, {_fmt(ci[1])}] ({level} % CI over scenes)"
                lines.append(f"| {label} | {_fmt(value)} | {_fmt(fv)} | {cell} |")
            lines.append("")
    return "\n".join(lines)
