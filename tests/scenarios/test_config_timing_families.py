import dataclasses

import numpy as np
import pytest

from rantwin.scenarios import (
    FAMILIES,
    CellConfig,
    Knob,
    Timing,
    load_scenario,
    sample_deployment,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
)


@pytest.fixture(scope="module")
def hex7():
    return load_scenario("hex7-uma")


def test_default_config(hex7):
    cfg = hex7.default_config()
    assert cfg == CellConfig.default(hex7)
    assert cfg.n_cells == 21
    assert cfg.power_offset_db.dtype == np.float64 and cfg.sleep.dtype == np.bool_
    assert np.all(cfg.tilt_deg == 8.0) and not cfg.sleep.any()


def test_config_immutable(hex7):
    cfg = hex7.default_config()
    for name in ("power_offset_db", "tilt_deg", "cio_db", "sleep"):
        assert not getattr(cfg, name).flags.writeable
    with pytest.raises(ValueError):
        cfg.cio_db[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.cio_db = np.ones(21)  # type: ignore[misc]
    src = np.zeros(21)
    new = cfg.replace(cio_db=src)
    src[0] = 5.0  # the config holds a copy
    assert new.cio_db[0] == 0.0 and new.cio_db is not src


def test_replace_validates(hex7):
    cfg = hex7.default_config()
    tilt = np.full(21, 10.0)
    new = cfg.replace(hex7, tilt_deg=tilt)
    assert np.all(new.tilt_deg == 10.0) and np.all(cfg.tilt_deg == 8.0)
    bad = np.zeros(21)
    bad[4] = np.nan
    with pytest.raises(ValueError, match=r"cio_db for cell 4 must be finite, got nan"):
        cfg.replace(cio_db=bad)
    bad = np.zeros(21)
    bad[7] = np.inf
    with pytest.raises(ValueError, match=r"power_offset_db for cell 7 must be finite"):
        cfg.replace(power_offset_db=bad)
    tilt[3] = 20.0
    with pytest.raises(ValueError, match=r"tilt_deg for cell 3 must be in \[0, 15\], got 20\.0"):
        cfg.replace(hex7, tilt_deg=tilt)
    with pytest.raises(ValueError, match="unknown knob"):
        cfg.replace(azimuth_deg=np.zeros(21))
    with pytest.raises(ValueError, match="n_cells"):
        cfg.replace(cio_db=np.zeros(20))


def test_validate_messages(hex7):
    cfg = hex7.default_config()
    off = np.zeros(21)
    off[5] = 3.0
    with pytest.raises(
        ValueError, match=r"power_offset_db for cell 5 must be in \[-10, 0\], got 3\.0"
    ):
        cfg.replace(power_offset_db=off).validate(hex7)
    cio = np.zeros(21)
    cio[20] = -7.0
    with pytest.raises(ValueError, match=r"cio_db for cell 20 must be in \[-6, 6\]"):
        cfg.replace(cio_db=cio).validate(hex7)
    with pytest.raises(ValueError, match="21 cells"):
        CellConfig(np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3, bool)).validate(hex7)
    sleepy = np.zeros(21)
    sleepy[2] = np.nan
    with pytest.raises(ValueError, match="sleep for cell 2 must be finite"):
        cfg.replace(sleep=sleepy)


def test_fixed_knob_must_keep_default(hex7):
    no_cio = dataclasses.replace(hex7, knobs=tuple(k for k in hex7.knobs if k.name != "cio_db"))
    cfg = no_cio.default_config()
    cio = np.zeros(21)
    cio[1] = 1.0
    with pytest.raises(ValueError, match="cio_db for cell 1 is not controllable"):
        cfg.replace(no_cio, cio_db=cio)
    narrow = dataclasses.replace(hex7, knobs=(Knob("tilt_deg", 2.0, 12.0),))
    assert narrow.default_config().n_cells == 21


def test_config_dict_round_trip(hex7):
    cfg = hex7.default_config().replace(sleep=np.arange(21) % 2 == 0)
    d = cfg.to_dict()
    assert isinstance(d["sleep"][0], bool)
    assert CellConfig.from_dict(d, hex7) == cfg
    with pytest.raises(ValueError, match="cio: unknown key"):
        CellConfig.from_dict({**d, "cio": [0.0]})


def test_load_factor_interpolation():
    t = Timing()
    env = t.diurnal_envelope
    assert len(env) == 24 and all(0.0 < v <= 1.0 for v in env)
    assert min(env) == env[4] and min(env) <= 0.2 and max(env) == 1.0
    assert t.load_factor(0) == pytest.approx(env[0])
    assert t.load_factor(4 * 4) == pytest.approx(env[4])  # 15-min steps: step 16 = 04:00
    assert t.load_factor(2) == pytest.approx(0.5 * (env[0] + env[1]))  # 00:30
    assert t.load_factor(95) == pytest.approx(0.25 * env[23] + 0.75 * env[0])  # 23:45 wraps
    assert t.load_factor(96) == pytest.approx(env[0])  # next day
    t2 = Timing(start_hour=20.0, superstep_minutes=60.0)
    assert t2.load_factor(1) == pytest.approx(env[21])
    arr = t.load_factor(np.arange(96))
    assert arr.shape == (96,) and np.all((arr > 0) & (arr <= 1))
    with pytest.raises(ValueError, match=r"diurnal_envelope\[2\]: 1\.5 must be in \(0, 1\]"):
        Timing(diurnal_envelope=(0.5,) * 2 + (1.5,) + (0.5,) * 21)
    with pytest.raises(ValueError, match="must have 24"):
        Timing(diurnal_envelope=(0.5,) * 23)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_sample_deployment_deterministic_and_valid(family):
    for seed in range(4):
        a = sample_deployment(np.random.default_rng(seed), family)
        b = sample_deployment(np.random.default_rng(seed), family)
        assert a == b and scenario_hash(a) == scenario_hash(b)
        assert a.n_sites <= 12 and a.n_cells <= 36 and a.ues.count <= 400
        assert not a.deployment.wraparound
        assert scenario_from_dict(scenario_to_dict(a)) == a
        a.default_config().validate(a)
        assert a.name.startswith(family)
    worlds = {scenario_hash(sample_deployment(np.random.default_rng(s), family)) for s in range(6)}
    assert len(worlds) > 1
    rng = np.random.default_rng(0)
    assert sample_deployment(rng, family) != sample_deployment(rng, family)


def test_family_specifics():
    rng = np.random.default_rng(1)
    for _ in range(5):
        s = sample_deployment(rng, "uma-irregular")
        c = s.cells()
        assert 5 <= s.n_sites <= 12 and 60 <= s.ues.count <= 300
        assert np.all((c.height_m >= 20) & (c.height_m <= 35))
        assert set(np.unique(c.carrier_ghz)) <= {2.1, 3.5}
        assert s.ues.distribution == "hotspots" and s.propagation.model == "38901-uma"
        u = sample_deployment(rng, "umi-dense")
        assert 150 <= u.deployment.isd_m <= 250 and u.propagation.model == "38901-umi"
        assert np.all((u.cells().height_m >= 8) & (u.cells().height_m <= 15))
        r = sample_deployment(rng, "rma-rural")
        assert 1000 <= r.deployment.isd_m <= 3000 and r.propagation.model == "38901-rma"
        assert np.all((r.cells().carrier_ghz >= 0.7) & (r.cells().carrier_ghz <= 0.9))
        h = sample_deployment(rng, "hetnet")
        kinds = h.cells().kind
        assert (kinds == "small").sum() >= 2 and (kinds == "macro").sum() >= 9
        sub = sample_deployment(rng, "suburban-hata")
        assert sub.propagation.model == "hata-suburban"
        assert np.all((sub.cells().carrier_ghz >= 0.7) & (sub.cells().carrier_ghz <= 1.5))


def test_umi_street_holds_out_umi_dense_layouts():
    """The UMi training family never draws the held-out family's ISDs or heights."""
    rng = np.random.default_rng(3)
    worlds = [sample_deployment(rng, "umi-street") for _ in range(40)]
    isd = np.array([w.deployment.isd_m for w in worlds])
    assert {w.propagation.model for w in worlds} == {"38901-umi"}
    assert np.all((isd < 150) | (isd > 250))  # umi-dense: 150-250 m
    assert (isd < 150).any() and (isd > 250).any()  # both sides of it
    for w in worlds:
        h = w.cells().height_m
        assert np.all((h < 8) | (h > 15))  # umi-dense: 8-15 m
        assert 4 <= w.n_sites <= 10 and 40 <= w.ues.count <= 250


def test_unknown_family_lists_valid():
    with pytest.raises(ValueError) as info:
        sample_deployment(np.random.default_rng(0), "martian")
    for family in FAMILIES:
        assert family in str(info.value)
    assert set(FAMILIES) >= {"uma-irregular", "umi-dense", "rma-rural", "hetnet", "suburban-hata"}
