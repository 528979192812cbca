"""The drift benchmark runs end to end on a short rollout and writes its report."""

from __future__ import annotations

import json
import warnings

import numpy as np

from rantwin.bench import drift


def test_drift_report(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the twin's extrapolation warnings
        drift.main(["--work", str(tmp_path), "--steps", "2", "--episodes", "1"])
    rep = json.loads((tmp_path / "drift.json").read_text())
    assert rep["steps"] == 2
    for key in ("cell_prb_util", "sinr_db", "throughput_mbps", "cell_handovers_out"):
        r = rep[key]
        assert len(r["w1_twin"]) == len(r["w1_floor"]) == len(r["mean_twin"]) == 2
        assert np.all(np.isfinite(r["w1_twin"])) and min(r["w1_twin"]) >= 0
    assert (tmp_path / "drift.png").stat().st_size > 0
    # a rerun reuses the finished rollouts (resume) and rewrites the same report
    drift.main(["--work", str(tmp_path), "--steps", "2", "--episodes", "1"])
    assert json.loads((tmp_path / "drift.json").read_text()) == rep
