"""Thermal noise, EARTH power model and O2I penetration loss."""

import dataclasses
import math

import pytest
import torch

from rantwin.radio.energy import MACRO, MICRO, bs_power_w
from rantwin.radio.noise import thermal_noise_dbm
from rantwin.radio.o2i import indoor_distance_sample, material_loss_db, o2i_loss_db


def test_thermal_noise():
    assert thermal_noise_dbm(10e6, 9.0).item() == pytest.approx(-174 + 70 + 9)
    assert thermal_noise_dbm(30e3).item() == pytest.approx(-174 + 10 * math.log10(30e3))
    b = torch.tensor([1e6, 20e6], dtype=torch.float64)
    out = thermal_noise_dbm(b, torch.tensor([[7.0], [9.0]], dtype=torch.float64))
    assert out.shape == (2, 2) and out.dtype == torch.float64
    with pytest.raises(ValueError, match="bandwidth_hz"):
        thermal_noise_dbm(0.0, 9.0)


def test_earth_model_values():
    # macro: 6 * (130 + 4.7 * 0.5 * 20) = 1062 W; sleep 6 * 75 = 450 W
    assert bs_power_w(0.5, 20.0, True, "macro").item() == pytest.approx(1062.0)
    assert bs_power_w(0.5, 20.0, False, "macro").item() == pytest.approx(450.0)
    assert bs_power_w(0.0, 20.0, True).item() == pytest.approx(780.0)
    # micro / small: 2 * (56 + 2.6 * 1.0 * 6.3)
    assert bs_power_w(1.0, None, True, "small").item() == pytest.approx(2 * (56 + 2.6 * 6.3))
    assert bs_power_w(0.3, None, False, "micro").item() == pytest.approx(78.0)
    assert (MACRO.n_trx, MACRO.p_max_w, MACRO.p0_w, MACRO.delta_p, MACRO.p_sleep_w) == (
        6,
        20.0,
        130.0,
        4.7,
        75.0,
    )
    assert (MICRO.n_trx, MICRO.p_max_w, MICRO.p0_w, MICRO.delta_p, MICRO.p_sleep_w) == (
        2,
        6.3,
        56.0,
        2.6,
        39.0,
    )
    per_sector = dataclasses.replace(MACRO, n_trx=2)
    assert bs_power_w(0.5, 20.0, True, per_sector).item() == pytest.approx(354.0)


def test_earth_batch_grad_and_errors():
    load = torch.tensor([[0.1, 0.9], [0.5, 0.0]], dtype=torch.float64, requires_grad=True)
    active = torch.tensor([True, False])
    p = bs_power_w(load, torch.tensor([20.0, 20.0], dtype=torch.float64), active)
    assert p.shape == (2, 2) and p.dtype == torch.float64
    assert torch.all(p[:, 1] == 450.0)
    p.sum().backward()
    assert load.grad[0, 0].item() == pytest.approx(6 * 4.7 * 20) and load.grad[0, 1] == 0
    soft = torch.tensor(0.25, requires_grad=True)
    q = bs_power_w(0.5, 20.0, soft)
    assert q.item() == pytest.approx(0.25 * 1062 + 0.75 * 450)
    with pytest.raises(ValueError, match="load"):
        bs_power_w(1.2, 20.0)
    with pytest.raises(ValueError, match="model"):
        bs_power_w(0.5, 20.0, True, "femto-xl")


def test_o2i_spot_values():
    f = 2.0
    l_glass, l_conc, l_irr = 2 + 0.2 * f, 5 + 4 * f, 23 + 0.3 * f
    low_tw = 5 - 10 * math.log10(0.3 * 10 ** (-l_glass / 10) + 0.7 * 10 ** (-l_conc / 10))
    high_tw = 5 - 10 * math.log10(0.7 * 10 ** (-l_irr / 10) + 0.3 * 10 ** (-l_conc / 10))
    assert o2i_loss_db("low", f, 10.0, 0.0).item() == pytest.approx(low_tw + 5.0, abs=1e-4)
    assert o2i_loss_db("high", f, 10.0, 0.0).item() == pytest.approx(high_tw + 5.0, abs=1e-4)
    assert o2i_loss_db("low", f, 0.0, 1.0).item() == pytest.approx(low_tw + 4.4, abs=1e-4)
    assert o2i_loss_db("high", f, 0.0, -1.0).item() == pytest.approx(high_tw - 6.5, abs=1e-4)
    assert material_loss_db("wood", 10.0).item() == pytest.approx(4.85 + 1.2)
    fc = torch.tensor([1.0, 3.5, 28.0], dtype=torch.float64, requires_grad=True)
    loss = o2i_loss_db("high", fc, torch.zeros(4, 1, dtype=torch.float64), 0.0)
    assert loss.shape == (4, 3) and loss.dtype == torch.float64
    assert torch.all(torch.diff(loss[0]) > 0)  # higher frequency, higher loss
    loss.sum().backward()
    assert torch.isfinite(fc.grad).all()
    with pytest.raises(ValueError, match="model"):
        o2i_loss_db("medium", 2.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="indoor_distance_m"):
        o2i_loss_db("low", 2.0, -1.0, 0.0)


def test_indoor_distance_sample():
    g1 = torch.Generator().manual_seed(7)
    g2 = torch.Generator().manual_seed(7)
    a = indoor_distance_sample(g1, (20000,))
    b = indoor_distance_sample(g2, (20000,))
    assert torch.equal(a, b)
    assert a.min() >= 0 and a.max() < 25
    # E[min(U1, U2)] = 25 / 3 for U(0, 25)
    assert a.mean().item() == pytest.approx(25 / 3, abs=0.15)
    r = indoor_distance_sample(g1, (3, 4), max_m=10.0, dtype=torch.float64)
    assert r.shape == (3, 4) and r.dtype == torch.float64 and r.max() < 10


def test_cell_power_shares_sector_power_over_two_trx():
    import torch

    from rantwin.radio.energy import cell_power_w

    # 46 dBm sector = 39.8 W over 2 TRX; EARTH macro: 2 (130 + 4.7 * load * P_max)
    p = cell_power_w(
        torch.tensor([0.5, 0.5, 0.3]),
        torch.tensor([46.0, 46.0, 30.0]),
        torch.tensor([True, False, True]),
        torch.tensor([False, False, True]),
    )
    p_max = 10 ** ((46 - 30) / 10) / 2
    assert abs(p[0].item() - 2 * (130 + 4.7 * 0.5 * p_max)) < 1e-3
    assert abs(p[1].item() - 2 * 75.0) < 1e-6
    small_pmax = 10 ** ((30 - 30) / 10) / 2
    assert abs(p[2].item() - 2 * (56 + 2.6 * 0.3 * small_pmax)) < 1e-4
