"""Policy evaluation under ensemble uncertainty: distributions of returns and KPIs.

:func:`evaluate` runs ``episodes`` episodes of an env with ``members`` ensemble members
stepped in lockstep under the policy's actions (the policy sees the member-mean
observation), and treats every (episode, member) pair as one sample of the return and of
the episode-mean KPIs. Each metric is summarised by mean, std, p10 / p50 / p90 and CVaR at
10 %: the mean of the worst 10 % of the samples (at least one) — the lowest values for
metrics where higher is better (return, throughput), the highest for costs (energy,
coverage holes, handover rate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .env import RanControlEnv
from .reward import TERMS

__all__ = ["EvalResult", "Summary", "cvar", "evaluate", "summarise"]

#: Metrics where higher is better (their CVaR is over the lowest samples).
HIGHER_IS_BETTER = {"return": True, "mean_ue_throughput_mbps": True, "reward_throughput": True}


@dataclass(frozen=True)
class Summary:
    """Summary statistics of one metric over (episode, member) samples."""

    mean: float
    std: float
    p10: float
    p50: float
    p90: float
    cvar10: float

    def as_dict(self) -> dict[str, float]:
        """Plain dict."""
        return dict(self.__dict__)


def cvar(x: Any, alpha: float = 0.1, higher_is_better: bool = True) -> float:
    """Conditional value at risk: the mean of the worst ``alpha`` fraction of the samples.

    The worst ``k = ceil(alpha · N)`` samples (at least one) are averaged: the lowest if
    ``higher_is_better`` (returns, throughput), the highest otherwise (energy, holes).

    **Input:** ``x`` any shape (flattened), ``alpha`` in (0, 1]. **Output:** ``float``.

    Raises:
        ValueError: ``x`` empty or non-finite, or ``alpha`` outside (0, 1].
    """
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError("x is empty: cvar needs at least one sample")
    if not np.isfinite(a).all():
        raise ValueError(f"x must hold finite values, got {int((~np.isfinite(a)).sum())} NaN/inf")
    if not (0.0 < alpha <= 1.0):
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    k = max(1, math.ceil(alpha * a.size - 1e-9))  # guard 0.1 * 30 = 3.0000000000000004
    s = np.sort(a)
    return float((s[:k] if higher_is_better else s[-k:]).mean())


def summarise(x: np.ndarray, higher_is_better: bool = True) -> Summary:
    """Mean, std, p10/p50/p90 and CVaR 10 % of samples ``x`` (any shape, flattened)."""
    v = np.asarray(x, dtype=np.float64).reshape(-1)
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    return Summary(
        mean=float(v.mean()),
        std=float(v.std()),
        p10=float(p10),
        p50=float(p50),
        p90=float(p90),
        cvar10=cvar(v, 0.1, higher_is_better),
    )


@dataclass(frozen=True)
class EvalResult:
    """Samples and summaries of an evaluation.

    Attributes:
        returns: ``[episodes, members]`` undiscounted returns per member.
        kpis: Metric name → ``[episodes, members]`` episode-mean values.
        summary: Metric name (``"return"`` and every KPI) → :class:`Summary`.
        seeds: The env seed of each episode.
    """

    returns: np.ndarray
    kpis: dict[str, np.ndarray]
    summary: dict[str, Summary] = field(default_factory=dict)
    seeds: tuple[int, ...] = ()


Policy = Callable[[np.ndarray], np.ndarray]
KNOB_ATTRS = ("power_offset_db", "tilt_deg", "cio_db", "sleep")


def _as_policy(policy: Any, env: RanControlEnv) -> Policy:
    """A callable ``obs [n_cells, n_features] -> action [n_cells, n_knobs]``."""
    if isinstance(policy, str):
        if policy == "static":
            default = env.action_map.normalise(
                {k: getattr(env.core.default_config, k) for k in KNOB_ATTRS}
            )
            return lambda obs: default
        if policy == "random":
            space = env.action_space
            return lambda obs: space.sample()
        raise ValueError(f"policy {policy!r}: expected 'static', 'random' or a callable")
    act = getattr(policy, "act", None)
    if callable(act):  # a rantwin.agents Policy (reset per episode by the caller)
        return act
    predict = getattr(policy, "predict", None)
    if predict is not None:  # an SB3 model, trained on the flattened env or not
        shape = env.action_space.shape

        def sb3(obs: np.ndarray) -> np.ndarray:
            space = getattr(policy, "observation_space", None)
            o = obs.reshape(-1) if space is not None and len(space.shape) == 1 else obs
            action, _ = predict(o, deterministic=True)
            return np.asarray(action).reshape(shape)

        return sb3
    if callable(policy):
        return policy
    raise ValueError(
        f"policy must be 'static', 'random', a callable or an SB3 model, got {policy!r}"
    )


def reset_policy(policy: Any) -> None:
    """Call ``policy.reset()`` if it has one (stateful controllers, at an episode start)."""
    reset = getattr(policy, "reset", None)
    if callable(reset) and not isinstance(policy, str):
        reset()


def evaluate(
    policy: Any,
    env_kwargs: Mapping[str, Any] | None = None,
    members: int = 1,
    episodes: int = 1,
    seed: int = 0,
) -> EvalResult:
    """Evaluate a policy: distribution of returns and KPIs over episodes × members.

    Args:
        policy: A callable ``obs -> action``, an object with ``act(obs)`` (and optional
            ``reset()``, called at every episode start: a ``rantwin.agents`` policy), an
            SB3 model (``predict``; flat spaces are handled), ``"static"`` (the scenario's
            default config) or ``"random"``.
        env_kwargs: Keyword arguments of :class:`RanControlEnv` (``members`` excluded).
        members: Ensemble members ``M``.
        episodes: Episodes ``E``.
        seed: Root seed; episode ``e`` resets with ``seed + e``.

    Returns:
        :class:`EvalResult` with ``returns`` ``[E, M]`` and its summaries.
    """
    kwargs = dict(env_kwargs or {})
    if "members" in kwargs:
        raise ValueError("pass members to evaluate(), not in env_kwargs")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    env = RanControlEnv(**kwargs, members=members)
    env.action_space.seed(seed)
    act = _as_policy(policy, env)
    metrics = [f"reward_{t}" for t in TERMS] + ["mean_ue_throughput_mbps", "energy_w"]
    returns = np.zeros((episodes, members))
    kpis = {m: np.zeros((episodes, members)) for m in metrics}
    seeds = []
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + e)
        reset_policy(policy)
        seeds.append(seed + e)
        n, done = 0, False
        while not done:
            obs, _, terminated, truncated, info = env.step(act(obs))
            returns[e] += info["reward_members"]
            kpi = env.last_kpi
            assert kpi is not None
            per_member = _member_kpis(kpi, env)
            for m in metrics:
                kpis[m][e] += per_member[m]
            n += 1
            done = terminated or truncated
        for m in metrics:
            kpis[m][e] /= n
    summary = {"return": summarise(returns, True)}
    for m in metrics:
        summary[m] = summarise(kpis[m], HIGHER_IS_BETTER.get(m, False))
    env.close()
    return EvalResult(returns=returns, kpis=kpis, summary=summary, seeds=tuple(seeds))


def _member_kpis(kpi: Any, env: RanControlEnv) -> dict[str, np.ndarray]:
    """Per-member KPIs ``{name: [M]}`` of batch element 0."""
    from .reward import compute_reward

    _, terms = compute_reward(kpi, env.core.weights)
    out = {f"reward_{t}": terms[t][0].numpy() for t in TERMS}
    active = kpi.ue_active[0].double()  # [M, n_ues]
    thr = (kpi.ue_throughput_mbps[0].double() * active).sum(-1) / active.sum(-1).clamp(min=1)
    out["mean_ue_throughput_mbps"] = thr.numpy()
    out["energy_w"] = kpi.cell_energy_w[0].double().sum(-1).numpy()
    return out
