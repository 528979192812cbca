"""Grade a twin against the simulator on a replicas dataset (held-out deployments).

A replicas dataset (``rantwin simulate --replicas``) holds, for every world and super-step,
E episodes that replay one scene — the same UEs on the same paths under the same configs —
with independent shadowing, LOS, O2I, traffic and fading. Episode 0 is the observation;
episodes 1..E−1 are the **simulator floor** ensemble (what another run of the oracle would
have said); the twin draws ``n_samples`` from the scene inputs. Every KPI is graded with
:func:`rantwin.surrogate.metrics.floor_vs_model`, which puts each score next to the floor.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from tqdm import tqdm

from rantwin.datasets import open_dataset
from rantwin.scenarios import RewardWeights, scenario_from_dict

from .data import _groups, scene_inputs_and_targets
from .features import SceneInputs
from .metrics import floor_vs_model
from .twin import Twin

#: (node type, KPI, dataset column, twin attribute, kind)
KPIS: tuple[tuple[str, str, str, str, str], ...] = (
    ("ue", "rsrp_dbm", "rsrp_dbm", "ue_rsrp_dbm", "continuous"),
    ("ue", "sinr_db", "sinr_db", "ue_sinr_db", "continuous"),
    ("ue", "throughput_mbps", "throughput_mbps", "ue_throughput_mbps", "continuous"),
    ("ue", "handovers", "handovers", "ue_handovers", "event"),
    ("cell", "prb_util", "prb_util", "cell_prb_util", "continuous"),
    ("cell", "throughput_mbps", "throughput_mbps", "cell_throughput_mbps", "continuous"),
    ("cell", "handovers_out", "handovers_out", "cell_handovers_out", "event"),
)


@dataclass(frozen=True)
class EvalData:
    """Aligned observations, simulator-floor and twin samples per KPI."""

    obs: dict[str, np.ndarray]  # key "ue/sinr_db" -> [N]
    sim: dict[str, np.ndarray]  # [N, E-1]
    twin: dict[str, np.ndarray]  # [N, S]
    scene: dict[str, np.ndarray]  # [N] scene id


def collect(
    twin: Twin,
    path: str | os.PathLike[str],
    n_samples: int = 32,
    seed: int = 0,
    max_scenes: int | None = None,
    progress: bool = True,
) -> EvalData:
    """Sample the twin on every scene of a replicas dataset and align with the simulator."""
    ds = open_dataset(path)
    if not ds.run_config.get("replicas"):
        raise ValueError(
            f"{path}: not a replicas dataset; make one with `rantwin simulate ... --replicas "
            "--episodes E` (E >= 3) so that the simulator floor can be measured"
        )
    worlds = {w: scenario_from_dict(d) for w, d in ds.worlds().items()}
    cells = {k: c.to_numpy() for k, c in zip(*_cols(ds.table("cells")), strict=True)}
    ues = {k: c.to_numpy() for k, c in zip(*_cols(ds.table("ues")), strict=True)}
    n_ep = int(cells["episode"].max()) + 1
    if n_ep < 3:
        raise ValueError(f"{path}: {n_ep} replicas per scene; need >= 3 (1 observed + 2 floor)")
    cg = _groups([cells["world"], cells["step"], cells["episode"]])
    ug = _groups([ues["world"], ues["step"], ues["episode"]])
    scenes = [(cg[i : i + n_ep], ug[i : i + n_ep]) for i in range(0, len(cg), n_ep)]
    if max_scenes is not None:
        scenes = scenes[:max_scenes]
    g = torch.Generator().manual_seed(seed)
    acc: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    prev: dict[tuple[int, int], tuple[SceneInputs, np.ndarray]] = {}  # inputs, Φ cells
    for sid, (c_eps, u_eps) in enumerate(tqdm(scenes, desc="eval twin", disable=not progress)):
        w = int(cells["world"][c_eps[0][0]])
        step = int(cells["step"][c_eps[0][0]])
        inp, _ = scene_inputs_and_targets(
            worlds[w], {k: v[c_eps[0]] for k, v in cells.items()},
            {k: v[u_eps[0]] for k, v in ues.items()},
        )  # fmt: skip
        # the config of the previous super-step, as in training (.data): a config change
        # itself triggers handovers, and the simulator's replicas saw it
        # and where each UE's walk started (.path): the replicas share the UEs' paths
        before = prev.get((w, step - 1))
        if before is not None:
            inp = inp.following(*before)
        graph = twin.graph(inp)
        prev[(w, step)] = (inp, graph["ue"].phi_serving.numpy())
        sample = twin.sample(graph, n_samples, g).to("cpu")  # graded on the CPU, in numpy
        for nt, kpi, col, attr, _kind in KPIS:
            table, groups = (ues, u_eps) if nt == "ue" else (cells, c_eps)
            order = "ue" if nt == "ue" else "cell"
            reps = [table[col][gi][np.argsort(table[order][gi])] for gi in groups]
            key = f"{nt}/{kpi}"
            acc[key]["obs"].append(reps[0].astype(float))
            acc[key]["sim"].append(np.stack(reps[1:], -1).astype(float))
            acc[key]["twin"].append(getattr(sample, attr).numpy().T.astype(float))
            acc[key]["scene"].append(np.full(reps[0].shape[0], sid))
    cat = {k: {f: np.concatenate(v[f]) for f in v} for k, v in acc.items()}
    return EvalData(
        obs={k: v["obs"] for k, v in cat.items()},
        sim={k: v["sim"] for k, v in cat.items()},
        twin={k: v["twin"] for k, v in cat.items()},
        scene={k: v["scene"] for k, v in cat.items()},
    )


#: Key of the derived coverage-hole grade (:func:`grade_twin`).
COVERAGE_HOLE = "ue/coverage_hole"


def check_coverage_sinr_db(value: float | None) -> None:
    """Raise ``ValueError`` unless the coverage-hole threshold is a finite dB value or None."""
    if value is not None and not math.isfinite(value):
        raise ValueError(f"coverage_sinr_db must be finite (dB) or None, got {value}")


def grade_twin(
    data: EvalData, coverage_sinr_db: float | None = RewardWeights().coverage_sinr_db
) -> dict[str, dict]:
    """``floor_vs_model`` for every KPI (energy score over each scene's joint vector).

    Besides the KPIs, the **coverage-hole event** ``SINR < coverage_sinr_db`` of every UE
    (the reward's coverage term, :mod:`rantwin.envs.reward`, which counts the active UEs
    only; here every UE, as for the SINR grade; default −5 dB) is graded as an
    event under :data:`COVERAGE_HOLE`: its observed rate, the twin's and the floor's
    (``event_rate_obs`` / ``event_rate_pred``), Brier score and probability reliability. It
    reads the SINR draws' lower tail at one point, which the CRPS of the whole SINR
    distribution can hide: a twin with calibrated p10–p90 bands may still put too much mass
    below the threshold. ``None`` leaves it out. The entry records the threshold
    (``threshold_db``).
    """
    check_coverage_sinr_db(coverage_sinr_db)
    kinds: dict[str, Literal["continuous", "event"]] = {
        f"{nt}/{kpi}": "event" if kind == "event" else "continuous" for nt, kpi, _, _, kind in KPIS
    }
    out = {
        key: floor_vs_model(
            data.obs[key], data.twin[key], data.sim[key], kinds[key], scene_ids=data.scene[key]
        )
        for key in data.obs
    }
    if coverage_sinr_db is not None and "ue/sinr_db" in data.obs:

        def hole(x: np.ndarray) -> np.ndarray:
            return (x < coverage_sinr_db).astype(float)  # an event count: 1 = a hole

        obs, twin, sim = (hole(v["ue/sinr_db"]) for v in (data.obs, data.twin, data.sim))
        out[COVERAGE_HOLE] = floor_vs_model(
            obs, twin, sim, "event", scene_ids=data.scene["ue/sinr_db"]
        )
        out[COVERAGE_HOLE]["threshold_db"] = float(coverage_sinr_db)
    return out


def _cols(table):
    return table.column_names, table.columns
