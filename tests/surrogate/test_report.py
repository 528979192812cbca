"""The report writer: valid JSON, PNG figures and Markdown tables (rantwin.surrogate.report)."""

import json
import math

import numpy as np
import pytest

from rantwin.surrogate import metrics as m
from rantwin.surrogate.report import report_markdown, write_report


@pytest.fixture(scope="module")
def results():
    rng = np.random.default_rng(0)
    n = 600
    mu = rng.normal(-90.0, 8.0, size=n)
    obs = mu + rng.normal(size=n)
    twin = mu[:, None] + 0.7 * rng.normal(size=(n, 16))
    sim = mu[:, None] + rng.normal(size=(n, 4))
    ids = np.arange(n) // 20
    rate = rng.uniform(0, 1, size=n)
    ho_obs = rng.poisson(rate)
    ho_twin = rng.poisson(rate[:, None], size=(n, 16))
    ho_sim = rng.poisson(rate[:, None], size=(n, 4))
    return {
        "ue/rsrp_dbm": m.floor_vs_model(obs, twin, sim, scene_ids=ids),
        "ue/handovers": m.floor_vs_model(ho_obs, ho_twin, ho_sim, kind="event"),
        "cell/prb_util": m.grade(np.clip(obs / -180, 0, 1), np.clip(twin / -180, 0, 1)),
    }


def test_write_report_json_and_pngs(results, tmp_path):
    written = write_report(results, tmp_path / "rep", meta={"ckpt": "x.safetensors"})
    doc = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert doc["format"] == "rantwin-twin-report" and doc["meta"] == {"ckpt": "x.safetensors"}
    assert set(doc["kpis"]) == set(results)
    rsrp = doc["kpis"]["ue/rsrp_dbm"]
    assert rsrp["node_type"] == "ue" and rsrp["kpi"] == "rsrp_dbm"
    assert rsrp["model"]["crps_mean"] == pytest.approx(results["ue/rsrp_dbm"]["model"]["crps_mean"])
    assert rsrp["ratios"]["crps_mean"] > 1.0
    assert doc["kpis"]["cell/prb_util"]["floor"] is None

    def floats(x):
        if isinstance(x, dict):
            for v in x.values():
                yield from floats(v)
        elif isinstance(x, list):
            for v in x:
                yield from floats(v)
        elif isinstance(x, float):
            yield x

    vals = list(floats(doc))
    assert vals and all(math.isfinite(v) for v in vals)
    assert all(float(f"{v:.6g}") == v for v in vals)  # rounded to 6 significant digits
    pngs = [p for name, p in written.items() if name.endswith(".png")]
    assert {p.name for p in pngs} >= {
        "crps.png",
        "reliability_ue_rsrp_dbm.png",
        "marginal_ue_rsrp_dbm.png",
        "reliability_ue_handovers.png",
        "marginal_cell_prb_util.png",
    }
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nan_becomes_null(tmp_path):
    obs = np.zeros(5)
    g = m.grade(obs, np.zeros((5, 4)))  # constant: spread_skill and nrmse are NaN
    assert math.isnan(g["spread_skill"])
    write_report({"ue/sinr_db": g}, tmp_path)
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["kpis"]["ue/sinr_db"]["model"]["spread_skill"] is None


def test_report_markdown_tables(results):
    md = report_markdown(results)
    assert "### ue" in md and "### cell" in md
    assert "#### rsrp_dbm" in md and "#### handovers" in md
    assert "| metric | twin | simulator floor | twin / floor |" in md
    row = next(line for line in md.splitlines() if line.startswith("| CRPS |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    r = results["ue/rsrp_dbm"]
    assert float(cells[1]) == pytest.approx(r["model"]["crps_mean"], rel=1e-3)
    assert float(cells[2]) == pytest.approx(r["floor"]["crps_mean"], rel=1e-3)
    ratio, ci = cells[3].split(" [")
    assert float(ratio) == pytest.approx(r["ratios"]["crps_mean"], rel=1e-3)
    lo, hi = (float(v) for v in ci.split("]")[0].split(", "))
    assert [lo, hi] == pytest.approx(r["ratio_ci"]["crps_mean"], rel=1e-3)
    assert ci.endswith("(95 % CI over scenes)")
    assert "Brier score P(count > 0)" in md


def test_bad_results_raise(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        write_report({}, tmp_path)
    with pytest.raises(ValueError, match="neither a grade"):
        report_markdown({"ue/sinr_db": {"foo": 1}})
