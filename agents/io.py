"""Trained policies on disk: ``policy.safetensors`` (weights) + ``policy.json`` (how to rebuild).

Nothing is unpickled: SB3's own ``.zip`` format stores parts of a model with cloudpickle,
so a policy file is instead the policy network's ``state_dict`` in safetensors and a JSON
card naming the algorithm, the policy class, its constructor arguments and the knobs and
observation columns it was trained with. :func:`load_policy` rebuilds the network for an
env (a per-cell policy for any number of cells; a flat MLP policy only for the cell count it
was trained on) and wraps it as a :class:`~.policy.Policy`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from safetensors.torch import load_model, save_model
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.sac.policies import SACPolicy

from rantwin.envs import ActionMap, feature_names
from rantwin.envs.parallel import agent_observations, neighbours

from .percell import PerCellPolicy
from .policy import default_action

__all__ = ["POLICY_FORMAT", "TrainedPolicy", "load_policy", "save_policy"]

#: Version of the policy card; bumped when the layout changes.
POLICY_FORMAT = 1
_CLASSES: dict[str, type[BasePolicy]] = {
    "percell": PerCellPolicy,
    "mlp": ActorCriticPolicy,
    "cell-agents": ActorCriticPolicy,
    "sac-mlp": SACPolicy,
}
#: Kinds whose network acts per cell (any number of cells).
_PER_CELL = ("percell", "cell-agents")
_ALGOS = ("ppo", "a2c", "sac")


def _card_kwargs(policy: BasePolicy) -> dict[str, Any]:
    """JSON-safe constructor arguments of an SB3 policy (what rebuilding needs)."""
    out: dict[str, Any] = {}
    if isinstance(policy, PerCellPolicy):
        out.update(
            n_features=policy.n_features,
            n_knobs=policy.n_knobs,
            hidden=policy.hidden,
            action_bias=list(policy.action_bias),
            log_std_init=float(policy.log_std_init),
        )
        return out
    net_arch = getattr(policy, "net_arch", None)
    if net_arch is not None:
        out["net_arch"] = net_arch
    if isinstance(policy, ActorCriticPolicy):
        out["log_std_init"] = float(policy.log_std_init)
    return out


def save_policy(
    policy: BasePolicy,
    out_dir: str | os.PathLike[str],
    *,
    algo: str,
    actions: ActionMap,
    extra: dict[str, Any] | None = None,
    n_neighbours: int | None = None,
) -> Path:
    """Write ``policy.safetensors`` and ``policy.json`` into ``out_dir`` (atomically).

    Args:
        policy: The SB3 policy network (``model.policy``).
        out_dir: Folder (created).
        algo: ``"ppo"``, ``"a2c"`` or ``"sac"``.
        actions: The action map of the env it was trained on (knobs, scenario).
        extra: More JSON-safe facts for the card (training steps, seed, ...).
        n_neighbours: Set for a parameter-shared cell-agent policy (it acts on each cell's
            agent observation with this many neighbours, :class:`~rantwin.envs.
            CellAgentsVecEnv`).

    Returns:
        The card's path.
    """
    if algo not in _ALGOS:
        raise ValueError(f"algo {algo!r}: expected one of {', '.join(_ALGOS)}")
    if isinstance(policy, PerCellPolicy):
        kind = "percell"
    elif isinstance(policy, SACPolicy):
        kind = "sac-mlp"
    elif isinstance(policy, ActorCriticPolicy):
        kind = "mlp" if n_neighbours is None else "cell-agents"
    else:
        raise ValueError(f"cannot save a {type(policy).__name__}; expected an SB3 policy")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    card = {
        "format": POLICY_FORMAT,
        "algo": algo,
        "kind": kind,
        "kwargs": _card_kwargs(policy),
        "scenario": actions.scenario.name,
        "n_cells": actions.scenario.n_cells,
        "knobs": [k.name for k in actions.knobs],
        "features": feature_names(actions),
        **({"n_neighbours": int(n_neighbours)} if n_neighbours is not None else {}),
        **(extra or {}),
    }
    tmp_w, tmp_c = out / "policy.safetensors.tmp", out / "policy.json.tmp"
    save_model(policy, str(tmp_w))  # shared extractors (pi / vf aliases) are stored once
    tmp_c.write_text(json.dumps(card, indent=2) + "\n")
    os.replace(tmp_w, out / "policy.safetensors")
    os.replace(tmp_c, out / "policy.json")
    return out / "policy.json"


def _read_card(path: Path) -> dict[str, Any]:
    card_path = path / "policy.json"
    if not card_path.is_file() or not (path / "policy.safetensors").is_file():
        raise ValueError(
            f"policy {str(path)!r}: expected a folder with policy.json and policy.safetensors "
            "(written by `rantwin train-agent`)"
        )
    try:
        card = json.loads(card_path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"policy card {str(card_path)!r} is not valid JSON: {e}") from e
    for key in ("format", "algo", "kind", "kwargs", "knobs", "features", "n_cells"):
        if key not in card:
            raise ValueError(f"policy card {str(card_path)!r} lacks {key!r}")
    if card["format"] != POLICY_FORMAT:
        raise ValueError(
            f"policy card format {card['format']!r} is not supported (expected {POLICY_FORMAT})"
        )
    if card["kind"] not in _CLASSES:
        raise ValueError(f"policy card kind {card['kind']!r}: expected one of {list(_CLASSES)}")
    return card


@dataclass
class TrainedPolicy:
    """A trained SB3 policy network acting through the :class:`~.policy.Policy` interface.

    Attributes:
        name: Report name (``"ppo"`` unless given).
        network: The SB3 policy module (evaluation mode).
        n_cells: Cells of the env it acts on.
        n_knobs: Knobs per cell.
        card: The JSON card it was loaded from.
    """

    name: str
    network: BasePolicy
    n_cells: int
    n_knobs: int
    card: dict[str, Any]
    neighbour_index: np.ndarray | None = None  # [n_cells, k] for cell-agent policies
    obs_columns: np.ndarray | None = None  # [n_features_policy] env columns it reads
    knob_columns: np.ndarray | None = None  # [n_knobs_policy] env action columns it sets
    base_action: np.ndarray | None = None  # [n_cells, n_knobs_env] the other knobs' values

    def reset(self) -> None:
        """Stateless: nothing to reset."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic action (the Gaussian mean, clipped).

        **Input:** ``obs`` ``[n_cells, n_features]``. **Output:** ``[n_cells, n_knobs]``.
        """
        obs = np.asarray(obs, dtype=np.float32)
        if self.obs_columns is not None:  # the env controls more knobs than the policy
            obs = obs[..., self.obs_columns]
        if self.neighbour_index is not None:  # one agent per cell: [n_cells, 3 · n_features]
            flat = agent_observations(obs, self.neighbour_index)
        else:
            flat = obs.reshape(1, -1)
        with torch.no_grad():
            action, _ = self.network.predict(flat, deterministic=True)
        a = np.clip(np.asarray(action, np.float32).reshape(self.n_cells, self.n_knobs), -1, 1)
        if self.knob_columns is None or self.base_action is None:
            return a
        full = self.base_action.copy()  # [n_cells, n_knobs_env]
        full[:, self.knob_columns] = a
        return full


def load_policy(
    path: str | os.PathLike[str], actions: ActionMap, name: str | None = None
) -> TrainedPolicy:
    """Rebuild a saved policy for an env.

    Args:
        path: Folder with ``policy.json`` and ``policy.safetensors``.
        actions: The target env's action map. It must control (at least) the knobs the
            policy was trained with; knobs the policy does not know are held at the
            scenario's default (and their observation columns are dropped), so a policy
            trained on ``--knobs power_offset_db tilt_deg`` competes with baselines in an
            env with every knob. A flat MLP policy also needs the trained cell count.
        name: Report name (default: the card's ``algo``).

    Returns:
        A :class:`TrainedPolicy`.

    Raises:
        ValueError: Missing files, a bad card, or an env the policy cannot act on.
    """
    p = Path(path)
    card = _read_card(p)
    knobs = [k.name for k in actions.knobs]
    if not set(card["knobs"]) <= set(knobs):
        raise ValueError(
            f"policy {str(p)!r} was trained with knobs {card['knobs']}, the env controls "
            f"{knobs}; build the env with (at least) knobs={card['knobs']}"
        )
    env_features = feature_names(actions)
    if not set(card["features"]) <= set(env_features):
        raise ValueError(f"policy {str(p)!r} was trained on other observation columns")
    obs_columns = knob_columns = base_action = None
    if card["knobs"] != knobs:  # act on its knobs; the env's other knobs stay at default
        obs_columns = np.array([env_features.index(f) for f in card["features"]])
        knob_columns = np.array([knobs.index(k) for k in card["knobs"]])
        base_action = default_action(actions)
    n_cells = actions.shape[0]
    n_knobs = len(card["knobs"])
    n_feat = len(card["features"])
    if card["kind"] not in _PER_CELL and card["n_cells"] != n_cells:
        raise ValueError(
            f"policy {str(p)!r} is a flat {card['kind']} policy for {card['n_cells']} cells; "
            f"the env has {n_cells} (train with --policy percell to transfer across sizes)"
        )
    neighbour_index = None
    if card["kind"] == "cell-agents":
        neighbour_index = neighbours(actions.scenario, int(card.get("n_neighbours", 6)))
        obs_space = spaces.Box(-1.0, 1.0, (3 * n_feat,), np.float32)
        act_space = spaces.Box(-1.0, 1.0, (n_knobs,), np.float32)
    else:
        obs_space = spaces.Box(-1.0, 1.0, (n_cells * n_feat,), np.float32)
        act_space = spaces.Box(-1.0, 1.0, (n_cells * n_knobs,), np.float32)
    cls = _CLASSES[card["kind"]]
    network = cls(obs_space, act_space, lambda _: 0.0, **card["kwargs"])
    try:
        load_model(network, str(p / "policy.safetensors"), strict=True, device="cpu")
    except RuntimeError as e:
        raise ValueError(f"policy {str(p)!r}: weights do not fit the card: {e}") from e
    network.set_training_mode(False)
    return TrainedPolicy(
        name=name or str(card["algo"]),
        network=network,
        n_cells=n_cells,
        n_knobs=n_knobs,
        card=card,
        neighbour_index=neighbour_index,
        obs_columns=obs_columns,
        knob_columns=knob_columns,
        base_action=base_action,
    )
