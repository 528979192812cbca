"""Policy evaluation under ensemble uncertainty, with common random numbers across policies.

:func:`evaluate_policy` runs ``E`` episodes as one batched
:class:`~rantwin.envs.RanControlVectorEnv` of ``E`` envs with ``M`` ensemble members each
(one backend call per super-step for all ``E × M`` rollouts). Episode ``e`` resets with
seed ``seed + e``, so two policies evaluated with the same ``seed`` see the same scenes and
the same random streams: their per-episode differences are paired (common random numbers).
The policy sees the member-mean observation of its episode (as in the env), and each
member's reward and KPIs are recorded per super-step: the spread over members is the
backend's uncertainty about the outcome of that action sequence (the twin's ensemble, or
independent simulator runs).

Metrics (:data:`METRICS`), per episode, member and super-step:

- ``return``: the reward (summed over the episode for the return);
- ``throughput`` … ``handover_rate``: the unweighted reward terms (:mod:`rantwin.envs.reward`);
- ``mean_ue_throughput_mbps``: mean throughput of the active UEs;
- ``edge_ue_throughput_mbps``: 10th percentile throughput of the active UEs (cell edge);
- ``energy_kw``: total base-station input power of the network;
- ``n_sleeping``: cells asleep.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from rantwin.envs import TERMS, KpiSample, RanControlVectorEnv, compute_reward
from rantwin.envs.evaluate import Summary, summarise

from .policy import Policy, check_counts

__all__ = ["HIGHER_IS_BETTER", "METRICS", "PolicyEval", "Summary", "evaluate_policy", "summarise"]

#: Metrics recorded per super-step (see the module docstring).
METRICS: tuple[str, ...] = (
    "reward",
    *TERMS,
    "mean_ue_throughput_mbps",
    "edge_ue_throughput_mbps",
    "energy_kw",
    "n_sleeping",
)
#: Whether more is better, per metric (sets the side of the CVaR tail).
HIGHER_IS_BETTER: dict[str, bool] = {
    "return": True,
    "reward": True,
    "throughput": True,
    "energy": False,
    "coverage_holes": False,
    "handover_rate": False,
    "mean_ue_throughput_mbps": True,
    "edge_ue_throughput_mbps": True,
    "energy_kw": False,
    "n_sleeping": False,
}


@dataclass(frozen=True)
class PolicyEval:
    """What one policy did over ``E`` episodes × ``M`` members × ``T`` super-steps.

    Attributes:
        policy: The policy's name.
        backend: ``"surrogate"`` or ``"simulator"``.
        scenario: Scenario name.
        seeds: Env seed of each episode ``[E]``.
        series: Metric → ``[E, M, T]`` float64 per super-step values.
        configs: Knob name → ``[E, T, n_cells]`` values in force at each super-step.
        final_kpi: The last super-step's :class:`KpiSample` (batch = episodes), for maps.
        first_kpi: The super-step after reset (default config), for "before" maps.
    """

    policy: str
    backend: str
    scenario: str
    seeds: tuple[int, ...]
    series: dict[str, np.ndarray]
    configs: dict[str, np.ndarray] = field(default_factory=dict)
    final_kpi: KpiSample | None = None
    first_kpi: KpiSample | None = None

    @property
    def returns(self) -> np.ndarray:
        """Undiscounted episode returns ``[E, M]``."""
        return self.series["reward"].sum(-1)

    def episode_means(self, metric: str) -> np.ndarray:
        """Episode-mean of a metric ``[E, M]`` (``"return"`` gives the return)."""
        if metric == "return":
            return self.returns
        if metric not in self.series:
            raise ValueError(f"unknown metric {metric!r}; metrics: return, {', '.join(METRICS)}")
        return self.series[metric].mean(-1)

    def summary(self) -> dict[str, Summary]:
        """:class:`Summary` of the return and of every metric's episode means over E × M."""
        out = {"return": summarise(self.returns, True)}
        for m in METRICS:
            out[m] = summarise(self.episode_means(m), HIGHER_IS_BETTER[m])
        return out

    def as_json(self) -> dict[str, Any]:
        """JSON-safe summary (no per-step arrays)."""
        return {
            "policy": self.policy,
            "backend": self.backend,
            "scenario": self.scenario,
            "seeds": list(self.seeds),
            "episodes": int(self.returns.shape[0]),
            "members": int(self.returns.shape[1]),
            "steps": int(self.series["reward"].shape[-1]),
            "summary": {k: v.as_dict() for k, v in self.summary().items()},
            "returns": self.returns.tolist(),
        }


def _step_metrics(kpi: KpiSample, venv: RanControlVectorEnv) -> dict[str, np.ndarray]:
    """Per-member metrics of one super-step: name → ``[E, M]``."""
    reward, terms = compute_reward(kpi, venv.core.weights)  # [E, M], {name: [E, M]}
    out = {"reward": reward.numpy()}
    for t in TERMS:
        out[t] = terms[t].numpy()
    active = kpi.ue_active  # [E, M, n_ues]
    thr = kpi.ue_throughput_mbps.double()
    n = active.sum(-1).double().clamp(min=1.0)
    out["mean_ue_throughput_mbps"] = ((thr * active).sum(-1) / n).numpy()
    masked = torch.where(active, thr, torch.full_like(thr, float("nan")))
    edge = torch.nanquantile(masked, 0.1, dim=-1)  # [E, M]
    out["edge_ue_throughput_mbps"] = torch.nan_to_num(edge, nan=0.0).numpy()
    out["energy_kw"] = (kpi.cell_energy_w.double().sum(-1) / 1000.0).numpy()
    sleeping = kpi.cfg_sleep.double().sum(-1)  # [E]
    out["n_sleeping"] = sleeping[:, None].expand(kpi.batch, kpi.members).numpy()
    return out


def evaluate_policy(
    policy: Policy,
    env_kwargs: Mapping[str, Any],
    *,
    members: int = 1,
    episodes: int = 8,
    seed: int = 0,
    progress: bool = False,
) -> PolicyEval:
    """Run ``episodes × members`` rollouts of a policy in one batched env.

    Args:
        policy: Any :class:`~.policy.Policy` (a fresh copy is reset for every episode).
        env_kwargs: :class:`~rantwin.envs.RanControlVectorEnv` arguments (``scenario``,
            ``backend``, ``knobs``, ``episode_steps``, ``backend_kwargs``, ...), without
            ``num_envs`` / ``members``.
        members: Ensemble members ``M`` per episode.
        episodes: Episodes ``E`` (seeds ``seed … seed + E − 1``).
        seed: First episode seed; the same seed pairs the episodes of two policies.
        progress: Show a progress bar over super-steps.

    Returns:
        :class:`PolicyEval` with ``[E, M, T]`` series.
    """
    for key in ("num_envs", "members", "autoreset_mode"):
        if key in env_kwargs:
            raise ValueError(f"env_kwargs must not set {key!r}: evaluate_policy sets it")
    check_counts(members=members, episodes=episodes)
    if not isinstance(policy, Policy):
        raise ValueError(f"policy must implement rantwin.agents.Policy, got {type(policy)}")
    venv = RanControlVectorEnv(num_envs=episodes, members=members, **dict(env_kwargs))
    try:
        obs, _ = venv.reset(seed=seed)
        first_kpi = venv.last_kpi
        policies = [copy.deepcopy(policy) for _ in range(episodes)]
        for p in policies:
            p.reset()
        steps = venv.episode_steps
        series = {m: np.zeros((episodes, members, steps)) for m in METRICS}
        configs: dict[str, np.ndarray] = {}
        kpi: KpiSample | None = None
        bar = tqdm(
            range(steps),
            desc=f"eval {policy.name} [{venv.core.backend.__class__.__name__}]",
            disable=not progress,
            leave=False,
        )
        for t in bar:
            action = np.stack([p.act(obs[e]) for e, p in enumerate(policies)])
            obs, _, _, _, _ = venv.step(action)
            kpi = venv.last_kpi
            assert kpi is not None, "no env may autoreset within episode_steps"
            for m, v in _step_metrics(kpi, venv).items():
                series[m][:, :, t] = v
            for k in venv.core.actions.knobs:
                cfg = getattr(kpi, f"cfg_{k.name}").double().numpy()  # [E, n_cells]
                configs.setdefault(k.name, np.zeros((episodes, steps, cfg.shape[-1])))
                configs[k.name][:, t] = cfg
        backend_name = env_kwargs.get("backend", "surrogate")
        return PolicyEval(
            policy=policy.name,
            backend=backend_name if isinstance(backend_name, str) else type(backend_name).__name__,
            scenario=venv.core.scenario.name,
            seeds=tuple(range(seed, seed + episodes)),
            series=series,
            configs=configs,
            final_kpi=kpi,
            first_kpi=first_kpi,
        )
    finally:
        venv.close()
