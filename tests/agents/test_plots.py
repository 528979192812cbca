"""Every agent figure writes a non-empty PNG and rejects malformed input."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from rantwin.agents.plots import (
    fan_chart,
    kpi_comparison,
    learning_curve,
    pit_histogram,
    return_distributions,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000


@pytest.fixture
def g():
    return np.random.default_rng(0)


def test_learning_curve(tmp_path, g):
    steps = np.cumsum(g.integers(50, 150, size=200))
    returns = np.linspace(-5, 3, 200) + g.normal(size=200)
    out = learning_curve(steps, returns, tmp_path / "lc.png")
    assert out == tmp_path / "lc.png"
    assert_png(out)
    out = learning_curve(
        steps,
        returns,
        tmp_path / "sub" / "lc_eval.png",
        eval_steps=steps[::50],
        eval_returns=g.normal(size=(4, 8)),
        title="PPO",
    )
    assert_png(out)


def test_learning_curve_errors(tmp_path):
    with pytest.raises(ValueError, match="same shape"):
        learning_curve(np.arange(5), np.zeros(4), tmp_path / "x.png")
    with pytest.raises(ValueError, match="together"):
        learning_curve(np.arange(5), np.zeros(5), tmp_path / "x.png", eval_steps=[1])
    with pytest.raises(ValueError, match="eval_returns"):
        learning_curve(
            np.arange(5),
            np.zeros(5),
            tmp_path / "x.png",
            eval_steps=[1, 2],
            eval_returns=np.zeros((3, 4)),
        )
    with pytest.raises(ValueError, match="non-decreasing"):
        learning_curve(np.array([3, 2, 1]), np.zeros(3), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_fan_chart(tmp_path, g):
    series = {
        "static": g.normal(size=(40, 24)).cumsum(axis=1),
        "ppo": 1.0 + g.normal(size=(40, 24)).cumsum(axis=1),
        "short": g.normal(size=(5, 10)),
    }
    assert_png(fan_chart(series, tmp_path / "fan.png", ylabel="throughput", title="Cell tput"))


def test_fan_chart_errors(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        fan_chart({}, tmp_path / "x.png", ylabel="y", title="t")
    with pytest.raises(ValueError, match=r"series\['a'\]"):
        fan_chart({"a": np.zeros(5)}, tmp_path / "x.png", ylabel="y", title="t")
    with pytest.raises(ValueError, match="non-finite"):
        fan_chart({"a": np.full((2, 3), np.nan)}, tmp_path / "x.png", ylabel="y", title="t")


def test_return_distributions(tmp_path, g):
    returns = {
        "static": g.normal(size=30),
        "ppo": g.normal(1.0, size=(10, 4)),
        "single": np.array([0.5]),
        "constant": np.ones(5),
    }
    assert_png(return_distributions(returns, tmp_path / "ret.png"))


def test_return_distributions_errors(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        return_distributions({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="empty"):
        return_distributions({"a": np.array([])}, tmp_path / "x.png")


def test_kpi_comparison(tmp_path):
    table = {
        "static": {"tput": (1.0, 2.0, 3.0), "drops": (0.0, 0.1, 0.3), "energy": (5, 6, 7)},
        "ppo": {"tput": (1.5, 2.5, 3.2), "drops": (0.0, 0.05, 0.2), "energy": (4, 5, 6)},
        "rule": {"tput": (1.1, 2.1, 3.1), "drops": (0.0, 0.1, 0.25)},  # no energy
        "x": {"latency": (10.0, 12.0, 20.0)},
    }
    assert_png(kpi_comparison(table, tmp_path / "kpi.png"))
    assert_png(kpi_comparison(table, tmp_path / "kpi1.png", ncols=1))


def test_kpi_comparison_errors(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        kpi_comparison({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="no metric"):
        kpi_comparison({"a": {}}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="three finite"):
        kpi_comparison({"a": {"m": (1.0, 2.0)}}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="p10 <= p50 <= p90"):
        kpi_comparison({"a": {"m": (3.0, 2.0, 1.0)}}, tmp_path / "x.png")


def test_pit_histogram(tmp_path, g):
    assert_png(pit_histogram(g.uniform(size=500), tmp_path / "pit.png"))
    assert_png(pit_histogram([0.0, 1.0, 0.5], tmp_path / "pit3.png", bins=4))


def test_pit_histogram_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pit_histogram([0.2, 1.2], tmp_path / "x.png")
    with pytest.raises(ValueError, match="bins"):
        pit_histogram([0.2, 0.3], tmp_path / "x.png", bins=0)
    with pytest.raises(ValueError, match="1-D"):
        pit_histogram(np.zeros((2, 2)), tmp_path / "x.png")


def test_plots_leave_backend_and_pyplot_alone(tmp_path, g):
    import sys

    backend = matplotlib.get_backend()
    had_pyplot = "matplotlib.pyplot" in sys.modules
    pit_histogram(g.uniform(size=50), tmp_path / "p.png")
    assert matplotlib.get_backend() == backend
    if not had_pyplot:
        assert "matplotlib.pyplot" not in sys.modules
