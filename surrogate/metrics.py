"""Model-agnostic grading of a sampler against a reference: calibration, proper scores, marginals.

Every function here is a pure function on numpy arrays; nothing knows what produced the samples.
The same :func:`grade` scores the twin (``samples`` drawn from the surrogate) and the simulator's
own floor (``samples`` drawn from independent simulator runs of the same scene and config), so
the two are comparable number for number (DESIGN.md §4, :func:`floor_vs_model`).

Conventions:

- ``obs: [N]`` are the reference values of one KPI of one node type (one value per node and
  super-step, e.g. every UE's ``sinr_db`` of a held-out dataset), ``samples: [N, S]`` are ``S``
  draws of the sampler for the same nodes (ensemble axis last).
- Coverage and reliability of an ensemble come from its rank (the non-randomised PIT of
  :func:`pit_intervals`), which is exact for any ensemble size ``S``: a calibrated ensemble of
  4 simulator runs gets a p10–p90 coverage of 0.8, where counting observations between the
  empirical p10 and p90 (numpy's default ``"linear"`` quantiles) would give
  ``0.8 * (S - 1) / (S + 1)`` (0.48 at ``S = 4``). Band widths use Weibull-position quantiles
  (``np.quantile(..., method="weibull")``, level ``p`` at rank ``p * (S + 1)``).
- Proper scores (CRPS, energy score, Brier) come from ``scoringrules`` and default to the *fair*
  estimators (Ferro 2014, doi:10.1002/qj.2270; Zamo & Naveau 2018, doi:10.1007/s11004-017-9709-7):
  they estimate without bias the score of the distribution the ensemble is drawn from, so a
  model ensemble of 64 draws and a floor of 4 simulator runs are compared fairly. They need at
  least 2 members; a single pair of simulator runs is scored with :func:`crps_floor_from_pair`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
from scipy.spatial.distance import jensenshannon

NOMINAL_LEVELS = np.round(np.arange(0.05, 1.0, 0.05), 10)
"""Nominal levels of the reliability curve: 0.05, 0.10, …, 0.95 (DESIGN.md §4)."""

_QUANTILE_METHOD: Literal["weibull"] = (
    "weibull"  # rank p * (S + 1): unbiased for exchangeable members, see above
)
_ES_CHUNK_ELEMENTS = 2**24  # bound on scenes * S * S * D in one scoringrules call (~128 MB f64)

_CRPS_SAME_NUMBERS_CHEAPER = {"fair": "pwm", "nrg": "qd"}

Kind = Literal["continuous", "event"]


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _sr() -> Any:
    """Import scoringrules, with an error that says how to get it."""
    try:
        import scoringrules
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "rantwin.surrogate.metrics needs `scoringrules` for the proper scores (CRPS, energy "
            "and Brier scores); install it with `pip install 'scoringrules>=0.8'`"
        ) from e
    return scoringrules


def _as_obs(obs: Any, name: str = "obs") -> np.ndarray:
    a = np.asarray(obs, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array [N], got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds {int(np.sum(~np.isfinite(a)))} NaN/inf values")
    return a


def _as_samples(samples: Any, n: int, name: str = "samples", min_members: int = 1) -> np.ndarray:
    s = np.asarray(samples, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != n:
        raise ValueError(f"{name} must be a 2-D array [N={n}, S], got shape {s.shape}")
    if s.shape[1] < min_members:
        raise ValueError(
            f"{name} has {s.shape[1]} member(s) per node, this metric needs at least "
            f"{min_members}; draw more samples (or, for the floor from one pair of simulator "
            "runs, use crps_floor_from_pair)"
        )
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} holds {int(np.sum(~np.isfinite(s)))} NaN/inf values")
    return s


def _check_level(level: float, name: str) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"{name} must be a quantile level in (0, 1), got {level}")


def ensemble_quantiles(samples: np.ndarray, levels: Sequence[float] | np.ndarray) -> np.ndarray:
    """Empirical quantiles of each node's ensemble, Weibull plotting position.

    Input:
        samples: ``[N, S]`` float, ensemble members per node.
        levels: ``[L]`` quantile levels in (0, 1).

    Output:
        ``[N, L]`` float64, the quantile at each level (rank ``p * (S + 1)``, clipped to the
        extreme members; Hyndman & Fan 1996, definition 6).
    """
    s = np.asarray(samples, dtype=np.float64)
    q = np.quantile(s, np.asarray(levels, dtype=np.float64), axis=1, method=_QUANTILE_METHOD)
    # np.quantile puts the levels first: [L, N] -> [N, L]
    return np.moveaxis(q, 0, -1)


# --------------------------------------------------------------------------------------------
# calibration and sharpness
# --------------------------------------------------------------------------------------------


def quantile_coverage(obs: Any, q_lo: Any, q_hi: Any) -> float:
    """Fraction of observations inside their predicted band ``[q_lo, q_hi]`` (inclusive).

    Input:
        obs: ``[N]`` float, reference values.
        q_lo: ``[N]`` float, predicted lower quantile per node (e.g. p10 of a quantile head).
        q_hi: ``[N]`` float, predicted upper quantile per node (e.g. p90).

    Output:
        float in [0, 1]. For a calibrated p10–p90 band the target is 0.8 (Gneiting, Balabdaoui &
        Raftery 2007, "Probabilistic forecasts, calibration and sharpness", JRSS-B 69(2)).
    """
    y = _as_obs(obs)
    lo = _as_obs(q_lo, "q_lo")
    hi = _as_obs(q_hi, "q_hi")
    if not (lo.shape == hi.shape == y.shape):
        raise ValueError(
            f"obs, q_lo, q_hi must have one shape, got {y.shape}, {lo.shape}, {hi.shape}"
        )
    if y.size == 0:
        return math.nan
    return float(np.mean((y >= lo) & (y <= hi)))


def pit_intervals(obs: Any, samples: Any) -> tuple[np.ndarray, np.ndarray]:
    """Non-randomised probability integral transform of each observation against its ensemble.

    With ``r_lt`` members strictly below the observation and ``r_le`` members at or below it,
    the observation's PIT is uniform on ``[r_lt / (S + 1), (r_le + 1) / (S + 1)]`` if it is
    exchangeable with the ``S`` members (the rank histogram, Hamill 2001, MWR 129(3), spread
    uniformly over each rank's bin and over ties, as Czado, Gneiting & Held 2009, Biometrics
    65(4), eq. 1, do for count data). Averaging the uniform's CDF over nodes gives coverage and
    reliability that are unbiased for *any* ensemble size, ties (zero throughput, saturated PRB
    utilisation) included, without drawing random numbers.

    Input:
        obs: ``[N]`` float, reference values.
        samples: ``[N, S]`` float, ensemble members per node.

    Output:
        (lower ``[N]``, upper ``[N]``) float64, the PIT interval of each node, in [0, 1].
    """
    y = _as_obs(obs)
    s = _as_samples(samples, y.size)
    n_members = s.shape[1]
    r_lt = np.sum(s < y[:, None], axis=1)
    r_le = np.sum(s <= y[:, None], axis=1)
    return r_lt / (n_members + 1.0), (r_le + 1.0) / (n_members + 1.0)


def _pit_cdf(lower: np.ndarray, upper: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Mean over nodes of ``P(PIT <= level)``: ``[N]``, ``[N]``, ``[L]`` -> ``[L]``."""
    # [N, 1] against [1, L] -> [N, L]
    frac = (levels[None, :] - lower[:, None]) / (upper - lower)[:, None]
    return np.mean(np.clip(frac, 0.0, 1.0), axis=0)


def band_coverage_from_samples(obs: Any, samples: Any, lo: float = 0.1, hi: float = 0.9) -> float:
    """Coverage of the ensemble's central ``[lo, hi]`` band, from the PIT.

    ``mean_n P(lo <= PIT_n <= hi)`` with the PIT of :func:`pit_intervals`: the fraction of
    observations between the ensemble's ``lo`` and ``hi`` quantiles, made exact for small
    ensembles. Where ``lo * (S + 1)`` and ``hi * (S + 1)`` are whole ranks (``S = 9, 19, 49,
    99, …``) it equals the plain count of observations inside ``[x_(lo(S+1)), x_(hi(S+1))]``;
    for ``S = 4`` the count inside the extreme members would be 0.6 at best, while this one
    stays 0.8 for a calibrated ensemble.

    Input:
        obs: ``[N]`` float, reference values.
        samples: ``[N, S]`` float, ensemble members per node.
        lo, hi: quantile levels of the band, ``0 < lo < hi < 1``.

    Output:
        float in [0, 1], target ``hi - lo`` (0.8 for p10–p90).
    """
    _check_level(lo, "lo")
    _check_level(hi, "hi")
    if lo >= hi:
        raise ValueError(f"lo must be below hi, got lo={lo}, hi={hi}")
    lower, upper = pit_intervals(obs, samples)
    if lower.size == 0:
        return math.nan
    cdf = _pit_cdf(lower, upper, np.array([lo, hi]))
    return float(cdf[1] - cdf[0])


def reliability_curve(
    obs: Any, samples: Any, levels: Sequence[float] | np.ndarray = NOMINAL_LEVELS
) -> tuple[np.ndarray, np.ndarray]:
    """Reliability curve: how often the observation falls below each predicted quantile.

    The empirical CDF of the probability integral transform (PIT) at the nominal levels,
    ``empirical[l] = mean_n P(PIT_n <= levels[l])`` (:func:`pit_intervals`), i.e. the frequency
    of ``obs <= predicted quantile at level l``. A calibrated sampler lies on the diagonal;
    above it at low levels and below at high levels (flatter than the diagonal) = the
    observations fall in the tails too often, under-dispersed; entirely above = the sampler is
    biased high (Gneiting, Balabdaoui & Raftery 2007, JRSS-B 69(2), §3.1).

    Input:
        obs: ``[N]`` float, reference values.
        samples: ``[N, S]`` float, ensemble members per node.
        levels: ``[L]`` nominal levels in (0, 1); default 0.05, 0.10, …, 0.95.

    Output:
        (levels ``[L]`` float64, empirical ``[L]`` float64 in [0, 1]).
    """
    lv = np.asarray(levels, dtype=np.float64)
    if lv.ndim != 1 or np.any((lv <= 0) | (lv >= 1)):
        raise ValueError(f"levels must be a 1-D array of levels in (0, 1), got {lv}")
    lower, upper = pit_intervals(obs, samples)
    if lower.size == 0:
        return lv, np.full(lv.shape, math.nan)
    return lv, _pit_cdf(lower, upper, lv)


def band_width(samples: Any, lo: float = 0.1, hi: float = 0.9) -> float:
    """Sharpness: mean width of the ensemble's ``[lo, hi]`` quantile band.

    Only meaningful next to the coverage: a narrower band is better *if* calibrated
    (Gneiting, Balabdaoui & Raftery 2007, "maximise sharpness subject to calibration").

    Band edges are Weibull-position quantiles (:func:`ensemble_quantiles`); with fewer than
    ``1 / lo - 1`` members (9 for p10) they clip to the extreme members, so the width of a
    small ensemble (e.g. a floor of 4 simulator runs) is biased low.

    Input:
        samples: ``[N, S]`` float, ensemble members per node.
        lo, hi: quantile levels of the band, ``0 < lo < hi < 1``.

    Output:
        float, in the unit of the KPI.
    """
    _check_level(lo, "lo")
    _check_level(hi, "hi")
    s = np.asarray(samples, dtype=np.float64)
    s = _as_samples(s, s.shape[0] if s.ndim == 2 else -1)
    if s.shape[0] == 0:
        return math.nan
    q = ensemble_quantiles(s, [lo, hi])
    return float(np.mean(q[:, 1] - q[:, 0]))


def spread_skill(obs: Any, samples: Any) -> float:
    """Spread–skill ratio: ensemble spread over the RMSE of the ensemble mean; 1 = well dispersed.

    ``ratio = sqrt((S + 1) / S * mean_n var_n) / sqrt(mean_n (mean_n - obs_n)^2)`` with
    ``var_n`` the unbiased (ddof = 1) variance of node n's ensemble. For an observation
    exchangeable with the members, ``E[(x̄ - y)^2] = (S + 1) / S * E[var]``, hence the finite
    ensemble factor; variances (not standard deviations) are averaged before the square root
    so the ratio is exactly 1 in expectation (Fortin, Abaza, Anctil & Turcotte 2014, "Why
    should ensemble spread match the RMSE of the ensemble mean?", J. Hydrometeorology 15(4),
    doi:10.1175/JHM-D-14-0008.1, eq. 8). Below 1: under-dispersed (over-confident).

    Input:
        obs: ``[N]`` float, reference values.
        samples: ``[N, S]`` float, ``S >= 2`` members per node.

    Output:
        float >= 0 (``inf`` if the ensemble mean is exact everywhere and the spread is not).
    """
    y = _as_obs(obs)
    s = _as_samples(samples, y.size, min_members=2)
    if y.size == 0:
        return math.nan
    n_members = s.shape[1]
    spread = math.sqrt((n_members + 1) / n_members * float(np.mean(np.var(s, axis=1, ddof=1))))
    rmse = math.sqrt(float(np.mean((np.mean(s, axis=1) - y) ** 2)))
    if rmse == 0.0:
        return math.inf if spread > 0 else math.nan
    return spread / rmse


# --------------------------------------------------------------------------------------------
# proper scores (scoringrules)
# --------------------------------------------------------------------------------------------


def crps(obs: Any, samples: Any, estimator: str = "fair") -> np.ndarray:
    """Continuous ranked probability score of each node's ensemble (lower is better).

    ``CRPS(F, y) = E|X - y| - 0.5 E|X - X'|`` (Matheson & Winkler 1976; Gneiting & Raftery 2007,
    JASA 102(477), eq. 21), computed by ``scoringrules.crps_ensemble``. On integer-valued KPIs
    (handover counts) it equals the ranked probability score over all integer thresholds.

    Input:
        obs: ``[N]`` float, reference values.
        samples: ``[N, S]`` float, ensemble members per node.
        estimator: ``"fair"`` (default; unbiased for the CRPS of the distribution the members
            are drawn from, needs ``S >= 2``; scoringrules' ``"pwm"`` gives the same numbers)
            or ``"nrg"`` (CRPS of the empirical distribution of the members; scoringrules'
            own default ``"qd"`` is this one), or any other scoringrules estimator.

    Output:
        ``[N]`` float64, in the unit of the KPI.
    """
    y = _as_obs(obs)
    s = _as_samples(samples, y.size, min_members=2 if estimator in ("fair", "pwm") else 1)
    if y.size == 0:
        return np.zeros(0)
    # scoringrules >= 0.8: crps_ensemble(obs, fct, m_axis=-1, *, estimator=...); older releases
    # named the axis `axis`, so pass obs, fct positionally and keep the ensemble axis last.
    # Without numba, scoringrules' "fair" and "nrg" build an [N, S, S] array (9.6 GB for
    # S = 20000); "pwm" and "qd" give the same numbers from the sorted ensemble in O(S).
    backend_estimator = _CRPS_SAME_NUMBERS_CHEAPER.get(estimator, estimator)
    return np.asarray(_sr().crps_ensemble(y, s, estimator=backend_estimator), dtype=np.float64)


def crps_floor_from_pair(run_a: Any, run_b: Any) -> np.ndarray:
    """CRPS floor from exactly two independent simulator runs of the same scene and config.

    If ``X`` and ``Y`` are i.i.d. draws of the simulator's distribution ``F``, the expected
    CRPS of the perfect model is ``E CRPS(F, Y) = E|X - Y| - 0.5 E|X - X'| = 0.5 E|X - Y|``, so
    ``0.5 |a - b|`` is an unbiased per-node estimate of the floor. (Scoring run b as a one-member
    ensemble against run a would give ``|a - b|``, twice the floor.)

    Input:
        run_a: ``[N]`` float, the KPI in the first run.
        run_b: ``[N]`` float, the same nodes in the second run.

    Output:
        ``[N]`` float64; its mean is comparable with ``crps(obs, model_samples).mean()``.
    """
    a = _as_obs(run_a, "run_a")
    b = _as_obs(run_b, "run_b")
    if a.shape != b.shape:
        raise ValueError(f"run_a and run_b must have one shape, got {a.shape} and {b.shape}")
    return 0.5 * np.abs(a - b)


def energy_score(obs: Any, samples: Any, estimator: str = "fair") -> np.ndarray:
    """Energy score of the joint vector of each scene (lower is better).

    ``ES(F, y) = E||X - y|| - 0.5 E||X - X'||`` with the Euclidean norm over the ``D``
    components of a scene (e.g. all UEs' SINR of one super-step); the multivariate CRPS
    (Gneiting & Raftery 2007, eq. 22; Gneiting, Stanberry, Grimit, Held & Johnson 2008, TEST 17).
    Unlike a sum of per-node CRPS it penalises a sampler whose marginals are right but whose
    nodes are drawn independently when the reference is correlated. Computed by
    ``scoringrules.es_ensemble`` (ensemble axis -2, variable axis -1), in chunks of scenes to
    bound its ``[scenes, S, S, D]`` intermediate.

    Input:
        obs: ``[N_scenes, D]`` float, the reference vector of each scene.
        samples: ``[N_scenes, S, D]`` float, ``S`` joint draws per scene.
        estimator: ``"fair"`` (default, needs ``S >= 2``) or ``"nrg"``, as in :func:`crps`.

    Output:
        ``[N_scenes]`` float64. Scales like ``sqrt(D)``: compare samplers on the same scenes.
    """
    y = np.asarray(obs, dtype=np.float64)
    x = np.asarray(samples, dtype=np.float64)
    if y.ndim != 2 or x.ndim != 3 or x.shape[0] != y.shape[0] or x.shape[2] != y.shape[1]:
        raise ValueError(
            f"energy_score needs obs [N_scenes, D] and samples [N_scenes, S, D], got {y.shape} "
            f"and {x.shape}"
        )
    if estimator == "fair" and x.shape[1] < 2:
        raise ValueError(f"the fair energy score needs >= 2 members per scene, got {x.shape[1]}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(x))):
        raise ValueError("energy_score: obs or samples hold NaN/inf values")
    n_scenes, n_members, dim = x.shape
    if n_scenes == 0:
        return np.zeros(0)
    sr = _sr()
    chunk = max(1, _ES_CHUNK_ELEMENTS // max(1, n_members * n_members * dim))
    out = [
        np.asarray(
            sr.es_ensemble(y[i : i + chunk], x[i : i + chunk], estimator=estimator),
            dtype=np.float64,
        )
        for i in range(0, n_scenes, chunk)
    ]
    return np.concatenate(out)


def energy_score_scenes(scenes: Iterable[tuple[Any, Any]], estimator: str = "fair") -> np.ndarray:
    """Energy score of scenes of different sizes (``D_i`` nodes in scene ``i``).

    Input:
        scenes: iterable of ``(obs [D_i], samples [S, D_i])`` pairs.
        estimator: as in :func:`energy_score`.

    Output:
        ``[N_scenes]`` float64, one energy score per scene (see :func:`energy_score`).
    """
    out = []
    for i, (o, s) in enumerate(scenes):
        o = np.asarray(o, dtype=np.float64)
        s = np.asarray(s, dtype=np.float64)
        if o.ndim != 1 or s.ndim != 2 or s.shape[1] != o.shape[0]:
            raise ValueError(
                f"scene {i}: need obs [D] and samples [S, D], got {o.shape} and {s.shape}"
            )
        out.append(energy_score(o[None], s[None], estimator=estimator)[0])
    return np.asarray(out, dtype=np.float64)


def energy_score_by_scene(
    obs: Any, samples: Any, scene_ids: Any, estimator: str = "fair"
) -> np.ndarray:
    """Energy score of each scene, the nodes of a scene picked out by ``scene_ids``.

    Input:
        obs: ``[N]`` float, reference values of all nodes.
        samples: ``[N, S]`` float, members per node; member ``j`` of every node of one scene
            must come from the same joint draw (the same scene sample), else the score cannot
            see the correlation.
        scene_ids: ``[N]`` int, the scene (e.g. world, episode, step) of each node.
        estimator: as in :func:`energy_score`.

    Output:
        ``[N_scenes]`` float64 in the order of ``np.unique(scene_ids)``.
    """
    y = _as_obs(obs)
    s = _as_samples(samples, y.size)
    ids = np.asarray(scene_ids)
    if ids.shape != y.shape:
        raise ValueError(f"scene_ids must have the shape of obs {y.shape}, got {ids.shape}")
    order = np.argsort(ids, kind="stable")
    _, starts = np.unique(ids[order], return_index=True)
    bounds = [*starts.tolist(), y.size]
    scenes = (
        # nodes of one scene: obs [D], samples [D, S] -> [S, D]
        (y[order[a:b]], s[order[a:b]].T)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    )
    return energy_score_scenes(scenes, estimator=estimator)


def brier_score(obs_event: Any, prob: Any) -> np.ndarray:
    """Brier score of event probabilities: ``(p - 1{event})^2`` per node (Brier 1950).

    Input:
        obs_event: ``[N]`` bool / {0, 1}, whether the event happened.
        prob: ``[N]`` float in [0, 1], predicted probability of the event.

    Output:
        ``[N]`` float64 in [0, 1] (lower is better), via ``scoringrules.brier_score``.
    """
    o = np.asarray(obs_event).astype(np.float64)
    p = np.asarray(prob, dtype=np.float64)
    if o.shape != p.shape or o.ndim != 1:
        raise ValueError(f"obs_event and prob must be 1-D of one shape, got {o.shape}, {p.shape}")
    if o.size == 0:
        return np.zeros(0)
    return np.asarray(_sr().brier_score(o, np.clip(p, 0.0, 1.0)), dtype=np.float64)


def probability_reliability(obs_event: Any, prob: Any, n_bins: int = 10) -> dict[str, list[float]]:
    """Binned reliability diagram of event probabilities (Murphy & Winkler 1977).

    Input:
        obs_event: ``[N]`` bool / {0, 1}, whether the event happened.
        prob: ``[N]`` float in [0, 1], predicted probability.
        n_bins: equal-width probability bins on [0, 1].

    Output:
        dict with ``bin_edges [n_bins + 1]`` and, per non-empty bin, ``predicted`` (mean
        predicted probability), ``observed`` (event frequency) and ``count`` (lists).
    """
    o = np.asarray(obs_event).astype(np.float64)
    p = np.clip(np.asarray(prob, dtype=np.float64), 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    pred, seen, count = [], [], []
    for b in range(n_bins):
        m = idx == b
        if np.any(m):
            pred.append(float(p[m].mean()))
            seen.append(float(o[m].mean()))
            count.append(int(m.sum()))
    return {"bin_edges": edges.tolist(), "predicted": pred, "observed": seen, "count": count}


# --------------------------------------------------------------------------------------------
# marginal-distribution distances (sample set vs sample set)
# --------------------------------------------------------------------------------------------


def shared_bins(a: Any, b: Any, bins: int | Sequence[float] | np.ndarray = 100) -> np.ndarray:
    """Bin edges shared by two sample sets: ``bins`` equal-width bins over their joint range.

    Input:
        a: ``[N]`` float; b: ``[M]`` float; bins: a number of bins or explicit edges.

    Output:
        ``[n_bins + 1]`` float64 edges (explicit edges are returned as given).
    """
    if not np.isscalar(bins):
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bins given as edges must be 1-D, increasing, with >= 2 edges")
        return edges
    n = int(bins)  # type: ignore[arg-type]
    if n < 1:
        raise ValueError(f"bins must be >= 1, got {n}")
    both = np.concatenate([np.ravel(a), np.ravel(b)]).astype(np.float64)
    lo, hi = float(both.min()), float(both.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, n + 1)


def _histograms(
    a: Any, b: Any, bins: int | Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    xa = np.ravel(np.asarray(a, dtype=np.float64))
    xb = np.ravel(np.asarray(b, dtype=np.float64))
    if xa.size == 0 or xb.size == 0:
        raise ValueError(f"both sample sets must be non-empty, got {xa.size} and {xb.size}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(xb))):
        raise ValueError("sample sets hold NaN/inf values")
    edges = shared_bins(xa, xb, bins)
    # values outside explicit edges are clipped into the end bins so no mass is dropped
    xa = np.clip(xa, edges[0], edges[-1])
    xb = np.clip(xb, edges[0], edges[-1])
    ha = np.histogram(xa, edges)[0].astype(np.float64)
    hb = np.histogram(xb, edges)[0].astype(np.float64)
    return ha / ha.sum(), hb / hb.sum()


def jsd(a: Any, b: Any, bins: int | Sequence[float] | np.ndarray = 100, base: float = 2.0) -> float:
    """Jensen–Shannon divergence between the histograms of two sample sets on shared bins.

    ``JSD(P, Q) = 0.5 KL(P || M) + 0.5 KL(Q || M)``, ``M = (P + Q) / 2`` (Lin 1991, IEEE
    Trans. Inf. Theory 37(1)); computed as the square of
    ``scipy.spatial.distance.jensenshannon`` (which returns the JS *distance*). In bits by
    default (``base=2``): 0 for identical histograms, 1 for disjoint ones; with ``base=e``
    (nats) the maximum is ``ln 2``. The value depends on the binning: compare numbers computed
    with the same ``bins``.

    Input:
        a: ``[N]`` float, reference samples (e.g. the simulator's values of a KPI).
        b: ``[M]`` float, other samples (e.g. the twin's pooled draws).
        bins: number of equal-width bins over the joint range, or explicit edges.
        base: logarithm base (2 = bits).

    Output:
        float in ``[0, log_base(2)]``.
    """
    p, q = _histograms(a, b, bins)
    return float(jensenshannon(p, q, base=base) ** 2)


def total_variation(a: Any, b: Any, bins: int | Sequence[float] | np.ndarray = 100) -> float:
    """Total-variation distance between the histograms of two sample sets on shared bins.

    ``TV(P, Q) = 0.5 * sum_k |p_k - q_k|``: 0 for identical histograms, 1 for disjoint ones.

    Input:
        a: ``[N]`` float; b: ``[M]`` float; bins: as in :func:`jsd`.

    Output:
        float in [0, 1].
    """
    p, q = _histograms(a, b, bins)
    return float(0.5 * np.sum(np.abs(p - q)))


def nrmse(a: Any, b: Any, levels: Sequence[float] | np.ndarray | None = None) -> float:
    """Normalised RMSE between two *marginals*: matched quantiles, divided by the range of ``a``.

    ``NRMSE = sqrt(mean_l (Q_b(l) - Q_a(l))^2) / (max(a) - min(a))`` over the levels
    ``l = 0.01, 0.02, …, 0.99`` (default) — a Q–Q plot distance that needs no pairing of the
    samples, so it compares sample sets of different sizes. Papers differ (some normalise by the
    mean or the standard deviation, some pair values point by point); this one is "range of the
    reference", and :func:`nrmse_pointwise` is the paired variant.

    Input:
        a: ``[N]`` float, the reference samples (defines the range).
        b: ``[M]`` float, the other samples.
        levels: ``[L]`` quantile levels in (0, 1); default 0.01 … 0.99.

    Output:
        float >= 0 (``nan`` if ``a`` is constant).
    """
    xa = np.ravel(np.asarray(a, dtype=np.float64))
    xb = np.ravel(np.asarray(b, dtype=np.float64))
    if xa.size == 0 or xb.size == 0:
        raise ValueError(f"both sample sets must be non-empty, got {xa.size} and {xb.size}")
    lv = np.arange(1, 100) / 100.0 if levels is None else np.asarray(levels, dtype=np.float64)
    rmse = math.sqrt(float(np.mean((np.quantile(xb, lv) - np.quantile(xa, lv)) ** 2)))
    span = float(xa.max() - xa.min())
    return rmse / span if span > 0 else math.nan


def nrmse_pointwise(pred: Any, obs: Any) -> float:
    """Normalised RMSE of paired values: ``sqrt(mean (pred - obs)^2) / (max(obs) - min(obs))``.

    Input:
        pred: ``[N]`` float, a point prediction per node (e.g. the median of the twin's draws).
        obs: ``[N]`` float, the reference value of the same nodes.

    Output:
        float >= 0 (``nan`` if ``obs`` is constant).
    """
    p = _as_obs(pred, "pred")
    y = _as_obs(obs)
    if p.shape != y.shape or y.size == 0:
        raise ValueError(
            f"pred and obs must be non-empty and of one shape, got {p.shape}, {y.shape}"
        )
    span = float(y.max() - y.min())
    rmse = math.sqrt(float(np.mean((p - y) ** 2)))
    return rmse / span if span > 0 else math.nan


# --------------------------------------------------------------------------------------------
# one grade per KPI and node type
# --------------------------------------------------------------------------------------------


def grade(
    obs: Any,
    samples: Any,
    kind: Kind = "continuous",
    *,
    scene_ids: Any | None = None,
    levels: Sequence[float] | np.ndarray = NOMINAL_LEVELS,
    band: tuple[float, float] = (0.1, 0.9),
    bins: int | Sequence[float] | np.ndarray = 100,
    estimator: str = "fair",
) -> dict[str, Any]:
    """All the scores of one KPI of one node type, for any sample source.

    ``samples`` may come from the twin or from independent simulator runs of the same scene
    and config (the floor, DESIGN.md §4); the function does not care.

    Input:
        obs: ``[N]`` float (counts for ``kind="event"``), reference values.
        samples: ``[N, S]`` float, ``S >= 2`` draws per node.
        kind: ``"continuous"`` (RSRP, SINR, throughput, PRB utilisation, …) or ``"event"``
            (counts such as handovers: the event is ``count > 0``).
        scene_ids: optional ``[N]`` int scene of each node; adds the mean energy score of the
            scenes' joint vectors (member ``j`` of a scene's nodes must be one joint draw).
        levels: nominal levels of the reliability curve.
        band: the (lo, hi) levels of the coverage band and band width.
        bins: binning of the marginal JSD / TV (and of the returned histogram).
        estimator: scoringrules estimator of CRPS and energy score (see :func:`crps`).

    Output:
        dict of plain Python values (lists, floats, ints). Always: ``kind``, ``n``,
        ``n_samples``, ``crps_mean``, ``marginal`` (``jsd`` in bits, ``total_variation``,
        ``nrmse``, ``mean_bias`` and ``mean_ratio`` of :func:`mean_shift` — obs vs the pooled
        samples) and ``histogram`` (``edges``, ``obs``,
        ``samples`` probability masses, for the overlay figure); with ``scene_ids``,
        ``energy_score_mean`` and ``n_scenes``. Continuous adds ``coverage`` (of ``band``),
        ``coverage_nominal``, ``reliability`` (``levels``, ``empirical``,
        ``max_abs_error``), ``band_width`` and ``spread_skill``. Event adds ``brier`` (fair
        Brier score of ``P(count > 0)``, the fraction of members with a count; Ferro 2014),
        ``brier_climatology`` (Brier score of always forecasting the observed base rate),
        ``event_rate_obs``, ``event_rate_pred``, ``mean_count_obs``, ``mean_count_pred`` and
        ``prob_reliability`` (binned, :func:`probability_reliability`). The key
        ``coverage_p10_p90`` repeats ``coverage`` when ``band == (0.1, 0.9)``.
    """
    return _grade(obs, samples, kind, scene_ids, levels, band, bins, estimator)[0]


def mean_shift(obs: Any, pooled: Any) -> dict[str, float | None]:
    """How far the mean of the draws sits from the mean of the observations.

    A proper score barely notices a shift of the mean that is small next to the spread of a
    node (a UE's throughput spans orders of magnitude, so a 16 % shift of the network mean
    leaves its CRPS at the simulator floor), yet a policy evaluation averages exactly that
    mean. Reported next to the floor's own shift (another simulator run), which is the noise.

    Input: ``obs [N]``, ``pooled [M]`` float.
    Output: ``mean_bias`` = mean(pooled) − mean(obs) in the KPI's unit, and ``mean_ratio`` =
    mean(pooled) / mean(obs) where both means are > 0 (else ``None``: dBm, dB).
    """
    m_obs, m_pool = float(np.mean(obs)), float(np.mean(pooled))
    ratio = m_pool / m_obs if m_obs > 0 and m_pool >= 0 else None
    return {"mean_bias": m_pool - m_obs, "mean_ratio": ratio}


def _grade(
    obs: Any,
    samples: Any,
    kind: Kind,
    scene_ids: Any | None,
    levels: Sequence[float] | np.ndarray,
    band: tuple[float, float],
    bins: int | Sequence[float] | np.ndarray,
    estimator: str,
) -> tuple[dict[str, Any], np.ndarray]:
    """:func:`grade` and the per-node CRPS ``[N]`` it averaged (for :func:`ratio_ci`)."""
    if kind not in ("continuous", "event"):
        raise ValueError(f"kind must be 'continuous' or 'event', got {kind!r}")
    y = _as_obs(obs)
    s = _as_samples(samples, y.size, min_members=2)
    if y.size == 0:
        raise ValueError("grade needs at least one observation, got N = 0")
    pooled = s.ravel()
    edges = shared_bins(y, pooled, bins)
    h_obs, h_smp = _histograms(y, pooled, edges)
    node_crps = crps(y, s, estimator=estimator)  # [N]
    out: dict[str, Any] = {
        "kind": kind,
        "n": int(y.size),
        "n_samples": int(s.shape[1]),
        "crps_mean": float(np.mean(node_crps)),
        "marginal": {
            "jsd": jsd(y, pooled, edges),
            "total_variation": total_variation(y, pooled, edges),
            "nrmse": nrmse(y, pooled),
            **mean_shift(y, pooled),
        },
        "histogram": {"edges": edges.tolist(), "obs": h_obs.tolist(), "samples": h_smp.tolist()},
    }
    if scene_ids is not None:
        es = energy_score_by_scene(y, s, scene_ids, estimator=estimator)
        out["energy_score_mean"] = float(np.mean(es))
        out["n_scenes"] = int(es.size)
    if kind == "continuous":
        lo, hi = band
        lv, emp = reliability_curve(y, s, levels)
        cov = band_coverage_from_samples(y, s, lo, hi)
        out.update(
            coverage=cov,
            coverage_nominal=float(hi - lo),
            reliability={
                "levels": lv.tolist(),
                "empirical": emp.tolist(),
                "max_abs_error": float(np.max(np.abs(emp - lv))),
            },
            band_width=band_width(s, lo, hi),
            spread_skill=spread_skill(y, s),
        )
        if np.isclose(lo, 0.1) and np.isclose(hi, 0.9):
            out["coverage_p10_p90"] = cov
    else:
        event = y > 0
        prob = np.mean(s > 0, axis=1)
        rate = float(np.mean(event))
        # fair Brier score (Ferro 2014, eq. 9): removes the sampling noise of a probability
        # estimated from S members, E[p_hat (1 - p_hat)] / (S - 1), so S = 4 runs and S = 64
        # draws of the same distribution score the same on average
        n_members = s.shape[1]
        fair = np.mean(prob * (1.0 - prob)) / (n_members - 1)
        out.update(
            brier=float(np.mean(brier_score(event, prob)) - fair),
            brier_climatology=rate * (1.0 - rate),
            event_rate_obs=rate,
            event_rate_pred=float(np.mean(prob)),
            mean_count_obs=float(np.mean(y)),
            mean_count_pred=float(np.mean(s)),
            prob_reliability=probability_reliability(event, prob),
        )
    return out, node_crps


#: grade's keyword options and their defaults (floor_vs_model passes them on to _grade)
_GRADE_DEFAULTS = {
    name: p.default
    for name, p in inspect.signature(grade).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
}

# scores where lower is better: the ratio model / floor is the figure of merit (<= 1.5 for CRPS)
_RATIO_KEYS = (
    "crps_mean",
    "energy_score_mean",
    "brier",
    "band_width",
    "marginal.jsd",
    "marginal.total_variation",
    "marginal.nrmse",
)


def _get(d: dict[str, Any], dotted: str) -> Any:
    for k in dotted.split("."):
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _ratio(num: Any, den: Any) -> float | None:
    if num is None or den is None:
        return None
    num, den = float(num), float(den)
    if not (math.isfinite(num) and math.isfinite(den)) or den == 0.0:
        return None
    return num / den


#: Confidence level and resamples of :func:`ratio_ci` (as reported by ``floor_vs_model``).
RATIO_CI_LEVEL = 0.95
RATIO_CI_RESAMPLES = 999


def ratio_ci(
    model_scores: Any,
    floor_scores: Any,
    scene_ids: Any,
    *,
    level: float = RATIO_CI_LEVEL,
    n_resamples: int = RATIO_CI_RESAMPLES,
    seed: int = 0,
) -> list[float] | None:
    """Scene-cluster bootstrap CI of ``mean(model_scores) / mean(floor_scores)``.

    The nodes of one scene share its layout, load and latent draw, so they are not
    independent observations: whole scenes are resampled (cluster bootstrap, Davison &
    Hinkley 1997 §3.8), the ratio of the resampled score sums is the statistic, and the
    percentile interval comes from ``scipy.stats.bootstrap`` (paired over scenes) with a
    generator seeded by ``seed`` (the same report twice gives the same interval).

    Input:
        model_scores, floor_scores: ``[N]`` per-node scores (e.g. CRPS) of the same nodes.
        scene_ids: ``[N]`` int, the scene of each node.

    Output:
        ``[lo, hi]``, or ``None`` with fewer than 2 scenes or a zero floor.
    """
    from scipy.stats import bootstrap

    _check_level(level, "level")
    m, f = _as_obs(model_scores, "model_scores"), _as_obs(floor_scores, "floor_scores")
    ids = np.unique(np.asarray(scene_ids).reshape(-1), return_inverse=True)[1]
    if m.size != f.size or ids.size != m.size:
        raise ValueError(
            f"model_scores, floor_scores and scene_ids need one value per node, got "
            f"{m.size}, {f.size} and {ids.size}"
        )
    m_s, f_s = np.bincount(ids, m), np.bincount(ids, f)  # [n_scenes] score sums per scene
    if m_s.size < 2 or f_s.sum() <= 0:
        return None

    def stat(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return a.sum(axis) / np.maximum(b.sum(axis), 1e-300)

    res = bootstrap(
        (m_s, f_s), stat, paired=True, vectorized=True, n_resamples=n_resamples,
        confidence_level=level, method="percentile", rng=np.random.default_rng(seed),
    )  # fmt: skip
    ci = res.confidence_interval
    return [float(ci.low), float(ci.high)]


def floor_vs_model(
    obs: Any,
    model_samples: Any,
    sim_samples: Any,
    kind: Kind = "continuous",
    **grade_kwargs: Any,
) -> dict[str, Any]:
    """Grade the twin and the simulator's own floor on the same observations, side by side.

    The floor is :func:`grade` with ``samples`` from independent simulator runs of the same
    scene and config (common random numbers where paired): no model can beat the simulator's
    own noise, so "CRPS ≤ 1.5 × floor" reads ``ratios["crps_mean"] <= 1.5``.

    Input:
        obs: ``[N]`` float, the reference run.
        model_samples: ``[N, S]`` float, the twin's draws for the same nodes.
        sim_samples: ``[N, S_sim]`` float, ``S_sim >= 2`` other simulator runs of the same nodes
            (for a single other run use :func:`crps_floor_from_pair` for the CRPS floor).
        kind: ``"continuous"`` or ``"event"``, as in :func:`grade`.
        **grade_kwargs: passed to both calls of :func:`grade` (``scene_ids``, ``bins``, …);
            explicit ``bins`` edges are recommended so both histograms share one binning.

    Output:
        dict: ``kind``, ``model`` (grade), ``floor`` (grade), ``ratios`` (model / floor for the
        lower-is-better scores: ``crps_mean``, ``energy_score_mean``, ``brier``,
        ``band_width``, ``jsd``, ``total_variation``, ``nrmse``; ``None`` where undefined) and,
        for continuous KPIs, ``coverage_error`` (``{"model": …, "floor": …}``, coverage minus
        nominal). With ``scene_ids``, ``ratio_ci``: ``{"crps_mean": [lo, hi] or None,
        "level", "n_scenes"}``, the scene-cluster bootstrap interval of the CRPS ratio
        (:func:`ratio_ci`): a held-out set of few scenes gives a wide one.
    """
    y = _as_obs(obs)
    grade_kwargs.setdefault(
        "bins",
        shared_bins(y, np.concatenate([np.ravel(model_samples), np.ravel(sim_samples)]), 100),
    )
    kw = {**_GRADE_DEFAULTS, **grade_kwargs}
    model, model_crps = _grade(y, model_samples, kind, **kw)
    floor, floor_crps = _grade(y, sim_samples, kind, **kw)
    ratios = {
        k.split(".")[-1]: _ratio(_get(model, k), _get(floor, k))
        for k in _RATIO_KEYS
        if _get(model, k) is not None  # e.g. no energy score without scene_ids
    }
    out: dict[str, Any] = {"kind": kind, "model": model, "floor": floor, "ratios": ratios}
    if kind == "continuous":
        out["coverage_error"] = {
            "model": model["coverage"] - model["coverage_nominal"],
            "floor": floor["coverage"] - floor["coverage_nominal"],
        }
    scene_ids = kw["scene_ids"]
    if scene_ids is not None:
        out["ratio_ci"] = {
            "crps_mean": ratio_ci(model_crps, floor_crps, scene_ids),
            "level": RATIO_CI_LEVEL,
            "n_scenes": int(np.unique(np.asarray(scene_ids)).size),
        }
    return out
