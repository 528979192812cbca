import math
from types import SimpleNamespace

import torch

from rantwin.radio.link import spectral_efficiency
from rantwin.simulator.window import WindowInputs, run_window


def _inputs(rx_mw, serving, active, full_buffer=True, n_ttis=10, buffer=None, arrivals=None):
    n_cells, n_ues = rx_mw.shape
    return WindowInputs(
        rx_mw=rx_mw,
        cochannel=torch.ones(n_cells, n_ues),
        serving=torch.tensor(serving),
        awake=torch.ones(n_cells, dtype=torch.bool),
        noise_mw=torch.full((n_ues,), 1e-12),
        prb_per_subband=torch.full((n_cells,), 50.0, dtype=torch.float64),
        bits_per_prb_per_se=torch.full((n_cells,), 12 * 30e3 * 1e-3, dtype=torch.float64),
        full_buffer=full_buffer,
        active=torch.tensor(active),
        buffer_bits=buffer if buffer is not None else torch.zeros(n_ues, dtype=torch.float64),
        arrivals_bits=arrivals
        if arrivals is not None
        else torch.zeros(n_ttis, n_ues, dtype=torch.float64),
        avg_rate=torch.ones(n_ues, dtype=torch.float64),
    )


def _batch_of_one(inp):
    shared = ("prb_per_subband", "bits_per_prb_per_se", "full_buffer")
    return WindowInputs(**{k: v if k in shared else v[None] for k, v in vars(inp).items()})


def _window(inp, n_ttis, n_samples):
    """One window without fading, its result unbatched."""
    res = run_window(_batch_of_one(inp), None, [], n_ttis, n_samples, -8.0, 5)
    return SimpleNamespace(**{k: v if k == "tti_index" else v[0] for k, v in vars(res).items()})


def test_single_link_rate_matches_link_abstraction():
    rx = torch.tensor([[1e-10]])  # SNR = 20 dB over 1e-12 noise
    res = _window(_inputs(rx, [0], [True]), 10, 2)
    # 20 dB SNR with the 40 dB receiver ceiling: 1 / (1/100 + 1/10^4)
    eff_db = -10 * math.log10(1 / 100 + 1e-4)
    se = spectral_efficiency(torch.tensor(eff_db)).item()
    expected = se * 50 * 12 * 30e3 * 1e-3 * 10
    assert abs(res.bits.item() - expected) / expected < 1e-5
    assert res.prb_util.item() == 1.0
    assert abs(res.sinr_db_mean.item() - eff_db) < 1e-3


def test_pf_shares_time_between_equal_users():
    rx = torch.tensor([[1e-10, 1e-10]])
    res = _window(_inputs(rx, [0, 0], [True, True]), 40, 0)
    a, b = res.bits.tolist()
    assert abs(a - b) / (a + b) < 0.06


def test_interference_only_from_transmitting_cells():
    # cell 1 has no backlogged UE: it does not transmit, UE 0 sees no interference
    rx = torch.tensor([[1e-10, 1e-13], [1e-10, 1e-10]])
    res = _window(_inputs(rx, [0, 1], [True, False]), 5, 0)
    assert abs(res.sinr_db_mean[0].item() - 20.0) < 0.05
    assert res.prb_util.tolist() == [1.0, 0.0]


def test_rlf_after_consecutive_low_sinr():
    rx = torch.tensor([[1e-14, 1e-10]])  # UE 0 at SNR -20 dB
    res = _window(_inputs(rx, [0, 0], [True, True]), 10, 0)
    assert res.rlf.tolist() == [True, False]


def test_buffer_caps_delivery():
    rx = torch.tensor([[1e-10]])
    arrivals = torch.zeros(10, 1, dtype=torch.float64)
    arrivals[0, 0] = 1000.0
    inp = _inputs(rx, [0], [False], full_buffer=False, arrivals=arrivals)
    res = _window(inp, 10, 0)
    assert abs(res.bits.item() - 1000.0) < 1e-6
    assert res.buffer_bits.item() == 0.0
    assert res.prb_util.item() == 0.1  # one TTI of ten


def test_sinr_ceiling_bounds_isolated_links():
    rx = torch.tensor([[1e-3]])  # 90 dB SNR
    res = _window(_inputs(rx, [0], [True]), 3, 0)
    assert res.sinr_db_mean.item() <= 40.0 + 1e-4


def test_ftp3_never_delivers_negative_bits():
    """Odd buffer sizes and float32 rates: the backlog stays >= 0, rates too (regression)."""
    g = torch.Generator().manual_seed(0)
    rx = torch.rand(3, 40, generator=g) * 1e-9
    arrivals = (torch.rand(50, 40, generator=g, dtype=torch.float64) < 0.05) * 123456.789
    inp = _inputs(rx, [i % 3 for i in range(40)], [False] * 40, full_buffer=False,
                  arrivals=arrivals)  # fmt: skip
    res = _window(inp, 50, 50)
    assert (res.tti_rate_bits >= 0).all() and (res.bits >= 0).all()
    assert (res.buffer_bits >= 0).all()
