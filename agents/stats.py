"""Statistics for comparing RL policies evaluated with common random numbers (paired seeds).

Every policy of a benchmark is rolled out on the *same* episode seeds (same scene draw, same
mobility, same fading streams), so the return of policy A and of policy B on seed ``e`` form a
pair, and the comparison is made on the per-episode differences: the seed-to-seed variance
that both policies share cancels, and far fewer episodes resolve a given gain than two
independent samples would need (common random numbers, Law 2015, *Simulation Modeling and
Analysis*, §11.2).

Conventions:

- ``x_a``, ``x_b`` hold one value per episode ``[E]``, or per episode and ensemble member
  ``[E, M]`` (e.g. ``M`` twin rollouts of the same scene). The *episode* is the unit of pairing
  and of resampling: the members of one episode share a scene, so they are not independent,
  and each episode first collapses to its mean over members.
- Every random draw goes through an explicit ``rng: np.random.Generator`` argument; nothing
  here seeds or reads numpy's global state.
- The probability integral transform (:func:`pit`) is the mid-rank version
  ``(#{members < x} + 0.5 #{members == x}) / M``; it needs no random numbers. Its values are
  on the grid ``{0, 1/(2M), 1/M, …, 1}``, so the KS test of :func:`pit_summary` is only
  meaningful for ensembles of some twenty members or more (for a handful of members use the
  rank histogram of :func:`rantwin.surrogate.metrics.pit_intervals`).

Sim-to-twin transfer (:func:`transfer_gap`, :func:`gain_retention`) compares the same metrics
measured on the generative twin (where the agent was trained) and on the simulator (the
reference), episode for episode.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats as sps
from statsmodels.stats.weightstats import ttost_paired

from rantwin.envs.evaluate import cvar  # one CVaR for the project; re-exported here

__all__ = [
    "GapRow",
    "PairedComparison",
    "cvar",
    "gain_retention",
    "paired_comparison",
    "pit",
    "pit_summary",
    "transfer_gap",
]

_BOOT_BATCH_ELEMENTS = 2**23  # bound on n_resamples * E in one scipy.stats.bootstrap batch


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _finite_array(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(a)
    if np.any(bad):
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must hold finite values, got {int(bad.sum())} NaN/inf "
            f"(first at index {first}: {a[first]})"
        )
    return a


def _per_episode(x: np.ndarray, name: str) -> np.ndarray:
    """Collapse ``[E]`` or ``[E, M]`` to the per-episode means ``[E]``."""
    if x.ndim == 1:
        return x
    if x.ndim == 2:
        if x.shape[1] < 1:
            raise ValueError(f"{name} must have at least 1 member per episode, got shape {x.shape}")
        return x.mean(axis=1)
    raise ValueError(f"{name} must be [episodes] or [episodes, members], got shape {x.shape}")


# --------------------------------------------------------------------------------------------
# paired comparison of two policies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedComparison:
    """The paired comparison of policy ``a`` against policy ``b`` (differences are ``a − b``).

    Attributes:
        a: Name of the first policy.
        b: Name of the second policy.
        n: Number of pairs (episodes) the comparison rests on.
        mean_diff: Mean over episodes of the per-episode difference ``a − b``.
        ci_low: Lower end of the bootstrap confidence interval of ``mean_diff``.
        ci_high: Upper end of the bootstrap confidence interval of ``mean_diff``.
        ci_level: Confidence level of ``[ci_low, ci_high]`` (e.g. 0.95).
        p_value: Two-sided paired t-test p-value of ``H0: mean difference = 0``.
        margin: Equivalence margin: ``|mean difference| < margin`` counts as "no practical
            difference".
        tost_p: p-value of the two one-sided tests (TOST) of ``H0: |mean difference| >=
            margin``.
        equivalent: ``tost_p < tost_alpha``: the difference is shown to lie inside
            ``±margin``.
        significant: The confidence interval excludes 0.
        tost_alpha: Level of the TOST (0.05 by default; the TOST at level α matches a
            ``1 − 2α`` confidence interval).
    """

    a: str
    b: str
    n: int
    mean_diff: float
    ci_low: float
    ci_high: float
    ci_level: float
    p_value: float
    margin: float
    tost_p: float
    equivalent: bool
    significant: bool
    tost_alpha: float = 0.05

    def as_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of the fields (JSON-ready: str, int, float, bool)."""
        return asdict(self)

    def describe(self) -> str:
        """One line, e.g. ``"ppo − static: +0.123 [0.050, 0.190] 95 % CI, p=0.003; ..."``."""
        scale = max(abs(self.mean_diff), abs(self.ci_low), abs(self.ci_high), self.margin)
        # three significant digits at the scale of the largest number on the line
        decimals = 3 if scale == 0 else max(0, 2 - math.floor(math.log10(scale)))

        def f(v: float, sign: str = "") -> str:
            return f"{v:{sign}.{decimals}f}"

        verdict = "equivalent" if self.equivalent else "not equivalent"
        return (
            f"{self.a} − {self.b}: {f(self.mean_diff, '+')} [{f(self.ci_low)}, {f(self.ci_high)}]"
            f" {self.ci_level * 100:g} % CI, {_fmt_p(self.p_value)}; "
            f"TOST ±{f(self.margin)}: {_fmt_p(self.tost_p)}, {verdict}"
        )


def _fmt_p(p: float) -> str:
    """``"p=0.041"``, ``"p<0.001"``."""
    if not math.isfinite(p):
        return "p=nan"
    return "p<0.001" if p < 1e-3 else f"p={p:.2g}"


def paired_comparison(
    x_a: Any,
    x_b: Any,
    *,
    names: tuple[str, str] = ("a", "b"),
    margin: float,
    ci_level: float = 0.95,
    n_boot: int = 10_000,
    rng: np.random.Generator,
    method: Literal["BCa", "percentile"] = "BCa",
    tost_alpha: float = 0.05,
) -> PairedComparison:
    """Compare two policies evaluated on the same episode seeds.

    Steps: (1) collapse each episode to its mean over members, (2) form the per-episode
    differences ``d_e = mean(x_a[e]) − mean(x_b[e])``, (3) bootstrap the mean of ``d`` over
    episodes (BCa by default, Efron 1987, JASA 82(397); falls back to the percentile interval
    when BCa is undefined), (4) paired t-test of ``mean(d) = 0``, (5) TOST of ``|mean(d)| >=
    margin`` (Schuirmann 1987, J. Pharmacokinet. Biopharm. 15(6)) via
    :func:`statsmodels.stats.weightstats.ttost_paired`.

    If every ``d_e`` is the same number up to rounding (e.g. identical inputs, or ``x_b + c``)
    the tests are degenerate: the interval is the mean difference, ``p_value`` is 1 if it is
    0 and 0 otherwise, and ``tost_p`` is 0 if it lies strictly inside ``±margin`` and 1
    otherwise.

    **Input:**
        x_a: ``[E]`` or ``[E, M]`` float, policy ``a``'s metric per episode (and member).
        x_b: same shape as ``x_a``, policy ``b`` on the same seeds (pairs share an index).
        names: ``(name_a, name_b)`` for the report.
        margin: equivalence margin, > 0, in the metric's units.
        ci_level: confidence level of the bootstrap interval, in (0, 1).
        n_boot: bootstrap resamples, >= 100.
        rng: the generator every resample draws from.
        method: ``"BCa"`` or ``"percentile"`` bootstrap interval.
        tost_alpha: level of the equivalence test, in (0, 0.5).

    **Output:**
        :class:`PairedComparison` with ``n = E``.

    Raises:
        ValueError: if the shapes differ, fewer than 2 episodes, non-finite values, or an
            argument is out of range (the message names it and its value).
    """
    a = _finite_array(x_a, "x_a")
    b = _finite_array(x_b, "x_b")
    if a.shape != b.shape:
        raise ValueError(
            f"x_a and x_b must have the same shape (pairs share an index), got {a.shape} "
            f"and {b.shape}"
        )
    if a.ndim not in (1, 2):
        raise ValueError(f"x_a must be [episodes] or [episodes, members], got shape {a.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"x_a needs at least 2 episodes (pairs), got shape {a.shape}")
    if not (math.isfinite(float(margin)) and float(margin) > 0):
        raise ValueError(f"margin must be a finite number > 0, got {margin!r}")
    if not (0.0 < ci_level < 1.0):
        raise ValueError(f"ci_level must be in (0, 1), got {ci_level!r}")
    if not (0.0 < tost_alpha < 0.5):
        raise ValueError(f"tost_alpha must be in (0, 0.5), got {tost_alpha!r}")
    if int(n_boot) != n_boot or n_boot < 100:
        raise ValueError(f"n_boot must be an integer >= 100, got {n_boot!r}")
    if method not in ("BCa", "percentile"):
        raise ValueError(f"method must be 'BCa' or 'percentile', got {method!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if len(names) != 2:
        raise ValueError(f"names must be a pair (name_a, name_b), got {names!r}")

    # (1) [E, M] -> [E]; (2) per-episode differences [E]
    ep_a = _per_episode(a, "x_a")
    ep_b = _per_episode(b, "x_b")
    d = ep_a - ep_b
    n = int(d.size)
    mean_diff = float(d.mean())

    # degenerate: every pair differs by the same amount, up to the rounding of the subtraction
    scale = max(float(np.max(np.abs(ep_a))), float(np.max(np.abs(ep_b))))
    if np.ptp(d) <= 16.0 * np.finfo(np.float64).eps * scale:
        ci_low = ci_high = mean_diff
        p_value = 1.0 if mean_diff == 0.0 else 0.0
        tost_p = 0.0 if abs(mean_diff) < margin else 1.0
    else:
        # (3) bootstrap over episodes
        ci_low, ci_high = _bootstrap_mean_ci(d, ci_level, int(n_boot), rng, method)
        # (4) two-sided paired t-test on the per-episode values
        p_value = float(sps.ttest_1samp(d, 0.0).pvalue)
        # (5) TOST on the per-episode values
        tost_p = float(ttost_paired(ep_a, ep_b, -float(margin), float(margin))[0])

    return PairedComparison(
        a=str(names[0]),
        b=str(names[1]),
        n=n,
        mean_diff=mean_diff,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        ci_level=float(ci_level),
        p_value=p_value,
        margin=float(margin),
        tost_p=tost_p,
        equivalent=bool(tost_p < tost_alpha),
        significant=bool(ci_low > 0.0 or ci_high < 0.0),
        tost_alpha=float(tost_alpha),
    )


def _bootstrap_mean_ci(
    d: np.ndarray,
    ci_level: float,
    n_boot: int,
    rng: np.random.Generator,
    method: Literal["BCa", "percentile"],
) -> tuple[float, float]:
    """Bootstrap CI of ``mean(d)``, ``d: [E]``; BCa falls back to percentile when undefined."""
    batch = max(1, _BOOT_BATCH_ELEMENTS // d.size)
    kwargs: dict[str, Any] = dict(
        n_resamples=n_boot,
        batch=batch,
        vectorized=True,
        confidence_level=ci_level,
        rng=rng,
    )
    if method == "BCa":
        with warnings.catch_warnings():
            # BCa is undefined for some tiny or lopsided samples: scipy warns and returns NaN
            warnings.simplefilter("ignore")
            res = sps.bootstrap((d,), np.mean, method="BCa", **kwargs)
        lo, hi = res.confidence_interval
        if math.isfinite(lo) and math.isfinite(hi):
            return float(lo), float(hi)
        # the BCa attempt consumed random numbers; the fallback goes on from where it stopped
    res = sps.bootstrap((d,), np.mean, method="percentile", **kwargs)
    lo, hi = res.confidence_interval
    return float(lo), float(hi)


# --------------------------------------------------------------------------------------------
# probability integral transform
# --------------------------------------------------------------------------------------------


def pit(realised: Any, predicted: Any) -> np.ndarray:
    """Mid-rank probability integral transform of realised values under predicted ensembles.

    ``pit_e = (#{m: predicted[e, m] < realised[e]} + 0.5 #{m: predicted[e, m] ==
    realised[e]}) / M``: 0 below every member, 1 above every member, ties split half-half (no
    random numbers). A calibrated ensemble gives PIT values spread evenly over [0, 1].

    **Input:**
        realised: ``[E]`` float, one realised value per episode.
        predicted: ``[E, M]`` float, the ensemble predicted for each episode, ``M >= 1``.

    **Output:**
        ``[E]`` float64 in [0, 1].

    Raises:
        ValueError: on shape mismatch or non-finite values.
    """
    x = _finite_array(realised, "realised")
    s = _finite_array(predicted, "predicted")
    if x.ndim != 1:
        raise ValueError(f"realised must be a 1-D array [E], got shape {x.shape}")
    if s.ndim != 2 or s.shape[0] != x.shape[0] or s.shape[1] < 1:
        raise ValueError(
            f"predicted must be a 2-D array [E={x.shape[0]}, M>=1], got shape {s.shape}"
        )
    # [E, M] against [E, 1] -> [E]
    below = np.sum(s < x[:, None], axis=1)
    ties = np.sum(s == x[:, None], axis=1)
    return (below + 0.5 * ties) / s.shape[1]


def pit_summary(pits: Any) -> dict[str, float]:
    """Summary of PIT values: their mean, central-80 % fraction, and a KS test for uniformity.

    Under calibration the mean is 0.5 and the fraction inside [0.1, 0.9] is 0.8 (a fraction
    above 0.8 means the ensemble is too wide, below 0.8 too narrow or biased). ``ks_p`` is the
    p-value of :func:`scipy.stats.kstest` against Uniform(0, 1); mid-rank PITs of an
    ``M``-member ensemble sit on a grid of step ``1/(2M)``, so with few members and many
    episodes the KS test rejects even a calibrated ensemble (see the module docstring).

    **Input:**
        pits: ``[N]`` float in [0, 1] (e.g. from :func:`pit`).

    **Output:**
        ``{"n": N, "mean": float, "frac_central_80": float, "ks_p": float}``.

    Raises:
        ValueError: if ``pits`` is empty, not 1-D, non-finite or outside [0, 1].
    """
    p = _finite_array(pits, "pits")
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"pits must be a non-empty 1-D array [N], got shape {p.shape}")
    if np.any((p < 0.0) | (p > 1.0)):
        raise ValueError(
            f"pits must lie in [0, 1], got values in [{float(p.min())}, {float(p.max())}]"
        )
    return {
        "n": int(p.size),
        "mean": float(p.mean()),
        "frac_central_80": float(np.mean((p >= 0.1) & (p <= 0.9))),
        "ks_p": float(sps.kstest(p, "uniform").pvalue),
    }


# --------------------------------------------------------------------------------------------
# sim-to-twin transfer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GapRow:
    """One metric measured on the twin and on the simulator over the same episodes.

    Attributes:
        metric: Metric name (a key of both input dicts).
        n_episodes: Number of episodes ``E``.
        twin_mean: Mean over episodes and twin members.
        sim_mean: Mean over episodes and simulator members.
        gap: ``twin_mean − sim_mean``.
        rel_gap: ``gap / |sim_mean|`` (NaN when ``sim_mean == 0``).
        pit_n: Number of PIT values (``E`` × simulator members per episode).
        pit_mean: Mean PIT of the simulator values under the twin ensembles (0.5 if the twin
            is unbiased).
        pit_frac_central_80: Fraction of PITs in [0.1, 0.9] (0.8 if the twin is calibrated).
        pit_ks_p: KS p-value of the PITs against Uniform(0, 1).
    """

    metric: str
    n_episodes: int
    twin_mean: float
    sim_mean: float
    gap: float
    rel_gap: float
    pit_n: int
    pit_mean: float
    pit_frac_central_80: float
    pit_ks_p: float

    def as_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of the fields (JSON-ready apart from NaN)."""
        return asdict(self)


def transfer_gap(twin: dict[str, np.ndarray], sim: dict[str, np.ndarray]) -> list[GapRow]:
    """Twin-vs-simulator gap of every metric present in both, with the twin's calibration.

    For each metric (in ``twin``'s key order) the twin and simulator means and their gap,
    and the PIT (:func:`pit`) of the simulator's values under the twin's per-episode member
    distribution. With one simulator run per episode (``M_sim = 1``) this is the PIT of the
    simulator's episode value; with several, every simulator member of an episode is a PIT
    value of its own (each is one draw of what the twin should reproduce, whereas their mean
    would be narrower than a single twin draw and read as an over-dispersed twin).

    **Input:**
        twin: metric → ``[E, M_twin]`` float, twin rollouts of each episode seed.
        sim: metric → ``[E, M_sim]`` float, simulator rollouts of the same seeds (``[E]`` is
            read as ``M_sim = 1``).

    **Output:**
        ``list[GapRow]``, one row per shared metric.

    Raises:
        ValueError: if no metric is shared, or a metric's shapes disagree on ``E``, or values
            are non-finite.
    """
    shared = [k for k in twin if k in sim]
    if not shared:
        raise ValueError(
            f"twin and sim share no metric: twin has {sorted(twin)}, sim has {sorted(sim)}"
        )
    rows = []
    for key in shared:
        t = _finite_array(twin[key], f"twin[{key!r}]")
        s = _finite_array(sim[key], f"sim[{key!r}]")
        if t.ndim != 2 or t.shape[0] < 1 or t.shape[1] < 1:
            raise ValueError(f"twin[{key!r}] must be [episodes, members], got shape {t.shape}")
        if s.ndim == 1:
            s = s[:, None]  # [E] -> [E, 1]
        if s.ndim != 2 or s.shape[0] != t.shape[0] or s.shape[1] < 1:
            raise ValueError(
                f"sim[{key!r}] must be [episodes={t.shape[0]}, members] like twin[{key!r}] "
                f"{t.shape}, got shape {s.shape}"
            )
        twin_mean = float(t.mean())
        sim_mean = float(s.mean())
        gap = twin_mean - sim_mean
        # every simulator member against its episode's twin ensemble: [E, M_sim] -> [E * M_sim]
        pits = np.concatenate([pit(s[:, j], t) for j in range(s.shape[1])])
        summary = pit_summary(pits)
        rows.append(
            GapRow(
                metric=str(key),
                n_episodes=int(t.shape[0]),
                twin_mean=twin_mean,
                sim_mean=sim_mean,
                gap=gap,
                rel_gap=gap / abs(sim_mean) if sim_mean != 0.0 else math.nan,
                pit_n=int(summary["n"]),
                pit_mean=summary["mean"],
                pit_frac_central_80=summary["frac_central_80"],
                pit_ks_p=summary["ks_p"],
            )
        )
    return rows


def gain_retention(twin_gain: float, sim_gain: float) -> float:
    """Fraction of the gain measured on the twin that survives on the simulator.

    ``sim_gain / twin_gain``: 1 means the twin's gain transfers fully, above 1 the simulator
    shows more, below 0 the policy is worse than its baseline on the simulator.

    **Input:** ``twin_gain`` > 0, ``sim_gain`` finite (same units, e.g. mean paired
    difference of returns against the same baseline).

    **Output:** ``float``.

    Raises:
        ValueError: if ``twin_gain`` is not a finite number > 0 (a retention of no gain is
            undefined), or ``sim_gain`` is not finite.
    """
    tg = float(twin_gain)
    sg = float(sim_gain)
    if not (math.isfinite(tg) and tg > 0.0):
        raise ValueError(
            f"twin_gain must be a finite number > 0 (retention of no gain is undefined), "
            f"got {twin_gain!r}"
        )
    if not math.isfinite(sg):
        raise ValueError(f"sim_gain must be finite, got {sim_gain!r}")
    return sg / tg


# --------------------------------------------------------------------------------------------
# tail risk
# --------------------------------------------------------------------------------------------
