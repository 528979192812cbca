"""TR 38.901 Table 7.3-1 element and the M x 1 sub-array, against hand computations."""

import math

import numpy as np
import pytest
import torch

from rantwin.radio.antenna import element_gain_dbi, sector_gain_dbi


def element_ref(phi, theta):
    """TR 38.901 Table 7.3-1 written out independently."""
    a_v = -min(12 * ((theta - 90) / 65) ** 2, 30)
    a_h = -min(12 * (phi / 65) ** 2, 30)
    return 8 + -min(-(a_v + a_h), 30)


@pytest.mark.parametrize(
    ("phi", "theta"),
    [(0, 90), (32.5, 90), (0, 122.5), (60, 120), (120, 95), (180, 90), (-45, 70), (10, 175)],
)
def test_element_spot_values(phi, theta):
    g = element_gain_dbi(torch.tensor(float(phi)), torch.tensor(float(theta)))
    assert g.item() == pytest.approx(element_ref(phi, theta), abs=1e-5)


def test_element_3db_and_floor():
    assert element_gain_dbi(32.5, 90.0).item() == pytest.approx(5.0)  # half beamwidth: -3 dB
    assert element_gain_dbi(0.0, 90 + 32.5).item() == pytest.approx(5.0)
    assert element_gain_dbi(180.0, 90.0).item() == pytest.approx(-22.0)
    assert element_gain_dbi(-180.0, 0.0).item() == pytest.approx(-22.0)
    # azimuth wraps: 350 deg == -10 deg
    assert element_gain_dbi(350.0, 90.0).item() == pytest.approx(element_ref(-10, 90), abs=1e-5)


def test_single_element_tilt_moves_peak():
    theta = torch.linspace(60.0, 150.0, 901, dtype=torch.float64)
    g = sector_gain_dbi(0.0, theta, 10.0)
    assert theta[g.argmax()].item() == pytest.approx(100.0)
    assert g.max().item() == pytest.approx(8.0)
    assert sector_gain_dbi(20.0, 110.0, 6.0).item() == pytest.approx(element_ref(20, 104), abs=1e-5)


def array_ref(phi, theta, tilt, m, spacing=0.5):
    """Composite pattern: element + |AF|^2 with TR 36.897 weights, numpy complex arithmetic."""
    k = np.arange(m)
    th_s = math.radians(90 + tilt)
    w = np.exp(-1j * 2 * np.pi * k * spacing * np.cos(th_s)) / np.sqrt(m)
    v = np.exp(1j * 2 * np.pi * k * spacing * np.cos(math.radians(theta)))
    af = abs(np.sum(w * v)) ** 2
    return element_ref(phi, theta) + 10 * math.log10(max(af, 1e-3))


@pytest.mark.parametrize(("phi", "theta"), [(0, 102), (0, 95), (30, 110), (-50, 90), (0, 130)])
def test_array_matches_independent_reference(phi, theta):
    g = sector_gain_dbi(torch.tensor(float(phi), dtype=torch.float64), float(theta), 12.0, 10)
    assert g.item() == pytest.approx(array_ref(phi, theta, 12.0, 10), abs=1e-4)


def test_array_peak_is_element_plus_10log10_m():
    theta = torch.linspace(80.0, 130.0, 5001, dtype=torch.float64)
    g = sector_gain_dbi(0.0, theta, 12.0, 10)
    peak = g.max().item()
    # peak near 90 + tilt (the element roll-off pulls it slightly towards the horizon);
    # gain there ~ element gain at 102 deg, 8 - 12 (12/65)^2 dB, + 10 log10(10)
    assert theta[g.argmax()].item() == pytest.approx(102.0, abs=0.5)
    assert peak == pytest.approx(8 + 10 - 12 * (12 / 65) ** 2, abs=0.02)
    assert peak <= 18.0
    # array gain at the steering direction is exactly 10 log10 M
    g_el = element_gain_dbi(0.0, 102.0).item()
    assert sector_gain_dbi(0.0, 102.0, 12.0, 8).item() - g_el == pytest.approx(10 * math.log10(8))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mixed_n_vertical_broadcast_dtype_grad(dtype):
    tilt = torch.tensor([[6.0], [12.0], [8.0]], dtype=dtype, requires_grad=True)  # [3, 1]
    n_v = torch.tensor([[1], [10], [4]])  # [3, 1]
    theta = torch.linspace(85.0, 120.0, 7, dtype=dtype).expand(3, 7)  # [3, 7]
    phi = torch.zeros(7, dtype=dtype, requires_grad=True)  # [7]
    g = sector_gain_dbi(phi, theta, tilt, n_v)
    assert g.shape == (3, 7) and g.dtype == dtype
    assert torch.allclose(g[0], sector_gain_dbi(phi, theta[0], tilt[0], 1))
    assert torch.allclose(g[1], sector_gain_dbi(phi, theta[1], tilt[1], 10))
    g.sum().backward()
    assert torch.isfinite(tilt.grad).all() and (tilt.grad.abs() > 0).all()
    assert torch.isfinite(phi.grad).all()


def test_antenna_errors():
    with pytest.raises(ValueError, match="n_vertical"):
        sector_gain_dbi(0.0, 90.0, 10.0, 0)
    with pytest.raises(ValueError, match="spacing_lambda"):
        sector_gain_dbi(0.0, 90.0, 10.0, 4, spacing_lambda=0.0)


@pytest.mark.parametrize("m", [1, 4, 10])
def test_a_python_count_gives_the_bits_of_a_per_cell_tensor(m):
    """One count for every cell (what a compiled Φ passes) against the per-cell form."""
    g = torch.Generator().manual_seed(0)
    az = torch.rand(3, 5, generator=g, dtype=torch.float64) * 360 - 180  # [cells, UEs]
    zen = torch.rand(3, 5, generator=g, dtype=torch.float64) * 60 + 80
    tilt = torch.tensor([[4.0], [8.0], [12.0]], dtype=torch.float64)  # [cells, 1]
    per_cell = sector_gain_dbi(az, zen, tilt, torch.full((3, 1), m))
    assert torch.equal(sector_gain_dbi(az, zen, tilt, m), per_cell)
    with pytest.raises(ValueError, match="n_vertical must be >= 1, got 0"):
        sector_gain_dbi(az, zen, tilt, 0)
