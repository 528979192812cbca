"""A per-cell shared policy for SB3: one set of weights acts for every cell, any scenario size.

The flat observation ``[n_cells · n_features]`` of :class:`~rantwin.envs.SB3VecEnv` is read
as ``n_cells`` rows. :class:`PerCellExtractor` (an SB3 ``BaseFeaturesExtractor``) embeds
every row with the same MLP and mixes in a mean-pooled context of all cells (one round of
DeepSets / fully connected message passing, Zaheer et al., "Deep Sets", NeurIPS 2017)::

    h_c   = MLP_1(o_c)                              # [B, C, H]
    g     = mean_c h_c                              # [B, H]
    z_c   = MLP_2([h_c, g]) + h_c                   # [B, C, H]

:class:`PerCellPolicy` (an SB3 ``ActorCriticPolicy``, so PPO / A2C train it unchanged)
puts a per-cell head on ``z_c``: the mean action of cell ``c`` is ``W z_c + b`` (``[K]``
knobs), the value is the mean over cells of ``v · z_c``, and the Gaussian log-std is one
parameter per knob shared by all cells. No parameter depends on ``n_cells``, so a policy
trained on ``hex7-uma`` (21 cells) loads and runs on ``hex19-uma`` (57 cells).

The action head's bias starts at the scenario's default config (``action_bias``): the
untrained policy acts like the static baseline plus exploration noise, instead of at the
centre of every knob range (which would put half of the cells to sleep).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.common.distributions import DiagGaussianDistribution, Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.type_aliases import Schedule
from torch import nn

__all__ = ["PerCellExtractor", "PerCellPolicy"]


def _rows(n_flat: int, n_features: int, what: str) -> int:
    if n_features < 1 or n_flat % n_features:
        raise ValueError(
            f"{what} has {n_flat} entries, not a multiple of n_features={n_features}: the "
            "per-cell policy needs a flat [n_cells * n_features] observation"
        )
    return n_flat // n_features


class PerCellExtractor(BaseFeaturesExtractor):
    """Shared per-cell MLP with a mean-pooled context (see the module docstring).

    Args:
        observation_space: Flat ``Box`` of ``n_cells · n_features`` entries.
        n_features: Observation columns per cell.
        hidden: Width ``H`` of the per-cell embedding.

    **Input:** ``obs`` ``[B, n_cells · n_features]``.

    **Output:** ``[B, n_cells · H]`` (cell-major).
    """

    def __init__(self, observation_space: spaces.Box, n_features: int, hidden: int = 64):
        n_cells = _rows(int(observation_space.shape[0]), n_features, "observation_space")
        super().__init__(observation_space, features_dim=n_cells * hidden)
        self.n_features = int(n_features)
        self.hidden = int(hidden)
        self.embed = nn.Sequential(
            nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
        )
        self.mix = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.Tanh())

    def reset_parameters(self) -> None:
        """Re-initialise every linear layer (PyTorch defaults)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Embed every cell row; see the class docstring for shapes."""
        b = obs.shape[0]
        rows = obs.reshape(b, -1, self.n_features)  # [B, C, F]
        h = self.embed(rows)  # [B, C, H]
        g = h.mean(1, keepdim=True).expand_as(h)  # [B, C, H]
        z = self.mix(torch.cat([h, g], -1)) + h  # [B, C, H]
        return z.reshape(b, -1)  # [B, C·H]


class _CellHead(nn.Module):
    """``[B, C·H] -> [B, C·K]``: the same linear map on every cell's latent."""

    def __init__(self, hidden: int, out: int):
        super().__init__()
        self.hidden = hidden
        self.linear = nn.Linear(hidden, out)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        b = latent.shape[0]
        y = self.linear(latent.reshape(b, -1, self.hidden))  # [B, C, K]
        return y.reshape(b, -1)


class _PooledValue(nn.Module):
    """``[B, C·H] -> [B, 1]``: per-cell value, averaged over cells."""

    def __init__(self, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.linear = nn.Linear(hidden, 1)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        b = latent.shape[0]
        return self.linear(latent.reshape(b, -1, self.hidden)).mean(1)  # [B, 1]


class PerCellPolicy(ActorCriticPolicy):
    """Actor-critic with per-cell shared heads (see the module docstring).

    Args:
        observation_space: Flat ``Box`` ``[n_cells · n_features]``.
        action_space: Flat ``Box`` ``[n_cells · n_knobs]`` in ``[-1, 1]``.
        lr_schedule: SB3 learning-rate schedule.
        n_features: Observation columns per cell.
        n_knobs: Action columns per cell.
        hidden: Width of the per-cell embedding.
        action_bias: Initial mean action per knob (``[n_knobs]``), e.g. the default
            config's normalised values; zeros if ``None``.
        log_std_init: Initial log standard deviation of every knob.
        **kwargs: Other ``ActorCriticPolicy`` arguments (``net_arch`` is fixed to ``[]``:
            the heads sit directly on the per-cell embedding).
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        n_features: int,
        n_knobs: int,
        hidden: int = 64,
        action_bias: Sequence[float] | None = None,
        log_std_init: float = -0.5,
        **kwargs: Any,
    ):
        if not isinstance(action_space, spaces.Box):
            raise ValueError(f"PerCellPolicy needs a Box action space, got {action_space}")
        if not isinstance(observation_space, spaces.Box):
            raise ValueError(
                f"PerCellPolicy needs a Box observation space, got {observation_space}"
            )
        n_cells = _rows(int(observation_space.shape[0]), n_features, "observation_space")
        if int(action_space.shape[0]) != n_cells * n_knobs:
            raise ValueError(
                f"action_space has {action_space.shape[0]} entries, expected n_cells * n_knobs "
                f"= {n_cells} * {n_knobs}"
            )
        bias = [0.0] * n_knobs if action_bias is None else [float(v) for v in action_bias]
        if len(bias) != n_knobs:
            raise ValueError(f"action_bias has {len(bias)} values, expected n_knobs={n_knobs}")
        for key in ("net_arch", "features_extractor_class", "features_extractor_kwargs"):
            if key in kwargs:
                raise ValueError(f"PerCellPolicy fixes {key}; do not pass it")
        self.n_features = int(n_features)
        self.n_knobs = int(n_knobs)
        self.hidden = int(hidden)
        self.action_bias = bias
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch=[],
            features_extractor_class=PerCellExtractor,
            features_extractor_kwargs={"n_features": n_features, "hidden": hidden},
            log_std_init=log_std_init,
            **kwargs,
        )

    def _build(self, lr_schedule: Schedule) -> None:
        """SB3's build, then per-cell heads and one log-std per knob (and a new optimizer)."""
        super()._build(lr_schedule)
        if not isinstance(self.action_dist, DiagGaussianDistribution):
            raise ValueError("PerCellPolicy supports Gaussian actions only (use_sde=False)")
        self.action_net = _CellHead(self.hidden, self.n_knobs)
        self.value_net = _PooledValue(self.hidden)  # type: ignore[assignment]
        if self.ortho_init:
            self.action_net.apply(lambda m: self.init_weights(m, gain=0.01))
            self.value_net.apply(lambda m: self.init_weights(m, gain=1.0))
        with torch.no_grad():
            self.action_net.linear.bias.copy_(torch.tensor(self.action_bias))
        self.log_std = nn.Parameter(torch.full((self.n_knobs,), float(self.log_std_init)))
        self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
            self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )

    def _get_action_dist_from_latent(self, latent_pi: torch.Tensor) -> Distribution:
        mean = self.action_net(latent_pi)  # [B, C·K]
        n_cells = mean.shape[-1] // self.n_knobs
        log_std = self.log_std.repeat(n_cells)  # [C·K], cell-major like the mean
        assert isinstance(self.action_dist, DiagGaussianDistribution)
        return self.action_dist.proba_distribution(mean, log_std)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        for key in ("net_arch", "features_extractor_class", "features_extractor_kwargs"):
            data.pop(key, None)
        data.update(
            n_features=self.n_features,
            n_knobs=self.n_knobs,
            hidden=self.hidden,
            action_bias=self.action_bias,
        )
        return data
