import math

import pytest
import torch

from rantwin.surrogate.diffusion.schedule import (
    CosineSchedule,
    alpha_sigma,
    v_target,
    x0_eps_from_v,
)


def test_logsnr_endpoints_monotone_and_inverse():
    sch = CosineSchedule(logsnr_min=-12.0, logsnr_max=10.0)
    t = torch.linspace(0, 1, 101, dtype=torch.float64)
    lam = sch.logsnr(t)
    assert lam[0].item() == pytest.approx(10.0, abs=1e-9)
    assert lam[-1].item() == pytest.approx(-12.0, abs=1e-9)
    assert (lam.diff() < 0).all()
    assert torch.allclose(sch.t_of_logsnr(lam), t, atol=1e-9)
    # untruncated cosine: λ(1/2) = −2 log tan(π/4) = 0 when the range is symmetric
    assert CosineSchedule(-15, 15).logsnr(torch.tensor(0.5)).abs() < 1e-5
    shifted = CosineSchedule(shift=2.0).logsnr(t) - CosineSchedule().logsnr(t)
    assert torch.allclose(shifted, torch.full_like(t, 2 * math.log(2.0)))


def test_alpha_sigma_variance_preserving():
    lam = torch.linspace(-15, 15, 61, dtype=torch.float64)
    a, s = alpha_sigma(lam)
    assert torch.allclose(a**2 + s**2, torch.ones_like(a))
    assert torch.allclose(torch.log(a**2 / s**2), lam)


def test_v_parameterisation_round_trip():
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    a, s = alpha_sigma(torch.randn(5, 1, generator=g))
    x_t = a * x0 + s * eps
    x0_hat, eps_hat = x0_eps_from_v(x_t, v_target(x0, eps, a, s), a, s)
    assert torch.allclose(x0_hat, x0, atol=1e-5) and torch.allclose(eps_hat, eps, atol=1e-5)


@pytest.mark.parametrize("kw", [{"logsnr_min": 5.0, "logsnr_max": 5.0}, {"shift": 0.0}])
def test_invalid_schedule(kw):
    with pytest.raises(ValueError, match="must be"):
        CosineSchedule(**kw)
