"""Ablations of the twin on the default-twin data (issue #4 figures), one run, same budget.

Trains, on the same datasets and with the same epoch budget and seed:

- ``v0``   — no scene latent;
- ``v05``  — scene latent z (CVAE) — the energy score of each scene's joint vector is where
  the latent should help (one z per scene couples the nodes);
- ``sim-only`` — v05 without the physics-informed schedule (``physics_epochs = 0``,
  ``δ = 0``), against ``v05`` with it (defaults γ = 0.8, δ = 0.2);
- ``hgt`` — v05 with HGTConv instead of the edge-aware TransformerConv.

and grades each on the replicas dataset of the held-out family, printing CRPS / energy score
/ coverage per KPI, each next to the simulator floor.

Usage: ``python -m rantwin.bench.twin_ablation --work runs/default-twin [--epochs 12]``
(run ``python -m rantwin.bench.default_twin`` first: it makes the data; a whole-day build's
data or a ``--midnight`` build's, whichever the work directory holds).

The arms are graded one super-step at a time (a fresh draw per scene), where the slow state
changes nothing, so no arm fits it (``slow=False``): that saves its fitting time per arm.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from rantwin.surrogate.evaluate import collect, grade_twin
from rantwin.surrogate.pipeline import train_from_datasets
from rantwin.surrogate.presets import get_preset
from rantwin.surrogate.twin import Twin

from .default_twin import (
    HELD_OUT_FAMILY,
    HELD_OUT_SCENARIO,
    SCENARIO_HOURS,
    TRAIN_SCENARIOS,
    scenario_data_dir,
    train_data_dirs,
)


def variants(epochs: int, minutes: float):
    """(name, model config, train config) of every ablation arm."""
    base_m, base_t = get_preset("v05")
    base_m = replace(base_m, slow=False)  # graded per super-step: see the module docstring
    t = replace(base_t, epochs=epochs, max_minutes=minutes, patience=epochs)
    return [
        ("v0", replace(base_m, latent_dim=0), t),
        ("v05", base_m, t),
        ("sim-only", base_m, replace(t, physics_epochs=0, delta=0.0)),
        ("hgt", replace(base_m, conv="hgt"), t),
    ]


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    """Train every arm, grade it, print and save a summary."""
    ap = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--work", default="runs/default-twin", help="default_twin's work directory")
    ap.add_argument("--epochs", type=int, default=12, help="epochs per arm (same for all)")
    ap.add_argument("--minutes", type=float, default=12.0, help="time cap per arm")
    ap.add_argument("--arms", default="v0,v05,sim-only,hgt", help="comma-separated arms")
    ap.add_argument("--samples", type=int, default=32, help="twin ensemble size")
    args = ap.parse_args(argv)
    work = Path(args.work)
    whole_day = scenario_data_dir(work, TRAIN_SCENARIOS[0], SCENARIO_HOURS[0]).is_dir()
    data = [str(d) for d in train_data_dirs(work, whole_day)]
    missing = [d for d in data if not Path(d).is_dir()]
    if missing:
        raise SystemExit(
            f"--work {work}: no training data at {missing[0]}; run `python -m "
            f"rantwin.bench.default_twin --work {work}` first"
        )
    val = [str(work / "data" / f"val-{n}") for n in (HELD_OUT_FAMILY, HELD_OUT_SCENARIO)]
    rep = work / "data" / f"replicas-{HELD_OUT_FAMILY}"
    wanted = set(args.arms.split(","))
    summary = {}
    for name, m_cfg, t_cfg in variants(args.epochs, args.minutes):
        if name not in wanted:
            continue
        res, ck = train_from_datasets(data, val, str(work / "ablation" / name), m_cfg, t_cfg,
                                      progress=False, preset=name)  # fmt: skip
        grades = grade_twin(collect(Twin.load(ck), rep, args.samples, 0, progress=False))
        summary[name] = {
            "best_val_loss": res.best_val,
            "epochs": res.epochs_run,
            **{
                key: {
                    "crps": g["model"]["crps_mean"],
                    "crps_floor": g["floor"]["crps_mean"],
                    "energy_score": g["model"].get("energy_score_mean"),
                    "energy_score_floor": g["floor"].get("energy_score_mean"),
                    "coverage_p10_p90": g["model"].get("coverage_p10_p90"),
                }
                for key, g in grades.items()
            },
        }
        print(name, json.dumps(summary[name], indent=1))
    (work / "ablation" / "summary.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
