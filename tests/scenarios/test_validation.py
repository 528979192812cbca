import copy
import dataclasses

import numpy as np
import pytest

from rantwin.scenarios import (
    Knob,
    Scenario,
    Sector,
    load_scenario,
    load_yaml,
    scenario_from_dict,
    scenario_to_dict,
)

LAYOUT_YAML = """\
name: tiny
description: a tiny test world
deployment:
  layout:
    type: hex
    n_rings: 1
    isd_m: 500
    height_m: 25
    sector: {tilt_deg: 8, tx_power_dbm: 46, carrier_ghz: 3.5, bandwidth_mhz: 20, n_prb: 51}
propagation: {model: 38901-uma}
ues:
  count: 21
  traffic: {model: ftp3, file_size_mbit: 2}
"""


@pytest.fixture
def base():
    return scenario_to_dict(load_scenario("hex7-uma"))


def _err(d):
    with pytest.raises(ValueError) as info:
        scenario_from_dict(d)
    return str(info.value)


def test_layout_shorthand(tmp_path):
    p = tmp_path / "tiny.yaml"
    p.write_text(LAYOUT_YAML)
    s = load_yaml(p)
    assert s.n_cells == 21 and s.deployment.wraparound
    assert s.ues.traffic.file_size_mbit == 2.0 and isinstance(s.ues.traffic.file_size_mbit, float)
    assert scenario_from_dict(scenario_to_dict(s)) == s


def test_unknown_key_names_full_path(base):
    d = copy.deepcopy(base)
    d["ues"]["traffic"]["modle"] = "ftp3"
    msg = _err(d)
    assert msg.startswith("ues.traffic.modle: unknown key")
    assert "valid keys: model, file_size_mbit, arrival_rate_per_s" in msg
    d = copy.deepcopy(base)
    d["deployment"]["sites"][2]["sectors"][1]["tilt"] = 3
    assert _err(d).startswith("deployment.sites[2].sectors[1].tilt: unknown key")
    d = copy.deepcopy(base)
    d["colour"] = "red"
    assert _err(d).startswith("colour: unknown key")


def test_unknown_key_in_layout(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(LAYOUT_YAML.replace("n_rings: 1", "n_ring: 1"))
    with pytest.raises(ValueError, match=r"deployment\.layout\.n_ring: unknown key"):
        load_yaml(p)
    p.write_text(LAYOUT_YAML.replace("tilt_deg: 8", "tilt_deg: 95"))
    with pytest.raises(ValueError, match=r"deployment\.layout\.sector\.tilt_deg: 95\.0 must be in"):
        load_yaml(p)


def test_missing_key(base):
    d = copy.deepcopy(base)
    del d["ues"]["count"]
    assert _err(d) == "ues.count: required key missing"


def test_wrong_type_names_path_value_type(base):
    d = copy.deepcopy(base)
    d["deployment"]["sites"][0]["x_m"] = "abc"
    msg = _err(d)
    assert msg.startswith("deployment.sites[0].x_m:")
    assert "'abc'" in msg and "float" in msg
    d = copy.deepcopy(base)
    d["ues"]["count"] = 2.5
    msg = _err(d)
    assert msg.startswith("ues.count:") and "2.5" in msg and "int" in msg
    d = copy.deepcopy(base)
    d["propagation"]["shadowing"] = "yes"
    assert _err(d).startswith("propagation.shadowing: expected bool")
    d = copy.deepcopy(base)
    d["timing"]["diurnal_envelope"][3] = "x"
    assert _err(d).startswith("timing.diurnal_envelope[3]: expected float")
    d = copy.deepcopy(base)
    d["ues"] = [1, 2]
    assert _err(d).startswith("ues: expected a mapping")


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (lambda d: d["ues"].__setitem__("count", -3), "ues.count", "-3 must be >= 1"),
        (
            lambda d: d["ues"].__setitem__("indoor_fraction", 1.5),
            "ues.indoor_fraction",
            "1.5 must be in [0, 1]",
        ),
        (
            lambda d: d["deployment"]["sites"][1]["sectors"][0].__setitem__("tilt_deg", 100.0),
            "deployment.sites[1].sectors[0].tilt_deg",
            "100.0 must be in [-90, 90]",
        ),
        (
            lambda d: d["deployment"]["sites"][0]["sectors"][2].__setitem__("carrier_ghz", 0.0),
            "deployment.sites[0].sectors[2].carrier_ghz",
            "0.0 must be in (0, 100]",
        ),
        (
            lambda d: d["deployment"]["sites"][0]["sectors"][0].__setitem__("n_prb", 0),
            "deployment.sites[0].sectors[0].n_prb",
            "0 must be in [1, 275]",
        ),
        (
            lambda d: d["propagation"].__setitem__("model", "38901-uam"),
            "propagation.model",
            "'38901-uam' is not one of 'fspl'",
        ),
        (
            lambda d: d["ues"]["traffic"].__setitem__("model", "video"),
            "ues.traffic.model",
            "'full-buffer', 'ftp3'",
        ),
        (
            lambda d: d["ues"]["speed_classes"][0].__setitem__("fraction", 0.5),
            "ues.speed_classes",
            "must sum to 1",
        ),
        (
            lambda d: d["deployment"].__setitem__("n_rings", None),
            "deployment.wraparound",
            "requires isd_m and n_rings",
        ),
        (
            lambda d: d["knobs"][1].__setitem__("high", 5.0),
            "deployment.sites[0].sectors[0].tilt_deg",
            "tilt_deg knob range [0, 5]",
        ),
        (
            lambda d: d["knobs"][3].__setitem__("name", "tilt_deg"),
            "knobs[3].name",
            "appears twice",
        ),
        (lambda d: d["timing"].__setitem__("start_hour", 24.0), "timing.start_hour", "[0, 24)"),
    ],
)
def test_out_of_range_names_path_value_rule(base, mutate, path, fragment):
    d = copy.deepcopy(base)
    mutate(d)
    msg = _err(d)
    assert msg.startswith(path + ":"), msg
    assert fragment in msg, msg


def test_malformed_yaml_names_file_and_line(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("name: x\ndescription: y\ndeployment: {layout: [1, 2\npropagation: z\n")
    with pytest.raises(ValueError) as info:
        load_yaml(p)
    msg = str(info.value)
    assert "broken.yaml" in msg and "line" in msg and "malformed YAML" in msg


def test_yaml_field_error_names_file(tmp_path):
    p = tmp_path / "typo.yaml"
    p.write_text(LAYOUT_YAML.replace("model: ftp3", "modle: ftp3"))
    with pytest.raises(ValueError, match=r"typo\.yaml: ues\.traffic\.modle: unknown key"):
        load_yaml(p)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_scenario_is_frozen():
    s = load_scenario("hex7-uma")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.deployment.sites[0].sectors[0].tilt_deg = 3.0  # type: ignore[misc]
    assert isinstance(s.deployment.sites, tuple) and isinstance(s.knobs, tuple)
    cells = s.cells()
    with pytest.raises(ValueError):
        cells.tilt_deg[0] = 3.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        cells.tilt_deg = np.zeros(21)  # type: ignore[misc]


def test_direct_construction_canonicalises():
    sec = Sector(azimuth_deg=270, tilt_deg=8, tx_power_dbm=46, carrier_ghz=3.5,
                 bandwidth_mhz=20, n_prb=51)  # fmt: skip
    assert sec.azimuth_deg == -90.0 and isinstance(sec.tilt_deg, float)
    with pytest.raises(ValueError, match=r"^tilt_deg: 91\.0 must be in \[-90, 90\]"):
        dataclasses.replace(sec, tilt_deg=91)
    with pytest.raises(ValueError, match="sleep knob range"):
        Knob("sleep", 0.0, 2.0)
    with pytest.raises(ValueError, match="'speed' is not one of"):
        Knob("speed", 0.0, 2.0)


def test_default_knobs():
    s = load_scenario("hex7-uma")
    assert [(k.name, k.low, k.high) for k in s.knobs] == [
        ("power_offset_db", -10.0, 0.0),
        ("tilt_deg", 0.0, 15.0),
        ("cio_db", -6.0, 6.0),
        ("sleep", 0.0, 1.0),
    ]
    assert isinstance(s, Scenario)


def test_scenario_enumerations_match_radio():
    """scenarios/ may not import radio/, so its copies of Φ's names are checked here."""
    from rantwin.radio.o2i import O2I_MODELS as RADIO_O2I
    from rantwin.radio.pathloss import MODELS
    from rantwin.scenarios.schema import O2I_MODELS, PATHLOSS_MODELS

    assert PATHLOSS_MODELS == MODELS
    assert set(RADIO_O2I) <= set(O2I_MODELS)  # scenarios adds "mixed" (50/50 buildings)
