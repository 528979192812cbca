"""Paired comparisons, PIT, transfer gap and CVaR against known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rantwin.agents.stats import (
    GapRow,
    PairedComparison,
    cvar,
    gain_retention,
    paired_comparison,
    pit,
    pit_summary,
    transfer_gap,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# -------------------------------------------------------------------------- paired comparison


def test_identical_arrays_are_equivalent_and_not_significant():
    x = rng(1).normal(size=40)
    r = paired_comparison(x, x.copy(), names=("ppo", "static"), margin=0.5, rng=rng())
    assert isinstance(r, PairedComparison)
    assert r.mean_diff == 0.0
    assert r.ci_low == r.ci_high == 0.0
    assert r.p_value == 1.0
    assert r.equivalent and not r.significant
    assert r.n == 40 and (r.a, r.b) == ("ppo", "static")


def test_small_noise_difference_is_equivalent_for_generous_margin():
    g = rng(2)
    base = g.normal(size=60)
    r = paired_comparison(base + 0.01 * g.normal(size=60), base, margin=0.5, rng=rng())
    assert abs(r.mean_diff) < 0.01
    assert r.ci_low < 0.0 < r.ci_high or abs(r.mean_diff) < 0.005
    assert r.equivalent
    assert r.tost_p < 1e-6


def test_constant_shift_is_significant_and_not_equivalent():
    g = rng(3)
    base = g.normal(scale=5.0, size=50)  # large shared seed-to-seed variance...
    shifted = base + 1.0 + 0.1 * g.normal(size=50)  # ...cancels in the paired differences
    r = paired_comparison(shifted, base, margin=0.1, rng=rng())
    assert r.significant
    assert r.ci_low < 1.0 < r.ci_high
    assert r.ci_high - r.ci_low < 0.2
    assert abs(r.mean_diff - 1.0) < 0.05
    assert r.p_value < 1e-10
    assert not r.equivalent and r.tost_p > 0.5


def test_two_d_input_pairs_by_episode():
    g = rng(4)
    scene = g.normal(scale=3.0, size=(12, 1))  # members of one episode share a scene
    a = scene + 0.5 + 0.2 * g.normal(size=(12, 8))
    b = scene + 0.2 * g.normal(size=(12, 8))
    r = paired_comparison(a, b, margin=0.1, rng=rng())
    assert r.n == 12
    ep_diff = a.mean(axis=1) - b.mean(axis=1)
    assert r.mean_diff == pytest.approx(ep_diff.mean())
    assert r.significant and r.ci_low < 0.5 < r.ci_high


def test_same_seed_same_result_and_percentile_method():
    g = rng(5)
    a, b = g.normal(size=30), g.normal(size=30)
    r1 = paired_comparison(a, b, margin=0.2, n_boot=500, rng=rng(9))
    r2 = paired_comparison(a, b, margin=0.2, n_boot=500, rng=rng(9))
    assert r1 == r2
    r3 = paired_comparison(a, b, margin=0.2, n_boot=500, rng=rng(10))
    assert (r3.ci_low, r3.ci_high) != (r1.ci_low, r1.ci_high)
    rp = paired_comparison(a, b, margin=0.2, n_boot=500, rng=rng(9), method="percentile")
    assert rp.ci_low < rp.mean_diff < rp.ci_high


def test_p_value_matches_scipy_paired_t_test():
    from scipy.stats import ttest_rel

    g = rng(6)
    a, b = g.normal(size=25), g.normal(0.3, size=25)
    r = paired_comparison(a, b, margin=0.2, n_boot=200, rng=rng())
    assert r.p_value == pytest.approx(ttest_rel(a, b).pvalue)


def test_exact_constant_shift_is_degenerate_but_well_defined():
    base = rng(7).normal(size=30)
    r = paired_comparison(base + 0.12, base, margin=0.05, rng=rng())  # d = 0.12 up to rounding
    assert r.mean_diff == pytest.approx(0.12)
    assert r.ci_low == r.ci_high == r.mean_diff
    assert r.p_value == 0.0 and r.significant
    assert r.tost_p == 1.0 and not r.equivalent
    r = paired_comparison(base + 0.01, base, margin=0.05, rng=rng())
    assert r.tost_p == 0.0 and r.equivalent


def test_as_dict_and_describe():
    g = rng(7)
    base = g.normal(size=30)
    x = base + 0.12 + 0.001 * g.normal(size=30)
    r = paired_comparison(x, base, names=("ppo", "static"), margin=0.05, rng=rng())
    d = r.as_dict()
    assert d["a"] == "ppo" and d["n"] == 30 and isinstance(d["equivalent"], bool)
    line = r.describe()
    assert line.startswith("ppo − static: +0.12")
    assert "95 % CI" in line and "TOST ±0.050" in line and line.endswith("not equivalent")
    assert "\n" not in line


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x_b": np.zeros(4)}, "same shape"),
        ({"x_a": np.zeros(1), "x_b": np.zeros(1)}, "at least 2"),
        ({"x_a": np.array([0.0, np.nan, 1.0])}, "finite"),
        ({"margin": 0.0}, "margin"),
        ({"margin": -1.0}, "margin"),
        ({"ci_level": 1.0}, "ci_level"),
        ({"n_boot": 10}, "n_boot"),
        ({"x_a": np.zeros((3, 2, 2)), "x_b": np.zeros((3, 2, 2))}, "episodes"),
    ],
)
def test_paired_comparison_errors(kwargs, match):
    args = {"x_a": np.arange(3.0), "x_b": np.arange(3.0), "margin": 0.1, "rng": rng()}
    args |= kwargs
    x_a, x_b = args.pop("x_a"), args.pop("x_b")
    with pytest.raises(ValueError, match=match):
        paired_comparison(x_a, x_b, **args)


# -------------------------------------------------------------------------------------- PIT


def test_pit_of_calibrated_ensemble_is_uniform():
    g = rng(8)
    mu = g.normal(scale=3.0, size=(400, 1))
    predicted = mu + g.normal(size=(400, 100))
    realised = mu[:, 0] + g.normal(size=400)
    p = pit(realised, predicted)
    assert p.shape == (400,) and np.all((p >= 0) & (p <= 1))
    s = pit_summary(p)
    assert s["n"] == 400
    assert s["ks_p"] > 0.01
    assert abs(s["mean"] - 0.5) < 0.05
    assert abs(s["frac_central_80"] - 0.8) < 0.08


def test_pit_of_biased_ensemble_is_not_uniform():
    g = rng(9)
    predicted = g.normal(size=(300, 50))
    p = pit(g.normal(1.0, size=300), predicted)
    s = pit_summary(p)
    assert s["mean"] > 0.65 and s["ks_p"] < 1e-6


def test_pit_extremes_and_ties():
    predicted = np.array([[1.0, 2.0, 3.0, 4.0]] * 4)
    p = pit(np.array([10.0, -10.0, 2.0, 2.5]), predicted)
    np.testing.assert_allclose(p, [1.0, 0.0, (1 + 0.5) / 4, 2 / 4])


def test_pit_errors():
    with pytest.raises(ValueError, match="realised"):
        pit(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="predicted"):
        pit(np.zeros(3), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        pit(np.array([np.inf, 0.0]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pit_summary(np.array([0.2, 1.5]))
    with pytest.raises(ValueError, match="non-empty"):
        pit_summary(np.array([]))


# ---------------------------------------------------------------------------- transfer gap


def test_transfer_gap_rows():
    g = rng(10)
    scene = g.normal(scale=2.0, size=(50, 1))
    twin = {
        "return": scene + g.normal(size=(50, 64)),
        "drops": scene + 1.0 + g.normal(size=(50, 64)),
        "twin_only": np.zeros((50, 2)),
    }
    sim = {
        "return": (scene + g.normal(size=(50, 1)))[:, 0],  # [E] is read as one member
        "drops": scene + g.normal(size=(50, 3)),
        "sim_only": np.zeros((50, 2)),
    }
    rows = transfer_gap(twin, sim)
    assert [r.metric for r in rows] == ["return", "drops"]
    assert all(isinstance(r, GapRow) for r in rows)
    ret, drops = rows
    assert ret.n_episodes == 50 and ret.pit_n == 50 and drops.pit_n == 150
    assert ret.gap == pytest.approx(ret.twin_mean - ret.sim_mean)
    assert ret.pit_ks_p > 0.01  # calibrated twin
    assert drops.gap == pytest.approx(1.0, abs=0.3)
    assert drops.rel_gap == pytest.approx(drops.gap / abs(drops.sim_mean))
    assert drops.pit_mean < 0.4  # twin biased upwards: sim values sit low in the ensemble
    assert set(ret.as_dict()) >= {"metric", "gap", "rel_gap", "pit_mean", "pit_ks_p"}


def test_transfer_gap_errors():
    with pytest.raises(ValueError, match="share no metric"):
        transfer_gap({"a": np.zeros((3, 2))}, {"b": np.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"sim\['a'\]"):
        transfer_gap({"a": np.zeros((3, 2))}, {"a": np.zeros((4, 2))})
    with pytest.raises(ValueError, match=r"twin\['a'\]"):
        transfer_gap({"a": np.zeros(3)}, {"a": np.zeros(3)})


def test_gain_retention():
    assert gain_retention(2.0, 1.5) == 0.75
    assert gain_retention(1.0, -0.5) == -0.5
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="twin_gain"):
            gain_retention(bad, 1.0)
    with pytest.raises(ValueError, match="sim_gain"):
        gain_retention(1.0, math.inf)


# ------------------------------------------------------------------------------------ CVaR


def test_cvar():
    x = np.arange(1.0, 101.0)  # 1..100
    assert cvar(x, 0.1) == pytest.approx(5.5)  # mean of 1..10
    assert cvar(x, 0.1, higher_is_better=False) == pytest.approx(95.5)  # mean of 91..100
    assert cvar(x, 1.0) == pytest.approx(50.5)
    assert cvar(np.arange(30.0), 0.1) == pytest.approx(1.0)  # exactly 3 samples: 0, 1, 2
    assert cvar([3.0, 7.0], 0.01) == 3.0  # at least one sample
    assert cvar(x.reshape(10, 10), 0.1) == pytest.approx(5.5)  # flattened
    with pytest.raises(ValueError, match="alpha"):
        cvar(x, 0.0)
    with pytest.raises(ValueError, match="empty"):
        cvar([], 0.1)
