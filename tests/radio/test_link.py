"""RSRP, load-coupled SINR, TS 38.214 CQI tables, spectral efficiency and throughput."""

import math

import pytest
import torch

from rantwin.radio.link import (
    CQI_SINR_THRESHOLDS_DB,
    CQI_TABLE_64QAM,
    CQI_TABLE_256QAM,
    cqi_to_spectral_efficiency,
    rsrp_dbm,
    sinr_db,
    sinr_to_cqi,
    spectral_efficiency,
    throughput_bps,
)

# TS 38.214 Table 5.2.2.1-2 / -3 rows (Q_m, code rate x 1024, efficiency), typed from the spec
SPEC_64 = [
    (2, 78, 0.1523), (2, 120, 0.2344), (2, 193, 0.3770), (2, 308, 0.6016), (2, 449, 0.8770),
    (2, 602, 1.1758), (4, 378, 1.4766), (4, 490, 1.9141), (4, 616, 2.4063), (6, 466, 2.7305),
    (6, 567, 3.3223), (6, 666, 3.9023), (6, 772, 4.5234), (6, 873, 5.1152), (6, 948, 5.5547),
]  # fmt: skip
SPEC_256 = [
    (2, 78, 0.1523), (2, 193, 0.3770), (2, 449, 0.8770), (4, 378, 1.4766), (4, 490, 1.9141),
    (4, 616, 2.4063), (6, 466, 2.7305), (6, 567, 3.3223), (6, 666, 3.9023), (6, 772, 4.5234),
    (6, 873, 5.1152), (8, 711, 5.5547), (8, 797, 6.2266), (8, 885, 6.9141), (8, 948, 7.4063),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "spec"), [(CQI_TABLE_64QAM, SPEC_64), (CQI_TABLE_256QAM, SPEC_256)]
)
def test_cqi_tables_match_spec(table, spec):
    assert len(table) == 16 and table[0].spectral_efficiency == 0.0
    for k, (qm, rate, se) in enumerate(spec, start=1):
        row = table[k]
        assert row.cqi == k
        assert (row.modulation_order, row.code_rate_x1024, row.spectral_efficiency) == (
            qm,
            rate,
            se,
        )
        # efficiency = Q_m * R / 1024 (rounded to 4 decimals in the spec)
        assert qm * rate / 1024 == pytest.approx(se, abs=6e-5)


@pytest.mark.parametrize("table", ["64qam", "256qam"])
def test_thresholds_increasing(table):
    thr = CQI_SINR_THRESHOLDS_DB[table]
    assert len(thr) == 15
    assert all(b > a for a, b in zip(thr[:-1], thr[1:], strict=True))


def test_sinr_to_cqi_boundaries():
    thr = CQI_SINR_THRESHOLDS_DB["256qam"]
    s = torch.tensor([-20.0, thr[0] - 0.01, thr[0], thr[4] + 0.01, thr[14], 40.0])
    assert sinr_to_cqi(s).tolist() == [0, 0, 1, 5, 15, 15]
    assert sinr_to_cqi(torch.tensor(CQI_SINR_THRESHOLDS_DB["64qam"][9]), "64qam").item() == 10


def test_spectral_efficiency_staircase_and_soft():
    s = torch.linspace(-15.0, 35.0, 501, dtype=torch.float64, requires_grad=True)
    se = spectral_efficiency(s, "256qam")
    assert se.dtype == torch.float64
    assert se[0].item() == 0.0 and se[-1].item() == pytest.approx(7.4063)
    assert torch.all(torch.diff(se.detach()) >= 0)
    assert spectral_efficiency(torch.tensor(5.0), "64qam").item() == pytest.approx(1.1758)
    soft = spectral_efficiency(s, "256qam", temperature_db=0.05)
    far = (s.detach()[:, None] - torch.tensor(CQI_SINR_THRESHOLDS_DB["256qam"])).abs().min(1).values
    assert torch.allclose(soft[far > 0.5], se[far > 0.5], atol=1e-3)
    soft.sum().backward()
    assert torch.isfinite(s.grad).all() and s.grad.sum() > 0
    assert cqi_to_spectral_efficiency(torch.tensor([0, 7, 15]), "64qam").tolist() == pytest.approx(
        [0.0, 1.4766, 5.5547]
    )


def test_rsrp_per_re():
    # 46 dBm over 273 PRB x 12 RE, coupling -100 dB
    ref = 46 - 10 * math.log10(12 * 273) - 100
    assert rsrp_dbm(46.0, 273, -100.0).item() == pytest.approx(ref, abs=1e-4)
    tx = torch.tensor([46.0, 40.0])  # [n_cells]
    g = torch.full((3, 2, 5), -90.0)  # [batch, n_cells, n_ues]
    r = rsrp_dbm(tx[:, None], torch.tensor([273, 106])[:, None], g)
    assert r.shape == (3, 2, 5)
    assert r[0, 1, 0].item() == pytest.approx(40 - 10 * math.log10(12 * 106) - 90, abs=1e-4)


def test_sinr_hand_computed():
    rx = torch.tensor([[-80.0, -90.0, -100.0], [-85.0, -70.0, -120.0], [-95.0, -95.0, -95.0]])
    serving = torch.tensor([0, 1, 2])
    load = torch.tensor([1.0, 0.5, 0.2])
    noise = -100.0
    out = sinr_db(rx, serving, load, noise)
    mw = lambda x: 10 ** (x / 10)  # noqa: E731
    ref0 = mw(-80) / (0.5 * mw(-85) + 0.2 * mw(-95) + mw(-100))
    ref1 = mw(-70) / (1.0 * mw(-90) + 0.2 * mw(-95) + mw(-100))
    ref2 = mw(-95) / (1.0 * mw(-100) + 0.5 * mw(-120) + mw(-100))
    assert out.tolist() == pytest.approx([10 * math.log10(r) for r in (ref0, ref1, ref2)], abs=1e-4)
    # zero load everywhere -> SNR
    snr = sinr_db(rx, serving, 0.0, noise)
    assert snr[0].item() == pytest.approx(20.0, abs=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sinr_batch_dtype_grad(dtype):
    gen = torch.Generator().manual_seed(0)
    rx = (-60 - 60 * torch.rand(4, 6, 10, generator=gen, dtype=dtype)).requires_grad_(True)
    serving = rx.detach().argmax(-2)  # [4, 10]
    load = torch.rand(4, 6, generator=gen, dtype=dtype).requires_grad_(True)
    noise = torch.full((4, 10), -110.0, dtype=dtype)
    s = sinr_db(rx, serving, load, noise)
    assert s.shape == (4, 10) and s.dtype == dtype
    s.sum().backward()
    assert torch.isfinite(rx.grad).all() and torch.isfinite(load.grad).all()
    assert torch.all(load.grad <= 0)  # more interference load never helps
    # a single serving-cell layout for every batch element broadcasts
    s2 = sinr_db(rx.detach(), serving[0], load.detach(), -110.0)
    assert s2.shape == (4, 10)


def test_sinr_very_weak_signals_float32():
    rx = torch.tensor([[-200.0], [-210.0]], dtype=torch.float32)
    s = sinr_db(rx, torch.tensor([0]), torch.tensor([1.0, 1.0]), -250.0)
    assert torch.isfinite(s).all() and s.item() == pytest.approx(10.0, abs=1e-3)


def test_throughput():
    # 100 PRB, 30 kHz, SE 5 b/s/Hz, 14 % overhead
    assert throughput_bps(5.0, 100, 30.0).item() == pytest.approx(5 * 100 * 12 * 30e3 * 0.86)
    assert throughput_bps(torch.tensor([1.0, 2.0]), 10, 15.0, overhead=0.0).tolist() == (
        pytest.approx([1.8e6, 3.6e6])
    )


def test_link_errors():
    rx = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="serving_cell"):
        sinr_db(rx, torch.tensor([0, 2, 1]), 1.0, -100.0)
    with pytest.raises(ValueError, match="load"):
        sinr_db(rx, torch.tensor([0, 1, 1]), torch.tensor([0.5, 1.5]), -100.0)
    with pytest.raises(ValueError, match="table"):
        sinr_to_cqi(torch.tensor(3.0), "1024qam")
    with pytest.raises(ValueError, match="cqi"):
        cqi_to_spectral_efficiency(torch.tensor([16]))
    with pytest.raises(ValueError, match="n_prb"):
        rsrp_dbm(46.0, 0, -100.0)
    with pytest.raises(ValueError, match="overhead"):
        throughput_bps(1.0, 1, overhead=1.0)
