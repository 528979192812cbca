"""Conditional diffusion head of the twin (issue #7): schedule, denoiser, sampler, training.

Files, one concept each: :mod:`.schedule` (log-SNR cosine noise schedule), :mod:`.conditioning`
(what the denoiser sees of the frozen twin), :mod:`.denoiser` (graph v-prediction network),
:mod:`.sampler` (DDPM / DDIM / DPM-Solver++(2M) with classifier-free guidance), :mod:`.head`
(the head as the twin uses it), :mod:`.checkpoint`, :mod:`.train`, :mod:`.metrics`
(physics admissibility). See ``docs/diffusion.md``.
"""

from .checkpoint import load_diffusion, save_diffusion
from .denoiser import Denoiser, DenoiserConfig
from .head import DiffusionHead
from .sampler import REFERENCE, SamplerConfig, sample
from .schedule import CosineSchedule, alpha_sigma

__all__ = [
    "REFERENCE",
    "CosineSchedule",
    "Denoiser",
    "DenoiserConfig",
    "DiffusionHead",
    "SamplerConfig",
    "alpha_sigma",
    "load_diffusion",
    "sample",
    "save_diffusion",
]
