"""Internal helpers shared by the ``radio`` modules (tensor coercion and input checks).

Not part of the public API: the functions here convert Python scalars / numpy arrays into
tensors whose floating dtype follows the tensor inputs (float32 or float64), and raise the
``ValueError`` messages the package promises (argument, value, rule).
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def result_float_dtype(*xs: object) -> torch.dtype:
    """Floating dtype the outputs should have: the widest float dtype among tensor inputs.

    Args:
        *xs: Any mix of tensors, Python numbers, numpy arrays and ``None``.

    Returns:
        ``torch.float64`` if any tensor input is float64, else ``torch.float32`` if any
        tensor input is floating, else ``torch.get_default_dtype()``.
    """
    dtypes = [x.dtype for x in xs if isinstance(x, torch.Tensor) and x.is_floating_point()]
    if not dtypes:
        return torch.get_default_dtype()
    out = dtypes[0]
    for d in dtypes[1:]:
        out = torch.promote_types(out, d)
    return out


def result_device(*xs: object) -> torch.device:
    """Device of the first tensor input (CPU if there is none)."""
    for x in xs:
        if isinstance(x, torch.Tensor):
            return x.device
    return torch.device("cpu")


def as_float(*xs: object) -> tuple[Tensor, ...]:
    """Convert every argument into a floating tensor of the common dtype and device.

    Tensors keep their autograd history (``Tensor.to`` is differentiable).

    Args:
        *xs: Tensors, Python numbers or numpy arrays (not ``None``).

    Returns:
        A tuple of tensors, one per argument, all of the same floating dtype and device.
    """
    dtype = result_float_dtype(*xs)
    device = result_device(*xs)
    out = []
    for x in xs:
        if isinstance(x, torch.Tensor):
            out.append(x.to(dtype=dtype, device=device))
        else:
            out.append(torch.as_tensor(x, dtype=dtype, device=device))
    return tuple(out)


def as_bool(name: str, x: object, device: torch.device) -> Tensor:
    """Convert ``x`` (bool / int tensor, Python bool, numpy array) into a bool tensor.

    Raises:
        ValueError: if ``x`` is a floating tensor (a probability is not a LOS state).
    """
    t = torch.as_tensor(x, device=device)
    if t.is_floating_point() or t.is_complex():
        raise ValueError(
            f"{name} must be a bool tensor (True = LOS), got dtype {t.dtype}; "
            "draw the LOS state from los_probability(...) first"
        )
    return t.to(torch.bool)


def tracing() -> bool:
    """Whether ``torch.compile`` is tracing the caller.

    The data-dependent checks below (and the path-loss validity warnings) read tensor values
    into Python, which would cut a compiled graph into pieces. While tracing they do nothing:
    a compiled caller checks its inputs before the compiled call and its outputs after it
    (:mod:`rantwin.surrogate.compiled`).
    """
    return torch.compiler.is_compiling()


def check_finite(name: str, x: Tensor) -> None:
    """Raise ``ValueError`` if ``x`` contains NaN or infinity (not while :func:`tracing`)."""
    if tracing():
        return
    bad = ~torch.isfinite(x.detach())
    if bool(bad.any()):
        v = x.detach()[bad].flatten()[0].item()
        raise ValueError(f"{name} must be finite, got {v}")


def check_min(name: str, x: Tensor, minimum: float, *, strict: bool = False) -> None:
    """Raise ``ValueError`` naming the first offending value if ``x < minimum`` (or ``<=``).

    Not while :func:`tracing`.
    """
    if tracing():
        return
    xd = x.detach()
    bad = xd <= minimum if strict else xd < minimum
    bad = bad | torch.isnan(xd)
    if bool(bad.any()):
        v = xd[bad].flatten()[0].item()
        rule = f"> {minimum}" if strict else f">= {minimum}"
        raise ValueError(f"{name} must be {rule}, got {v}")


def check_range(name: str, x: Tensor, lo: float, hi: float) -> None:
    """Raise ``ValueError`` naming the first offending value if ``x`` leaves ``[lo, hi]``.

    Not while :func:`tracing`.
    """
    if tracing():
        return
    xd = x.detach()
    bad = (xd < lo) | (xd > hi) | torch.isnan(xd)
    if bool(bad.any()):
        v = xd[bad].flatten()[0].item()
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {v}")
