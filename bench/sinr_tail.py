"""The UE SINR lower tail of a twin against the simulator's runs (the coverage-hole diagnostic).

The reward counts a coverage hole for every active UE whose SINR is below
``coverage_sinr_db`` (−5 dB by default): one point in the lower tail of the SINR draws,
which the CRPS of the whole distribution barely weighs. This benchmark shows where a twin's
hole rate goes wrong (``docs/twin.md``, *Grading*). For every group of replicas datasets
(``rantwin simulate --replicas --episodes R``: R ≥ 3 runs of each scene, the simulator's own
spread) the twin draws ``--samples`` values of every UE, and per bin of the twin's median
draw it reports, simulator runs against twin draws:

- the per-UE spread: the root of the mean *unbiased* (ddof 1) per-UE variance. The mean of
  per-UE standard deviations would be biased low by a factor that depends on the number of
  values (c4 = 0.92 for four runs, against 1.00 for 64 draws), so it would read a twin as
  too wide when it is not;
- the quantiles p05, p10, p50, p95 of the values pooled over the bin's UEs: the shape of
  the tail, which the spread alone does not show;
- the hole rate, the share of values below ``--threshold`` (over every UE, active or not,
  as ``eval-surrogate``'s ``ue/coverage_hole`` grade counts them).

The bins are of the twin's median, a function of the inputs only. Binning by the mean of the
simulator's runs would select on the outcome: a UE whose runs came out low lands in a low
bin, and the spread of the runs within a bin would shrink for that reason alone.

Usage: ``python -m rantwin.bench.sinr_tail --checkpoint DIR --data [LABEL=]DIR [--data ...]
[--samples 64] [--threshold -5] [--bins -99,1,3,6,10,99] [--markdown OUT] [--no-progress]``.
Datasets with the same label are pooled (default label: the folder's name). The JSON goes
to stdout, the table (Markdown) to ``--markdown``, a progress bar to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from rantwin.surrogate.evaluate import collect
from rantwin.surrogate.twin import Twin

#: Pooled quantiles reported per bin (percent).
PERCENTILES = (5, 10, 50, 95)
#: Default bin edges of the twin's median SINR (dB); the outer ones stand for ±∞.
DEFAULT_BINS = (-99.0, 1.0, 3.0, 6.0, 10.0, 99.0)
KEY = "ue/sinr_db"


def unbiased_spread(values: np.ndarray) -> float:
    """Root of the mean unbiased per-row variance.

    **Input:** ``values: [n, k]``, ``k >= 2`` values of each of ``n`` UEs.
    **Output:** the spread in the units of ``values`` (NaN for ``n = 0``).
    """
    if values.ndim != 2 or values.shape[1] < 2:
        raise ValueError(f"values must be [n, k >= 2], got shape {values.shape}")
    if values.shape[0] == 0:
        return math.nan
    return float(np.sqrt(values.var(axis=1, ddof=1).mean()))


def _side(values: np.ndarray, threshold: float) -> dict:
    """Spread, pooled quantiles and hole rate of ``values [n, k]``."""
    out: dict = {"spread_db": unbiased_spread(values)}
    for p in PERCENTILES:
        out[f"p{p:02d}_db"] = float(np.percentile(values, p))
    out["hole_rate"] = float((values < threshold).mean())
    return out


def _check_bins(bins: tuple[float, ...]) -> None:
    if len(bins) < 2 or any(hi <= lo for lo, hi in zip(bins[:-1], bins[1:], strict=True)):
        raise ValueError(f"bins must be at least two increasing edges, got {list(bins)}")


def tail_rows(
    runs: np.ndarray, draws: np.ndarray, bins: tuple[float, ...], threshold: float
) -> list[dict]:
    """The table's rows: all UEs, then one per bin of the twin's median draw.

    **Input:** ``runs: [n, R]`` the simulator's runs of each UE (R ≥ 2), ``draws: [n, S]``
    the twin's draws (S ≥ 2), bin edges (increasing; a UE with median in ``[lo, hi)`` is in
    that bin), the hole threshold (dB). **Output:** dicts with ``bin`` (``"all"`` or
    ``[lo, hi]``), ``n_ues`` and, under ``simulator`` and ``twin``, the spread, quantiles and
    hole rate. Empty bins are left out.
    """
    if runs.shape[0] != draws.shape[0]:
        raise ValueError(f"runs and draws must have the same UEs, got {runs.shape} {draws.shape}")
    _check_bins(bins)
    median = np.median(draws, axis=1)  # [n]
    rows = [{"bin": "all", "n_ues": int(runs.shape[0]),
             "simulator": _side(runs, threshold), "twin": _side(draws, threshold)}]  # fmt: skip
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        m = (median >= lo) & (median < hi)
        if m.any():
            sim, twin = _side(runs[m], threshold), _side(draws[m], threshold)
            rows.append({"bin": [lo, hi], "n_ues": int(m.sum()), "simulator": sim, "twin": twin})
    return rows


def _label(row: dict, bins: tuple[float, ...]) -> str:
    if row["bin"] == "all":
        return "all"
    lo, hi = row["bin"]
    if lo == bins[0]:
        return f"< {hi:g} dB"
    if hi == bins[-1]:
        return f"≥ {lo:g} dB"
    return f"{lo:g}–{hi:g} dB"


def markdown(groups: dict[str, list[dict]], bins: tuple[float, ...], threshold: float) -> str:
    """The rows of every group as one Markdown table (simulator / twin in each cell)."""
    head = ["set, twin median", "UEs", "per-UE spread (dB)"]
    head += [f"p{p:02d} (dB)" for p in PERCENTILES] + [f"holes (SINR < {threshold:g} dB)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, rows in groups.items():
        for r in rows:
            s, t = r["simulator"], r["twin"]
            cells = [f"{name}, {_label(r, bins)}", f"{r['n_ues']:,}",
                     f"{s['spread_db']:.1f} / {t['spread_db']:.1f}"]  # fmt: skip
            cells += [f"{s[f'p{p:02d}_db']:.1f} / {t[f'p{p:02d}_db']:.1f}" for p in PERCENTILES]
            cells.append(f"{100 * s['hole_rate']:.1f} / {100 * t['hole_rate']:.1f} %")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _parse_data(specs: list[str]) -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = defaultdict(list)
    for spec in specs:
        label, sep, path = spec.partition("=")
        if not sep:
            label, path = Path(spec).name, spec
        if not label:
            raise ValueError(f"--data {spec!r}: empty label before '='")
        p = Path(path)
        if not p.is_dir():
            raise ValueError(f"--data {spec!r}: {p} is not a dataset folder")
        groups[label].append(p)
    return dict(groups)


def _parse_bins(text: str) -> tuple[float, ...]:
    try:
        bins = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"--bins must be comma-separated numbers, got {text!r}") from None
    _check_bins(bins)
    return bins


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog=prog,
        description=(__doc__ or "").split("\n\n")[0],
        epilog="See the module docstring (`rantwin bench sinr-tail`) for what each column means.",
    )
    ap.add_argument("--checkpoint", required=True, help="twin checkpoint directory")
    ap.add_argument(
        "--data", action="append", required=True, metavar="[LABEL=]DIR",
        help="replicas dataset (repeat; the same LABEL pools datasets; default: the folder name)",
    )  # fmt: skip
    ap.add_argument("--samples", type=int, default=64, help="twin draws per scene")
    ap.add_argument("--seed", type=int, default=0, help="seed of the twin's draws")
    ap.add_argument("--threshold", type=float, default=-5.0, help="hole threshold, SINR dB")
    ap.add_argument(
        "--bins", default=",".join(f"{b:g}" for b in DEFAULT_BINS),
        help="edges of the bins of the twin's median SINR (dB), comma-separated",
    )  # fmt: skip
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--markdown", help="also write the table here (Markdown)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    try:
        if args.samples < 2:
            raise ValueError(
                f"--samples must be >= 2 (a spread needs two draws), got {args.samples}"
            )
        bins = _parse_bins(args.bins)
        groups = _parse_data(args.data)
    except ValueError as e:
        ap.error(str(e))
    torch.set_num_threads(args.threads)
    twin = Twin.load(args.checkpoint)
    out: dict = {
        "checkpoint": str(args.checkpoint),
        "samples": args.samples,
        "threshold_db": args.threshold,
        "bins_db": list(bins),
        "datasets": {k: [str(p) for p in v] for k, v in groups.items()},
        "groups": {},
    }
    n_sets = sum(len(v) for v in groups.values())
    bar = tqdm(total=n_sets, desc="sinr tail", disable=args.no_progress, file=sys.stderr)
    for name, paths in groups.items():
        runs, draws = [], []
        for p in paths:
            d = collect(twin, p, n_samples=args.samples, seed=args.seed, progress=False)
            obs, sim = d.obs[KEY], d.sim[KEY]  # [N], [N, R - 1]
            runs.append(np.concatenate([obs[:, None], sim], 1))
            draws.append(d.twin[KEY])  # [N, S]
            bar.update()
        out["groups"][name] = tail_rows(
            np.concatenate(runs), np.concatenate(draws), bins, args.threshold
        )
    bar.close()
    table = markdown(out["groups"], bins, args.threshold)
    if args.markdown:
        Path(args.markdown).write_text(table)
    print(table, file=sys.stderr)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
