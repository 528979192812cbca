import pytest
import torch

from rantwin.simulator import fading as fd


def test_rayleigh_unit_mean_and_jakes_correlation():
    g = torch.Generator().manual_seed(0)
    rho = torch.full((1, 4000), 0.9)
    st = fd.init_fading(g, rho, torch.zeros(1, 4000, dtype=torch.bool), 9.0, 2, torch.float64)
    nxt = fd.advance(g, st)
    assert abs(fd.power_gain(st).mean().item() - 1.0) < 0.05
    assert abs(fd.power_gain(nxt).mean().item() - 1.0) < 0.05
    corr = (st.re * nxt.re + st.im * nxt.im).mean() / (st.re**2 + st.im**2).mean()
    assert abs(corr.item() - 0.9) < 0.03


def test_rician_unit_mean_and_less_spread():
    g = torch.Generator().manual_seed(1)
    rho = torch.full((1, 20000), 0.5)
    los = fd.init_fading(g, rho, torch.ones(1, 20000, dtype=torch.bool), 9.0, 1, torch.float64)
    nlos = fd.init_fading(g, rho, torch.zeros(1, 20000, dtype=torch.bool), 9.0, 1, torch.float64)
    assert abs(fd.power_gain(los).mean().item() - 1.0) < 0.03
    assert fd.power_gain(los).var() < 0.5 * fd.power_gain(nlos).var()


def test_jakes_rho_static_ue_is_one():
    rho = fd.jakes_rho(torch.tensor([0.0, 30.0]), torch.tensor([3.5]), 1e-3)
    assert rho[0, 0] == 1.0
    # f_D = 30 m/s * 3.5 GHz / c = 350 Hz -> J0(2 pi 0.35) ~ 0.0... check against scipy
    from scipy.special import j0

    assert abs(rho[0, 1].item() - j0(2 * 3.141592653589793 * 30 * 3.5e9 / 299792458 * 1e-3)) < 1e-5


def test_batched_advance_draws_what_each_window_draws_alone():
    rho = torch.full((3, 5), 0.9)
    states = [
        fd.init_fading(torch.Generator().manual_seed(s), rho, torch.rand(3, 5) < 0.5, 9.0, 2)
        for s in (0, 1)
    ]
    gens = [torch.Generator().manual_seed(10), torch.Generator().manual_seed(11)]
    batched = fd.advance(gens, fd.stack(states))
    for b, s in enumerate(states):
        alone = fd.advance(torch.Generator().manual_seed(10 + b), s)
        assert torch.equal(batched.re[b], alone.re) and torch.equal(batched.im[b], alone.im)
        assert torch.equal(fd.power_gain(batched)[b], fd.power_gain(alone))
    with pytest.raises(ValueError, match="one per batch element"):
        fd.advance(gens[:1], fd.stack(states))
