"""Outdoor-to-indoor building penetration loss (TR 38.901 §7.4.3.1)."""

from __future__ import annotations

import math

import torch

from ._tensor import as_float, check_min

Tensor = torch.Tensor

__all__ = [
    "O2I_MODELS",
    "material_loss_db",
    "o2i_loss_db",
    "indoor_distance_sample",
]

O2I_MODELS: tuple[str, ...] = ("low", "high")

_SIGMA_P_DB = {"low": 4.4, "high": 6.5}  # TR 38.901 Table 7.4.3-2 σ_P


def material_loss_db(material: str, carrier_ghz: Tensor | float) -> Tensor:
    """Penetration loss of one material, TR 38.901 Table 7.4.3-1 (f in GHz).

    ``"glass"``: 2 + 0.2 f; ``"irr_glass"``: 23 + 0.3 f; ``"concrete"``: 5 + 4 f;
    ``"wood"``: 4.85 + 0.12 f.

    **Input** ``carrier_ghz``: ``[...]`` float. **Output** ``[...]`` float, dB.
    """
    (f,) = as_float(carrier_ghz)
    coeffs = {
        "glass": (2.0, 0.2),  # Table 7.4.3-1, standard multi-pane glass
        "irr_glass": (23.0, 0.3),  # Table 7.4.3-1, IRR glass
        "concrete": (5.0, 4.0),  # Table 7.4.3-1, concrete
        "wood": (4.85, 0.12),  # Table 7.4.3-1, wood
    }
    if material not in coeffs:
        raise ValueError(f"material must be one of {tuple(coeffs)}, got {material!r}")
    a, b = coeffs[material]
    return a + b * f


def o2i_loss_db(
    model: str,
    carrier_ghz: Tensor | float,
    indoor_distance_m: Tensor | float,
    normal_draw: Tensor | float = 0.0,
) -> Tensor:
    """O2I penetration loss PL_tw + PL_in + σ_P · N(0, 1), TR 38.901 §7.4.3.1.

    TR 38.901 Table 7.4.3-2:

    - low loss: PL_tw = 5 − 10 log10(0.3 · 10^(−L_glass/10) + 0.7 · 10^(−L_concrete/10)),
      σ_P = 4.4 dB;
    - high loss: PL_tw = 5 − 10 log10(0.7 · 10^(−L_IRRglass/10) + 0.3 · 10^(−L_concrete/10)),
      σ_P = 6.5 dB;
    - PL_in = 0.5 · d_2D-in (both).

    The caller owns the randomness and passes ``normal_draw`` ~ N(0, 1) (0 gives the mean).

    **Input**

    - ``model``: ``"low"`` or ``"high"``.
    - ``carrier_ghz``: ``[...]`` float > 0.
    - ``indoor_distance_m``: ``[...]`` float >= 0, d_2D-in.
    - ``normal_draw``: ``[...]`` float, standard normal draws.

    **Output**

    - ``loss_db``: ``[broadcast shape]`` float, dB to add to the outdoor path loss.
    """
    if model not in O2I_MODELS:
        raise ValueError(f"model must be one of {O2I_MODELS}, got {model!r}")
    f, d_in, z = as_float(carrier_ghz, indoor_distance_m, normal_draw)
    check_min("carrier_ghz", f, 0.0, strict=True)
    check_min("indoor_distance_m", d_in, 0.0)
    l_concrete = material_loss_db("concrete", f)
    if model == "low":
        # TR 38.901 Table 7.4.3-2, low-loss model
        l_glass = material_loss_db("glass", f)
        pl_tw = 5.0 - 10.0 * torch.log10(
            0.3 * 10.0 ** (-l_glass / 10.0) + 0.7 * 10.0 ** (-l_concrete / 10.0)
        )
    else:
        # TR 38.901 Table 7.4.3-2, high-loss model
        l_irr = material_loss_db("irr_glass", f)
        pl_tw = 5.0 - 10.0 * torch.log10(
            0.7 * 10.0 ** (-l_irr / 10.0) + 0.3 * 10.0 ** (-l_concrete / 10.0)
        )
    pl_in = 0.5 * d_in  # TR 38.901 Table 7.4.3-2, PL_in = 0.5 d_2D-in
    return pl_tw + pl_in + _SIGMA_P_DB[model] * z


def indoor_distance_sample(
    generator: torch.Generator,
    shape: tuple[int, ...] | torch.Size,
    *,
    max_m: float = 25.0,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Draw d_2D-in = min(U(0, max_m), U(0, max_m)) (TR 38.901 §7.4.3.1).

    ``max_m`` is 25 m for UMa / UMi and 10 m for RMa (TR 38.901 Table 7.4.3-2 note).

    **Input**

    - ``generator``: ``torch.Generator`` (the only source of randomness).
    - ``shape``: output shape.

    **Output**

    - ``d_in_m``: ``[*shape]`` float in [0, max_m).
    """
    if not (math.isfinite(max_m) and max_m > 0):
        raise ValueError(f"max_m must be a finite number > 0, got {max_m}")
    dtype = dtype or torch.get_default_dtype()
    u = torch.rand((2, *tuple(shape)), generator=generator, dtype=dtype, device=generator.device)
    return max_m * torch.minimum(u[0], u[1])
