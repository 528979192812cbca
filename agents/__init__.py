"""rantwin.agents: train RL agents on the twin, compare them with rule baselines, honestly.

- :mod:`.policy`: the :class:`Policy` interface every controller implements.
- :mod:`.baselines`: static, CIO load balancing, sleep and tilt rules.
- :mod:`.percell`: a per-cell shared SB3 policy (any scenario size).
- :mod:`.train`: ``rantwin train-agent`` (PPO / A2C / SAC; parameter-shared cell agents).
- :mod:`.io`: trained policies as safetensors + JSON (no pickle).
- :mod:`.evaluation`: batched evaluation under ensemble uncertainty with paired seeds.
- :mod:`.stats`: paired bootstrap CI, TOST, PIT, sim-to-twin gap.
- :mod:`.compare`: benchmarks of several policies on one or both backends, and reports.
- :mod:`.demo`: ``rantwin demo``.

Imports flow one way: ``agents`` imports ``envs`` (and the scenarios); nothing below the
CLI imports ``agents``.
"""

from __future__ import annotations

from .baselines import BASELINES, make_baseline
from .compare import Benchmark, resolve_policy, run_benchmark, write_report
from .evaluation import METRICS, PolicyEval, evaluate_policy
from .io import TrainedPolicy, load_policy, save_policy
from .percell import PerCellExtractor, PerCellPolicy
from .policy import ObsView, Policy, default_action
from .stats import PairedComparison, paired_comparison, pit, transfer_gap
from .train import TrainConfig, TrainResult, train

__all__ = [
    "BASELINES",
    "METRICS",
    "Benchmark",
    "ObsView",
    "PairedComparison",
    "PerCellExtractor",
    "PerCellPolicy",
    "Policy",
    "PolicyEval",
    "TrainConfig",
    "TrainResult",
    "TrainedPolicy",
    "default_action",
    "evaluate_policy",
    "load_policy",
    "make_baseline",
    "paired_comparison",
    "pit",
    "resolve_policy",
    "run_benchmark",
    "save_policy",
    "train",
    "transfer_gap",
    "write_report",
]
