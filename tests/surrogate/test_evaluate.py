"""The derived coverage-hole grade of `grade_twin` (SINR below the reward's threshold)."""

from __future__ import annotations

import numpy as np
import pytest

from rantwin.surrogate.evaluate import COVERAGE_HOLE, EvalData, grade_twin
from rantwin.surrogate.report import report_markdown, write_report


def _data() -> EvalData:
    """40 UEs in 4 scenes: 10 observed holes; twin draws below -5 dB twice as often."""
    rng = np.random.default_rng(0)
    obs = np.where(np.arange(40) % 4 == 0, -8.0, 6.0)  # 10 of 40 below -5 dB
    flip = obs.copy()
    flip[[0, 1]] = flip[[1, 0]]  # one hole moved to another UE: the same rate, 0.25
    sim = np.stack([obs, flip], -1)  # the floor: two other runs, nearly the same holes
    twin = np.where(rng.random((40, 50)) < 0.5, -6.0, 3.0)  # rate 0.5 in expectation
    scene = np.repeat(np.arange(4), 10)
    return EvalData(
        obs={"ue/sinr_db": obs}, sim={"ue/sinr_db": sim}, twin={"ue/sinr_db": twin},
        scene={"ue/sinr_db": scene},
    )  # fmt: skip


def test_the_hole_rates_are_those_of_the_draws_below_the_threshold():
    d = _data()
    hole = grade_twin(d)[COVERAGE_HOLE]
    assert hole["kind"] == "event" and hole["threshold_db"] == -5.0
    assert hole["model"]["event_rate_obs"] == pytest.approx(0.25)
    assert hole["model"]["event_rate_pred"] == pytest.approx(np.mean(d.twin["ue/sinr_db"] < -5))
    assert hole["floor"]["event_rate_pred"] == pytest.approx(0.25)
    assert hole["model"]["brier"] > hole["floor"]["brier"]  # too many holes score worse


def test_the_threshold_moves_the_event_and_none_leaves_it_out():
    d = _data()
    # at -10 dB nothing is a hole, observed or drawn
    hole = grade_twin(d, coverage_sinr_db=-10.0)[COVERAGE_HOLE]
    assert hole["model"]["event_rate_obs"] == 0.0 and hole["model"]["event_rate_pred"] == 0.0
    assert hole["threshold_db"] == -10.0
    assert COVERAGE_HOLE not in grade_twin(d, coverage_sinr_db=None)


def test_a_nan_threshold_is_an_error_naming_it():
    with pytest.raises(ValueError, match="coverage_sinr_db must be finite"):
        grade_twin(_data(), coverage_sinr_db=float("nan"))


def test_the_report_keeps_the_threshold(tmp_path):
    results = grade_twin(_data())
    write_report(results, tmp_path)
    assert '"threshold_db": -5' in (tmp_path / "report.json").read_text()
    assert (tmp_path / "reliability_ue_coverage_hole.png").exists()
    assert "#### coverage_hole (event: SINR < -5 dB, n = 40" in report_markdown(results)
