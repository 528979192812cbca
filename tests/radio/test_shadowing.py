"""Correlated shadowing fields: statistics, determinism, sampling and site combination."""

import math

import pytest
import torch

from rantwin.radio.shadowing import combine_site_fields, gaussian_field, sample_field


@pytest.fixture(scope="module")
def fields():
    gen = torch.Generator().manual_seed(1234)
    return gaussian_field(gen, 300, (48, 48), 5.0, 25.0, dtype=torch.float64)


def test_unit_variance_zero_mean(fields):
    assert fields.shape == (300, 48, 48) and fields.dtype == torch.float64
    assert fields.mean().item() == pytest.approx(0.0, abs=0.03)
    assert (fields**2).mean().item() == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("lag", [1, 5, 10])
def test_exponential_autocorrelation(fields, lag):
    expected = math.exp(-lag * 5.0 / 25.0)
    cx = (fields[:, :, :-lag] * fields[:, :, lag:]).mean().item()
    cy = (fields[:, :-lag, :] * fields[:, lag:, :]).mean().item()
    assert cx == pytest.approx(expected, abs=0.04)
    assert cy == pytest.approx(expected, abs=0.04)
    # diagonal lag (isotropy)
    cd = (fields[:, :-lag, :-lag] * fields[:, lag:, lag:]).mean().item()
    assert cd == pytest.approx(math.exp(-lag * 5.0 * math.sqrt(2) / 25.0), abs=0.04)


def test_determinism_and_generator_use():
    a = gaussian_field(torch.Generator().manual_seed(3), 2, (16, 20), 10.0, 50.0)
    b = gaussian_field(torch.Generator().manual_seed(3), 2, (16, 20), 10.0, 50.0)
    c = gaussian_field(torch.Generator().manual_seed(4), 2, (16, 20), 10.0, 50.0)
    assert a.shape == (2, 16, 20) and a.dtype == torch.get_default_dtype()
    assert torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(ValueError, match="decorrelation_m"):
        gaussian_field(torch.Generator(), 1, (4, 4), 1.0, 0.0)


def test_sample_field_bilinear_and_clamp():
    field = torch.arange(12, dtype=torch.float64).reshape(1, 3, 4)  # value = 4 i + j
    field = torch.cat([field, -field], 0)  # [2, 3, 4]
    origin = (100.0, 200.0)
    res = 10.0
    xy = torch.tensor(
        [[100.0, 200.0], [130.0, 220.0], [115.0, 205.0], [0.0, 0.0], [1000.0, 1000.0]],
        dtype=torch.float64,
    )
    out = sample_field(field, origin, res, xy)
    assert out.shape == (2, 5)
    # grid points, bilinear midpoint (i = 0.5, j = 1.5 -> 4 * 0.5 + 1.5), clamped corners
    assert out[0].tolist() == pytest.approx([0.0, 11.0, 3.5, 0.0, 11.0])
    assert out[1].tolist() == pytest.approx([-0.0, -11.0, -3.5, -0.0, -11.0])
    xy_b = (torch.rand(3, 7, 2, dtype=torch.float64) * 30 + 100).requires_grad_(True)
    f = field.clone().requires_grad_(True)
    s = sample_field(f, origin, res, xy_b)
    assert s.shape == (2, 3, 7)
    s.sum().backward()
    assert torch.isfinite(xy_b.grad).all() and torch.isfinite(f.grad).all()


def test_combine_site_fields_correlation():
    gen = torch.Generator().manual_seed(9)
    common = gaussian_field(gen, 1, (32, 32), 5.0, 20.0, dtype=torch.float64)
    own = gaussian_field(gen, 3, (32, 32), 5.0, 20.0, dtype=torch.float64)
    comb = combine_site_fields(common[0], own, 0.5)
    assert comb.shape == (3, 32, 32)
    assert torch.allclose(comb, math.sqrt(0.5) * common + math.sqrt(0.5) * own)
    # ensemble check of the site-to-site correlation
    n = 4000
    c = torch.randn(n, generator=gen, dtype=torch.float64)
    o = torch.randn(2, n, generator=gen, dtype=torch.float64)
    s = combine_site_fields(c.reshape(1, 1, n), o.reshape(2, 1, n), 0.5)
    rho = torch.corrcoef(s.reshape(2, n))[0, 1].item()
    assert rho == pytest.approx(0.5, abs=0.05)
    assert s.var().item() == pytest.approx(1.0, abs=0.08)
    with pytest.raises(ValueError, match="inter_site_corr"):
        combine_site_fields(common, own, 1.5)
