"""Known-answer tests of the twin's grading metrics (rantwin.surrogate.metrics)."""

import numpy as np
import pytest
import scoringrules as sr

from rantwin.surrogate import metrics as m


def _gaussian(n, s, spread=1.0, seed=0):
    """obs ~ N(mu, 1) and an ensemble ~ N(mu, spread^2) for random mu: calibrated iff spread=1."""
    rng = np.random.default_rng(seed)
    mu = 3.0 * rng.normal(size=n)
    obs = mu + rng.normal(size=n)
    samples = mu[:, None] + spread * rng.normal(size=(n, s))
    return obs, samples


@pytest.mark.parametrize("n_members", [4, 9, 32])
def test_calibrated_gaussian_coverage_reliability_spread_skill(n_members):
    obs, samples = _gaussian(20_000, n_members)
    assert m.band_coverage_from_samples(obs, samples) == pytest.approx(0.8, abs=0.015)
    levels, emp = m.reliability_curve(obs, samples)
    np.testing.assert_allclose(levels, np.arange(1, 20) / 20)
    np.testing.assert_allclose(emp, levels, atol=0.015)
    assert m.spread_skill(obs, samples) == pytest.approx(1.0, abs=0.03)


def test_under_dispersed_ensemble_is_caught():
    obs, samples = _gaussian(5_000, 32, spread=0.5)
    assert m.band_coverage_from_samples(obs, samples) < 0.6
    assert m.spread_skill(obs, samples) == pytest.approx(0.5, abs=0.05)
    levels, emp = m.reliability_curve(obs, samples)
    assert emp[0] > levels[0] + 0.05 and emp[-1] < levels[-1] - 0.05  # flatter than diagonal


def test_quantile_coverage_and_band_width():
    obs = np.array([0.0, 1.0, 2.0, 3.0])
    assert m.quantile_coverage(obs, np.full(4, 0.5), np.full(4, 2.0)) == 0.5
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(2_000, 200))
    # p10-p90 width of N(0, 1): 2 * 1.2816
    assert m.band_width(samples) == pytest.approx(2 * 1.2816, rel=0.02)


def test_ties_count_as_uniform_pit():
    obs = np.zeros(10)
    samples = np.zeros((10, 5))  # e.g. zero throughput everywhere
    assert m.band_coverage_from_samples(obs, samples) == pytest.approx(0.8)


def test_crps_point_ensemble_and_gaussian_closed_form():
    obs = np.array([1.0, -2.0, 3.5])
    point = np.repeat(obs[:, None], 8, axis=1)
    np.testing.assert_allclose(m.crps(obs, point), 0.0, atol=1e-12)
    rng = np.random.default_rng(2)
    mu, sigma = np.array([0.0, 1.0, -1.0]), np.array([1.0, 2.0, 0.5])
    samples = mu[:, None] + sigma[:, None] * rng.normal(size=(3, 20_000))
    expected = sr.crps_normal(obs, mu, sigma)
    np.testing.assert_allclose(m.crps(obs, samples), expected, rtol=0.02)
    np.testing.assert_allclose(m.crps(obs, samples, estimator="nrg"), expected, rtol=0.02)


def test_crps_fair_estimator_removes_small_ensemble_bias():
    # a calibrated 3-member ensemble: the fair CRPS matches the closed form on average
    rng = np.random.default_rng(3)
    obs = rng.normal(size=40_000)
    samples = rng.normal(size=(40_000, 3))
    expected = 1 / np.sqrt(np.pi)  # E CRPS(N(0, 1), Y) for Y ~ N(0, 1)
    assert m.crps(obs, samples).mean() == pytest.approx(expected, rel=0.02)
    assert m.crps(obs, samples, estimator="nrg").mean() > 1.1 * expected
    # and two runs: 0.5 |a - b| estimates the same floor
    assert m.crps_floor_from_pair(obs, samples[:, 0]).mean() == pytest.approx(expected, rel=0.02)


def test_fair_estimator_needs_two_members():
    with pytest.raises(ValueError, match="at least 2"):
        m.crps(np.zeros(3), np.zeros((3, 1)))
    assert m.crps(np.zeros(3), np.ones((3, 1)), estimator="nrg") == pytest.approx(1.0)


def test_energy_score_rewards_the_right_correlation():
    rng = np.random.default_rng(4)
    n_scenes, s, d, rho = 300, 32, 8, 0.9
    cov = rho * np.ones((d, d)) + (1 - rho) * np.eye(d)
    chol = np.linalg.cholesky(cov)
    obs = rng.normal(size=(n_scenes, d)) @ chol.T
    joint = rng.normal(size=(n_scenes, s, d)) @ chol.T
    indep = rng.normal(size=(n_scenes, s, d))  # right marginals, no correlation
    es_joint = m.energy_score(obs, joint)
    es_indep = m.energy_score(obs, indep)
    assert es_joint.shape == (n_scenes,)
    assert es_joint.mean() < 0.95 * es_indep.mean()
    # per-node CRPS cannot tell the two apart
    crps_joint = m.crps(obs.ravel(), joint.transpose(0, 2, 1).reshape(-1, s)).mean()
    crps_indep = m.crps(obs.ravel(), indep.transpose(0, 2, 1).reshape(-1, s)).mean()
    assert crps_joint == pytest.approx(crps_indep, rel=0.05)
    # scenes of different sizes, and the scene_ids grouping, agree with the stacked version
    scenes = [(obs[i], joint[i]) for i in range(5)]
    np.testing.assert_allclose(m.energy_score_scenes(scenes), es_joint[:5])
    ragged = [(obs[0, :3], joint[0, :, :3]), (obs[1], joint[1])]
    assert m.energy_score_scenes(ragged).shape == (2,)
    ids = np.repeat(np.arange(5), d)
    flat_obs = obs[:5].ravel()
    flat_smp = joint[:5].transpose(0, 2, 1).reshape(-1, s)  # [scene, S, D] -> [scene*D, S]
    np.testing.assert_allclose(m.energy_score_by_scene(flat_obs, flat_smp, ids), es_joint[:5])


def test_jsd_tv_nrmse_known_answers():
    rng = np.random.default_rng(5)
    a = rng.normal(size=5_000)
    assert m.jsd(a, a) == pytest.approx(0.0, abs=1e-12)
    assert m.total_variation(a, a) == pytest.approx(0.0, abs=1e-12)
    assert m.nrmse(a, a) == pytest.approx(0.0, abs=1e-12)
    b = a + 100.0  # disjoint supports
    assert m.jsd(a, b) == pytest.approx(1.0)  # bits
    assert m.jsd(a, b, base=np.e) == pytest.approx(np.log(2))
    assert m.total_variation(a, b) == pytest.approx(1.0)
    # same distribution, other draws: small
    c = rng.normal(size=5_000)
    assert m.jsd(a, c, bins=30) < 0.01 and m.total_variation(a, c, bins=30) < 0.06
    # NRMSE of matched quantiles: a shift by delta gives delta / range(a)
    assert m.nrmse(a, a + 0.5) == pytest.approx(0.5 / np.ptp(a))
    assert m.nrmse_pointwise(a + 0.5, a) == pytest.approx(0.5 / np.ptp(a))


def test_grade_continuous_and_floor_vs_model():
    obs, model = _gaussian(3_000, 32, spread=0.6, seed=6)
    rng = np.random.default_rng(7)
    sim = model.mean(axis=1, keepdims=True) + rng.normal(size=(3_000, 8))
    ids = np.arange(3_000) // 30
    g = m.grade(obs, sim, scene_ids=ids)
    for key in ("coverage_p10_p90", "band_width", "crps_mean", "spread_skill", "energy_score_mean"):
        assert np.isfinite(g[key]), key
    assert g["coverage_p10_p90"] == pytest.approx(0.8, abs=0.03)
    assert len(g["reliability"]["levels"]) == len(g["reliability"]["empirical"]) == 19
    assert set(g["marginal"]) == {"jsd", "total_variation", "nrmse", "mean_bias", "mean_ratio"}
    r = m.floor_vs_model(obs, model, sim, scene_ids=ids)
    assert r["model"]["n_samples"] == 32 and r["floor"]["n_samples"] == 8
    assert r["ratios"]["crps_mean"] == pytest.approx(
        r["model"]["crps_mean"] / r["floor"]["crps_mean"]
    )
    assert r["ratios"]["crps_mean"] > 1.0  # the under-dispersed twin is worse than the floor
    assert r["coverage_error"]["model"] < -0.1 < r["coverage_error"]["floor"]
    assert "energy_score_mean" in r["ratios"]


def test_grade_event_counts():
    rng = np.random.default_rng(8)
    rate = rng.uniform(0.0, 2.0, size=4_000)
    obs = rng.poisson(rate)
    good = rng.poisson(rate[:, None], size=(4_000, 64))
    flat = rng.poisson(rate.mean(), size=(4_000, 16))
    g_good, g_flat = m.grade(obs, good, "event"), m.grade(obs, flat, "event")
    assert g_good["brier"] < g_flat["brier"]
    assert g_good["brier"] < g_good["brier_climatology"]
    assert g_good["crps_mean"] < g_flat["crps_mean"]
    pr = g_good["prob_reliability"]
    np.testing.assert_allclose(pr["observed"], pr["predicted"], atol=0.1)
    assert sum(pr["count"]) == 4_000
    # CRPS of integer counts = ranked probability score over the integer thresholds
    ens = np.array([[0, 1, 1, 3]])
    cdf = np.array([0.25, 0.75, 0.75, 1.0])  # P(X <= k), k = 0..3
    rps = np.sum((cdf - (np.arange(4) >= 1)) ** 2)
    assert m.crps(np.array([1]), ens, estimator="nrg")[0] == pytest.approx(rps)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="NaN"):
        m.grade(np.array([np.nan, 1.0]), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\[N=3, S\]"):
        m.crps(np.zeros(3), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="kind"):
        m.grade(np.zeros(3), np.zeros((3, 4)), kind="binary")
    with pytest.raises(ValueError, match="lo must be below hi"):
        m.band_coverage_from_samples(np.zeros(3), np.zeros((3, 4)), lo=0.9, hi=0.1)


def test_ratio_ci_is_a_scene_cluster_bootstrap_around_the_ratio():
    from rantwin.surrogate.metrics import ratio_ci

    rng = np.random.default_rng(3)
    scene = np.repeat(np.arange(40), 25)  # [1000] 40 scenes of 25 nodes
    level = rng.gamma(2.0, size=40)[scene]  # nodes of a scene share its difficulty
    floor = level * rng.gamma(4.0, 0.25, size=1000)
    model = 1.4 * floor * rng.gamma(9.0, 1 / 9, size=1000)
    ratio = model.mean() / floor.mean()
    lo, hi = ratio_ci(model, floor, scene)
    assert lo < ratio < hi and 1.2 < lo and hi < 1.6
    assert ratio_ci(model, floor, scene) == [lo, hi]  # seeded: the same report twice
    few = scene < 4  # 4 scenes: same nodes per scene, much wider
    lo4, hi4 = ratio_ci(model[few], floor[few], scene[few])
    assert hi4 - lo4 > hi - lo
    assert ratio_ci(model[:25], floor[:25], scene[:25]) is None  # one scene: no interval
    with pytest.raises(ValueError, match="one value per node, got 1000, 999 and 1000"):
        ratio_ci(model, floor[:-1], scene)


def test_floor_vs_model_reports_the_crps_ratio_interval():
    rng = np.random.default_rng(0)
    obs, scene = rng.normal(size=200), np.repeat(np.arange(20), 10)
    out = m.floor_vs_model(obs, rng.normal(size=(200, 8)) * 2, rng.normal(size=(200, 4)),
                         scene_ids=scene)  # fmt: skip
    ci = out["ratio_ci"]
    assert ci["n_scenes"] == 20 and ci["level"] == 0.95
    assert ci["crps_mean"][0] < out["ratios"]["crps_mean"] < ci["crps_mean"][1]
    assert "ratio_ci" not in m.floor_vs_model(
        obs, rng.normal(size=(200, 8)), rng.normal(size=(200, 4))
    )


def test_mean_shift_sees_what_crps_barely_does():
    """A 16 % shift of the mean of a heavy-tailed KPI: plain in mean_ratio, small in CRPS."""
    rng = np.random.default_rng(11)
    scale = rng.lognormal(1.0, 1.2, size=4_000)  # per-node level, orders of magnitude apart
    obs = scale * rng.exponential(size=4_000)
    fair = scale[:, None] * rng.exponential(size=(4_000, 32))
    shifted = 1.16 * fair
    g_fair, g_shift = m.grade(obs, fair), m.grade(obs, shifted)
    assert g_shift["marginal"]["mean_ratio"] == pytest.approx(
        1.16 * g_fair["marginal"]["mean_ratio"], rel=1e-9
    )
    assert g_fair["marginal"]["mean_ratio"] == pytest.approx(1.0, abs=0.05)
    assert g_shift["crps_mean"] < 1.1 * g_fair["crps_mean"]  # the score moves far less
    expected = float(shifted.mean() - obs.mean())
    assert g_shift["marginal"]["mean_bias"] == pytest.approx(expected)
    # no ratio of means for a KPI whose mean is not positive (dBm, dB)
    dbm = m.mean_shift(np.array([-90.0, -80.0]), np.array([-85.0, -84.0]))
    assert dbm["mean_ratio"] is None and dbm["mean_bias"] == pytest.approx(0.5)
