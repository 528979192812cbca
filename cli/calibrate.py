"""``rantwin calibrate``: compare the simulator with the 3GPP TR 38.901 calibration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rantwin.simulator.calibration import CalibrationResult, run_calibration  # noqa: E402

from .plots import ecdf  # noqa: E402


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    p = sub.add_parser(
        "calibrate",
        help="plot coupling-loss and geometry-SINR CDFs over the 3GPP calibration",
        description=(
            "Run the built-in scenario calib-38901-uma (TR 38.901 Table 7.8-1: UMa 19x3 "
            "wrap-around, ISD 500 m, 6 GHz) for several drops and compare the CDFs of "
            "coupling loss and geometry SINR with the 3GPP phase-1 calibration company "
            "average (R1-165974). Writes calibration.png and calibration.json into --out "
            "and prints the median gaps."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--drops", type=int, default=4, help="independent drops of 1,710 UEs")
    p.add_argument("--seed", type=int, default=0, help="seed of the first drop")
    p.add_argument("--out", default="calibration", help="output directory")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def plot(result: CalibrationResult, path: Path) -> None:
    """Two panels: simulated CDF over the 3GPP average and company range."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    pct = result.percentiles / 100
    panels = (
        (result.coupling_loss_db, result.ref_coupling_loss_db, result.ref_cl_min_db,
         result.ref_cl_max_db, "coupling loss [dB]"),
        (result.geometry_sinr_db, result.ref_geometry_sinr_db, result.ref_sinr_min_db,
         result.ref_sinr_max_db, "geometry SINR [dB]"),
    )  # fmt: skip
    for ax, (sim, ref, lo, hi, label) in zip(axes, panels, strict=True):
        x, y = ecdf(sim)
        ax.plot(x, y, label=f"rantwin ({sim.size} UEs)")
        ax.plot(ref, pct, "ko", ms=4, label="3GPP R1-165974 average")
        ax.fill_betweenx(pct, lo, hi, color="0.8", label="3GPP company range")
        ax.set_xlabel(label)
        ax.set_ylabel("CDF")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle("TR 38.901 large-scale calibration, UMa 6 GHz")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    """Run, plot, write JSON and print the gaps."""
    if args.drops < 1:
        raise ValueError(f"--drops must be >= 1, got {args.drops}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {str(out)!r} is a file, not a directory")
    out.mkdir(parents=True, exist_ok=True)
    result = run_calibration(args.drops, args.seed, progress=not args.no_progress)
    gaps = result.gaps()
    plot(result, out / "calibration.png")
    doc = {"drops": args.drops, "seed": args.seed, "percentiles": result.percentiles.tolist()}
    doc |= gaps
    (out / "calibration.json").write_text(json.dumps(doc, indent=2))
    for name, g in gaps.items():
        print(
            f"{name}: median gap {g['median_gap_db']:+.2f} dB, mean |gap| "
            f"{g['mean_abs_gap_db']:.2f} dB, max |gap| {g['max_abs_gap_db']:.2f} dB "
            f"over percentiles {int(np.min(result.percentiles))}-{int(np.max(result.percentiles))}"
        )
    print(f"figure and numbers written to {out}")
    return 0
