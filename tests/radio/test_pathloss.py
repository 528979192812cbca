"""Path loss / LOS probability / shadowing statistics against hand-written spec equations."""

import math
import warnings

import pytest
import torch

from rantwin.radio.pathloss import (
    MODELS,
    PathlossValidityWarning,
    decorrelation_distance_m,
    los_probability,
    pathloss_db,
    pathloss_los_nlos_db,
    shadowing_std_db,
    warn_validity,
)

C = 3.0e8
lg = math.log10


def d3(d2, hbs, hut):
    return math.sqrt(d2**2 + (hbs - hut) ** 2)


def pl(model, d2, fc, hbs, hut, los=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PathlossValidityWarning)
        los_t = None if los is None else torch.tensor(los)
        return pathloss_db(
            model,
            torch.tensor(d2, dtype=torch.float64),
            torch.tensor(fc, dtype=torch.float64),
            hbs,
            hut,
            los_t,
        ).item()


# ---------------------------------------------------------------- TR 38.901 spot values
def test_uma_los_both_sides_of_breakpoint():
    fc, hbs, hut = 3.5, 25.0, 1.5
    dbp = 4 * (hbs - 1) * (hut - 1) * fc * 1e9 / C  # 560 m
    assert dbp == pytest.approx(560.0)
    d = d3(100.0, hbs, hut)
    ref1 = 28.0 + 22 * lg(d) + 20 * lg(fc)
    assert pl("38901-uma", 100.0, fc, hbs, hut, True) == pytest.approx(ref1, abs=1e-9)
    d = d3(1000.0, hbs, hut)
    ref2 = 28.0 + 40 * lg(d) + 20 * lg(fc) - 9 * lg(dbp**2 + (hbs - hut) ** 2)
    assert pl("38901-uma", 1000.0, fc, hbs, hut, True) == pytest.approx(ref2, abs=1e-9)


def test_uma_nlos_is_max_of_los_and_nlos_prime():
    fc, hbs, hut = 3.5, 25.0, 1.5
    for d2 in (30.0, 200.0, 1500.0):
        d = d3(d2, hbs, hut)
        nlos_p = 13.54 + 39.08 * lg(d) + 20 * lg(fc) - 0.6 * (hut - 1.5)
        los = pl("38901-uma", d2, fc, hbs, hut, True)
        assert pl("38901-uma", d2, fc, hbs, hut) == pytest.approx(max(los, nlos_p), abs=1e-9)
    # default los=None is NLOS
    assert pl("38901-uma", 200.0, fc, hbs, hut) == pl("38901-uma", 200.0, fc, hbs, hut, False)


def test_umi_spot_values():
    fc, hbs, hut = 3.5, 10.0, 1.5
    dbp = 4 * 9.0 * 0.5 * fc * 1e9 / C  # 210 m
    d = d3(100.0, hbs, hut)
    assert pl("38901-umi", 100.0, fc, hbs, hut, True) == pytest.approx(
        32.4 + 21 * lg(d) + 20 * lg(fc), abs=1e-9
    )
    d = d3(500.0, hbs, hut)
    ref2 = 32.4 + 40 * lg(d) + 20 * lg(fc) - 9.5 * lg(dbp**2 + (hbs - hut) ** 2)
    assert pl("38901-umi", 500.0, fc, hbs, hut, True) == pytest.approx(ref2, abs=1e-9)
    nlos_p = 35.3 * lg(d) + 22.4 + 21.3 * lg(fc) - 0.3 * (hut - 1.5)
    assert pl("38901-umi", 500.0, fc, hbs, hut) == pytest.approx(max(ref2, nlos_p), abs=1e-9)


def _rma_pl1(d, fc, h=5.0):
    return (
        20 * lg(40 * math.pi * d * fc / 3)
        + min(0.03 * h**1.72, 10) * lg(d)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * lg(h) * d
    )


def test_rma_spot_values():
    fc, hbs, hut, w, h = 3.5, 35.0, 1.5, 20.0, 5.0
    dbp = 2 * math.pi * hbs * hut * fc * 1e9 / C  # ~3848 m
    d = d3(1000.0, hbs, hut)
    assert pl("38901-rma", 1000.0, fc, hbs, hut, True) == pytest.approx(_rma_pl1(d, fc), abs=1e-9)
    d = d3(6000.0, hbs, hut)
    ref2 = _rma_pl1(dbp, fc) + 40 * lg(d / dbp)
    assert pl("38901-rma", 6000.0, fc, hbs, hut, True) == pytest.approx(ref2, abs=1e-9)
    d = d3(1000.0, hbs, hut)
    nlos_p = (
        161.04
        - 7.1 * lg(w)
        + 7.5 * lg(h)
        - (24.37 - 3.7 * (h / hbs) ** 2) * lg(hbs)
        + (43.42 - 3.1 * lg(hbs)) * (lg(d) - 3)
        + 20 * lg(fc)
        - (3.2 * lg(11.75 * hut) ** 2 - 4.97)
    )
    ref = max(_rma_pl1(d, fc), nlos_p)
    assert pl("38901-rma", 1000.0, fc, hbs, hut) == pytest.approx(ref, abs=1e-9)


# ---------------------------------------------------------------- other models
def test_fspl_textbook_value():
    # 1 km, 1 GHz: 20 log10(4 pi d f / c) = 92.45 dB (equal heights -> d3D = d2D)
    ref = 20 * lg(4 * math.pi * 1000.0 * 1e9 / 299_792_458.0)
    assert pl("fspl", 1000.0, 1.0, 10.0, 10.0) == pytest.approx(ref, abs=1e-9)
    assert ref == pytest.approx(92.45, abs=0.01)


def test_hata_spot_values():
    f, hb, hm, dkm = 900.0, 50.0, 1.5, 5.0
    a = (1.1 * lg(f) - 0.7) * hm - (1.56 * lg(f) - 0.8)
    lu = 69.55 + 26.16 * lg(f) - 13.82 * lg(hb) - a + (44.9 - 6.55 * lg(hb)) * lg(dkm)
    assert pl("hata-urban", 5000.0, 0.9, hb, hm) == pytest.approx(lu, abs=1e-9)
    assert pl("hata-suburban", 5000.0, 0.9, hb, hm) == pytest.approx(
        lu - 2 * lg(f / 28) ** 2 - 5.4, abs=1e-9
    )
    assert pl("hata-rural", 5000.0, 0.9, hb, hm) == pytest.approx(
        lu - 4.78 * lg(f) ** 2 + 18.33 * lg(f) - 40.94, abs=1e-9
    )
    # COST-231 Hata above 1500 MHz
    f = 1800.0
    a = (1.1 * lg(f) - 0.7) * hm - (1.56 * lg(f) - 0.8)
    lc = 46.3 + 33.9 * lg(f) - 13.82 * lg(hb) - a + (44.9 - 6.55 * lg(hb)) * lg(dkm)
    assert pl("hata-urban", 5000.0, 1.8, hb, hm) == pytest.approx(lc, abs=1e-9)


def test_winner2_spot_values():
    fc, hbs, hut = 3.5, 25.0, 1.5
    d = d3(500.0, hbs, hut)
    c2_nlos = (44.9 - 6.55 * lg(hbs)) * lg(d) + 34.46 + 5.83 * lg(hbs) + 23 * lg(fc / 5)
    c1_nlos = (44.9 - 6.55 * lg(hbs)) * lg(d) + 31.46 + 5.83 * lg(hbs) + 23 * lg(fc / 5)
    hbs_d1 = 32.0
    d_d1 = d3(500.0, hbs_d1, hut)
    d1_nlos = (
        25.1 * lg(d_d1)
        + 55.4
        - 0.13 * (hbs_d1 - 25) * lg(d_d1 / 100)
        - 0.9 * (hut - 1.5)
        + 21.3 * lg(fc / 5)
    )
    assert pl("winner2-urban", 500.0, fc, hbs, hut) == pytest.approx(c2_nlos, abs=1e-9)
    assert pl("winner2-suburban", 500.0, fc, hbs, hut) == pytest.approx(c1_nlos, abs=1e-9)
    assert pl("winner2-rural", 500.0, fc, hbs_d1, hut) == pytest.approx(d1_nlos, abs=1e-9)
    # C2 LOS: d'_BP = 4 * 24 * 0.5 * 3.5e9 / 3e8 = 560 m
    d = d3(100.0, hbs, hut)
    assert pl("winner2-urban", 100.0, fc, hbs, hut, True) == pytest.approx(
        26 * lg(d) + 39 + 20 * lg(fc / 5), abs=1e-9
    )
    d = d3(1000.0, hbs, hut)
    ref = 40 * lg(d) + 13.47 - 14 * lg(hbs - 1) - 14 * lg(hut - 1) + 6 * lg(fc / 5)
    assert pl("winner2-urban", 1000.0, fc, hbs, hut, True) == pytest.approx(ref, abs=1e-9)
    # C1 LOS beyond d_BP = 4 * 25 * 1.5 * 3.5e9 / 3e8 = 1750 m
    d = d3(3000.0, hbs, hut)
    ref = 40 * lg(d) + 11.65 - 16.2 * lg(hbs) - 16.2 * lg(hut) + 3.8 * lg(fc / 5)
    assert pl("winner2-suburban", 3000.0, fc, hbs, hut, True) == pytest.approx(ref, abs=1e-9)
    # D1 LOS before d_BP (= 4 * 32 * 1.5 * 3.5e9/3e8 = 2240 m)
    d = d3(1000.0, hbs_d1, hut)
    assert pl("winner2-rural", 1000.0, fc, hbs_d1, hut, True) == pytest.approx(
        21.5 * lg(d) + 44.2 + 20 * lg(fc / 5), abs=1e-9
    )


# ---------------------------------------------------------------- properties
_TYPICAL = {  # model -> (fc range GHz, h_bs, h_ut, d range m)
    "fspl": ((0.5, 6.0), 25.0, 1.5, (10.0, 4990.0)),
    "hata-urban": ((0.2, 1.4), 50.0, 1.5, (1000.0, 19900.0)),
    "hata-suburban": ((0.2, 1.4), 50.0, 1.5, (1000.0, 19900.0)),
    "hata-rural": ((0.2, 1.4), 50.0, 1.5, (1000.0, 19900.0)),
    "winner2-urban": ((2.0, 6.0), 25.0, 1.5, (50.0, 4990.0)),
    "winner2-suburban": ((2.0, 6.0), 25.0, 1.5, (50.0, 4990.0)),
    "winner2-rural": ((2.0, 6.0), 32.0, 1.5, (50.0, 4990.0)),
    "38901-uma": ((0.5, 30.0), 25.0, 1.5, (10.0, 4990.0)),
    "38901-umi": ((0.5, 30.0), 10.0, 1.5, (10.0, 4990.0)),
    "38901-rma": ((0.5, 30.0), 35.0, 1.5, (10.0, 4990.0)),
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("los", [None, True])
def test_monotone_in_distance_and_frequency(model, los):
    (f_lo, f_hi), hbs, hut, (d_lo, d_hi) = _TYPICAL[model]
    d = torch.logspace(math.log10(d_lo), math.log10(d_hi), 200, dtype=torch.float64)
    d = d.clamp(d_lo, d_hi)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PathlossValidityWarning)
        los_t = None if los is None else torch.tensor(los)
        p = pathloss_db(model, d, (f_lo + f_hi) / 2, hbs, hut, los_t)
        assert torch.all(p[1:] >= p[:-1])
        f = torch.linspace(f_lo, f_hi, 50, dtype=torch.float64)
        p = pathloss_db(model, (d_lo * d_hi) ** 0.5, f, hbs, hut, los_t)
        assert torch.all(p[1:] > p[:-1])


@pytest.mark.parametrize("model", ["38901-uma", "38901-umi", "38901-rma"])
def test_breakpoint_is_continuous(model):
    # PL1 and PL2 meet at the breakpoint (within the d2D/d3D mismatch of the spec forms)
    hbs = {"38901-uma": 25.0, "38901-umi": 10.0, "38901-rma": 35.0}[model]
    d = torch.linspace(20.0, 5000.0, 20000, dtype=torch.float64)
    p = pathloss_db(model, d, 3.5, hbs, 1.5, torch.tensor(True))
    assert torch.diff(p).abs().max() < 0.1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("model", MODELS)
def test_dtype_grad_and_broadcast(model, dtype):
    d = torch.tensor([[60.0, 300.0, 1200.0]], dtype=dtype, requires_grad=True)  # [1, 3]
    fc = torch.tensor([[2.0], [3.0]], dtype=dtype, requires_grad=True)  # [2, 1]
    los = torch.tensor([True, False, True])  # [3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PathlossValidityWarning)
        p = pathloss_db(model, d, fc, 25.0, 1.5, los)
    assert p.shape == (2, 3)
    assert p.dtype == dtype
    p.sum().backward()
    assert torch.isfinite(d.grad).all() and (d.grad > 0).all()
    assert torch.isfinite(fc.grad).all() and (fc.grad > 0).all()


def test_python_scalars_give_default_dtype():
    assert pathloss_db("38901-uma", 100.0, 3.5, 25.0, 1.5).dtype == torch.get_default_dtype()


def test_clamp_below_minimum_distance():
    d = torch.tensor([0.0, 5.0, 10.0], requires_grad=True)
    p = pathloss_db("38901-uma", d, 3.5, 25.0, 1.5)
    assert p[0] == p[1] == p[2]
    p.sum().backward()
    assert torch.isfinite(d.grad).all()


def test_validity_warning_once_per_call():
    d = torch.tensor([100.0, 6000.0, 7000.0, 8000.0])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        pathloss_db("38901-uma", d, 200.0, 25.0, 30.0)
    w = [r for r in rec if issubclass(r.category, PathlossValidityWarning)]
    assert len(w) == 1
    msg = str(w[0].message)
    assert "38901-uma" in msg and "carrier_ghz" in msg and "distance_2d_m" in msg
    assert "h_ut_m" in msg
    assert issubclass(PathlossValidityWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pathloss_db("38901-uma", torch.tensor([100.0, 4000.0]), 3.5, 25.0, 1.5)


def test_winner2_los_range_uses_los_mask():
    # 30 m is valid for C2 LOS but below the 50 m NLOS lower bound
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pathloss_db("winner2-urban", torch.tensor([30.0]), 3.5, 25.0, 1.5, torch.tensor([True]))
    with pytest.warns(PathlossValidityWarning, match="50"):
        pathloss_db("winner2-urban", torch.tensor([30.0]), 3.5, 25.0, 1.5)


def test_errors():
    with pytest.raises(ValueError, match="38901-uma"):
        pathloss_db("cost-hata", 100.0, 3.5, 25.0, 1.5)
    with pytest.raises(ValueError, match="distance_2d_m.*-1"):
        pathloss_db("38901-uma", torch.tensor([10.0, -1.0]), 3.5, 25.0, 1.5)
    with pytest.raises(ValueError, match="carrier_ghz"):
        pathloss_db("38901-uma", 100.0, 0.0, 25.0, 1.5)
    with pytest.raises(ValueError, match="los"):
        pathloss_db("38901-uma", 100.0, 3.5, 25.0, 1.5, torch.tensor(0.7))


# ---------------------------------------------------------------- LOS probability
def test_los_probability_spot_values():
    d = 100.0
    umi = 18 / d + math.exp(-d / 36) * (1 - 18 / d)
    uma = 18 / d + math.exp(-d / 63) * (1 - 18 / d)
    c = ((20.0 - 13) / 10) ** 1.5
    uma20 = uma * (1 + c * 5 / 4 * (d / 100) ** 3 * math.exp(-d / 150))
    rma = math.exp(-(d - 10) / 1000)
    t = torch.tensor([d], dtype=torch.float64)
    assert los_probability("38901-umi", t).item() == pytest.approx(umi, abs=1e-12)
    assert los_probability("38901-uma", t, 1.5).item() == pytest.approx(uma, abs=1e-12)
    assert los_probability("38901-uma", t, 20.0).item() == pytest.approx(uma20, abs=1e-12)
    assert los_probability("38901-rma", t).item() == pytest.approx(rma, abs=1e-12)
    short = torch.tensor([0.0, 5.0, 18.0])
    for m in ("38901-uma", "38901-umi"):
        assert torch.all(los_probability(m, short, 20.0) == 1.0)
    assert torch.all(los_probability("38901-rma", torch.tensor([0.0, 10.0])) == 1.0)
    assert torch.all(los_probability("fspl", t) == 1.0)
    assert torch.all(los_probability("hata-urban", t) == 0.0)
    assert torch.all(los_probability("winner2-urban", t) == 0.0)


def test_los_probability_range_shape_grad():
    d = torch.linspace(0.0, 5000.0, 501, dtype=torch.float64, requires_grad=True)
    h = torch.tensor([[1.5], [15.0], [22.5]], dtype=torch.float64)
    p = los_probability("38901-uma", d, h)
    assert p.shape == (3, 501) and p.dtype == torch.float64
    assert torch.all((p >= 0) & (p <= 1))
    p.sum().backward()
    assert torch.isfinite(d.grad).all()
    # for a ground UE the probability decreases with distance
    assert torch.all(torch.diff(p[0].detach()) <= 1e-15)


# ---------------------------------------------------------------- shadowing statistics
def test_shadowing_std_and_decorrelation():
    los = torch.tensor([True, False])
    assert shadowing_std_db("38901-uma", los).tolist() == [4.0, 6.0]
    assert shadowing_std_db("38901-umi", los).tolist() == pytest.approx([4.0, 7.82])
    assert shadowing_std_db("38901-rma", los).tolist() == [4.0, 8.0]
    assert shadowing_std_db("hata-urban").item() == 8.0
    assert shadowing_std_db("fspl", True).item() == 0.0
    assert shadowing_std_db("winner2-urban", None).item() == 8.0
    assert shadowing_std_db("38901-uma", los, dtype=torch.float64).dtype == torch.float64
    assert decorrelation_distance_m("38901-uma", True) == 37.0
    assert decorrelation_distance_m("38901-uma", False) == 50.0
    assert decorrelation_distance_m("38901-umi", True) == 10.0
    assert decorrelation_distance_m("38901-umi", False) == 13.0
    assert decorrelation_distance_m("38901-rma", True) == 37.0
    assert decorrelation_distance_m("38901-rma", False) == 120.0
    with pytest.raises(ValueError, match="model"):
        shadowing_std_db("bogus", True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("model", MODELS)
def test_los_nlos_pair_is_bitwise_the_two_calls(model, dtype):
    # one evaluation for both states gives exactly what two pathloss_db calls give, so Φ's
    # mean gain (which mixes the two) keeps its bits
    g = torch.Generator().manual_seed(0)
    d = (torch.rand(4, 1, 500, generator=g, dtype=dtype) * 6000).requires_grad_()  # [4, 1, U]
    fc = torch.tensor([0.9, 2.0, 3.5], dtype=dtype)[:, None]  # [C, 1]
    hbs = 10 + 30 * torch.rand(3, 1, generator=g, dtype=dtype)  # [C, 1]
    hut = 1.5 + 8 * torch.rand(4, 1, 500, generator=g, dtype=dtype)  # [4, 1, U]
    ones = torch.ones(4, 3, 500, dtype=torch.bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PathlossValidityWarning)
        pl_los, pl_nlos = pathloss_los_nlos_db(model, d, fc, hbs, hut)
        assert pl_los.shape == pl_nlos.shape == (4, 3, 500)
        assert torch.equal(pl_los, pathloss_db(model, d, fc, hbs, hut, ones))
        assert torch.equal(pl_nlos, pathloss_db(model, d, fc, hbs, hut, ~ones))
        assert torch.equal(pl_nlos, pathloss_db(model, d, fc, hbs, hut))
    (pl_los + pl_nlos).sum().backward()
    assert d.grad is not None and torch.isfinite(d.grad).all()


def test_los_nlos_pair_checks_both_ranges_in_one_warning():
    # 30 m is inside C2's LOS range and below its 50 m NLOS bound: the pair evaluates NLOS
    # too, so it warns, once, naming the NLOS bound and the carrier
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        pathloss_los_nlos_db("winner2-urban", torch.tensor([30.0]), 9.0, 25.0, 1.5)
    w = [r for r in rec if issubclass(r.category, PathlossValidityWarning)]
    assert len(w) == 1
    assert "50" in str(w[0].message) and "carrier_ghz" in str(w[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pathloss_los_nlos_db("winner2-urban", torch.tensor([100.0, 4000.0]), 3.5, 25.0, 1.5)


def test_los_nlos_pair_rejects_bad_input_like_pathloss_db():
    with pytest.raises(ValueError, match="model must be one of"):
        pathloss_los_nlos_db("38901-xyz", 100.0, 3.5, 25.0, 1.5)
    with pytest.raises(ValueError, match="distance_2d_m"):
        pathloss_los_nlos_db("38901-uma", torch.tensor([-1.0]), 3.5, 25.0, 1.5)


def test_warn_validity_warns_as_the_path_loss_would_without_evaluating_it():
    """What a compiled caller runs after the call (the checks do nothing while tracing)."""
    d = torch.tensor([[50.0, 7000.0]], dtype=torch.float64)
    for args in (("38901-uma", d, 3.5, 25.0, 1.5), ("38901-umi", d[:, :1], 3.5, 10.0, 30.0)):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            warn_validity(*args)
        with warnings.catch_warnings(record=True) as ref:
            warnings.simplefilter("always")
            pathloss_los_nlos_db(*args)
        assert [str(w.message) for w in got] == [str(w.message) for w in ref]
        assert len(got) == 1 and issubclass(got[0].category, PathlossValidityWarning)
    with pytest.raises(ValueError, match="h_ut_m must be > 0"):
        warn_validity("38901-uma", d, 3.5, 25.0, 0.0)
