"""Noise schedule of the diffusion head, parameterised by the log signal-to-noise ratio.

A variance-preserving diffusion (Kingma, Salimans, Poole & Ho 2021, "Variational diffusion
models", VDM, §2) corrupts a clean vector ``x_0`` into

``x_t = α_t x_0 + σ_t ε``,  ``ε ~ N(0, I)``,  ``α_t² + σ_t² = 1``          (VDM eq. 1)

for a time ``t ∈ [0, 1]``. Everything is written in terms of the log-SNR
``λ_t = log(α_t² / σ_t²)`` (VDM eq. 3), which is monotonically decreasing in ``t``; then

``α_t² = sigmoid(λ_t)``,  ``σ_t² = sigmoid(−λ_t)``                          (VDM eq. 4)

The cosine schedule of Nichol & Dhariwal 2021 ("Improved DDPM", eq. 17, ``ᾱ_t = cos²(π t / 2)``
without their offset) is, in log-SNR form, ``λ(t) = −2 log tan(π t / 2)``. It is truncated to
``[logsnr_min, logsnr_max]`` by an affine change of the angle (Hoogeboom, Heek & Salimans 2023,
"simple diffusion", §3.1 and their Algorithm 1):

``λ(t) = −2 log tan(a t + b)``,  ``b = atan(exp(−λ_max / 2))``,
``a = atan(exp(−λ_min / 2)) − b``,

so ``λ(0) = λ_max`` (almost clean) and ``λ(1) = λ_min`` (almost pure noise). A ``shift``
moves the whole curve, ``λ(t) + 2 log shift`` (simple diffusion eq. 5, "shifted cosine").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch


@dataclass(frozen=True)
class CosineSchedule:
    """Truncated (and optionally shifted) cosine schedule in log-SNR form.

    Attributes:
        logsnr_min: ``λ(1)``, the log-SNR of the noisiest step (``α_1 ≈ exp(λ_min / 2)``).
        logsnr_max: ``λ(0)``, the log-SNR of the cleanest step.
        shift: Multiplies the SNR everywhere (``λ + 2 log shift``); 1 is the plain cosine.
    """

    logsnr_min: float = -15.0
    logsnr_max: float = 15.0
    shift: float = 1.0

    def __post_init__(self) -> None:
        if not self.logsnr_min < self.logsnr_max:
            raise ValueError(
                f"logsnr_min ({self.logsnr_min}) must be < logsnr_max ({self.logsnr_max})"
            )
        if not self.shift > 0:
            raise ValueError(f"shift must be > 0, got {self.shift}")

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return asdict(self)

    @property
    def _angles(self) -> tuple[float, float]:
        b = math.atan(math.exp(-0.5 * self.logsnr_max))
        a = math.atan(math.exp(-0.5 * self.logsnr_min)) - b
        return a, b

    def logsnr(self, t: torch.Tensor) -> torch.Tensor:
        """``λ(t) = −2 log tan(a t + b) + 2 log shift`` (module docstring).

        **Input:** ``t: [...]`` in [0, 1]. **Output:** ``λ: [...]``, decreasing in ``t``.
        """
        a, b = self._angles
        return -2.0 * torch.log(torch.tan(a * t + b)) + 2.0 * math.log(self.shift)

    def t_of_logsnr(self, logsnr: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`logsnr`: ``t = (atan(exp(−(λ − 2 log shift) / 2)) − b) / a``.

        **Input:** ``logsnr: [...]``. **Output:** ``t: [...]``.
        """
        a, b = self._angles
        lam = logsnr - 2.0 * math.log(self.shift)
        return (torch.atan(torch.exp(-0.5 * lam)) - b) / a


#: The default schedule (λ in [−15, 15], no shift).
DEFAULT_SCHEDULE = CosineSchedule()


def alpha_sigma(logsnr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Signal and noise scales from the log-SNR (VDM eq. 4).

    ``α = sqrt(sigmoid(λ))``, ``σ = sqrt(sigmoid(−λ))``, so ``α² + σ² = 1`` and
    ``log(α² / σ²) = λ``.

    **Input:** ``logsnr: [...]``. **Output:** ``(alpha [...], sigma [...])``.
    """
    return torch.sigmoid(logsnr).sqrt(), torch.sigmoid(-logsnr).sqrt()


def v_target(
    x0: torch.Tensor,
    eps: torch.Tensor,
    alpha: torch.Tensor | float,
    sigma: torch.Tensor | float,
) -> torch.Tensor:
    """The v-prediction target ``v = α ε − σ x_0`` (Salimans & Ho 2022, §4, "v-parameterisation").

    **Input:** ``x0, eps: [n, d]``; ``alpha, sigma: [n, 1]``. **Output:** ``v: [n, d]``.
    """
    return alpha * eps - sigma * x0


def x0_eps_from_v(
    x_t: torch.Tensor, v: torch.Tensor, alpha: torch.Tensor | float, sigma: torch.Tensor | float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Recover ``(x̂_0, ε̂)`` from a v-prediction: ``x̂_0 = α x_t − σ v``, ``ε̂ = σ x_t + α v``.

    (Salimans & Ho 2022, Appendix D; exact because ``α² + σ² = 1``.)

    **Input:** ``x_t, v: [n, d]``; ``alpha, sigma: [n, 1]`` (broadcastable).
    **Output:** ``(x0_hat [n, d], eps_hat [n, d])``.
    """
    return alpha * x_t - sigma * v, sigma * x_t + alpha * v
