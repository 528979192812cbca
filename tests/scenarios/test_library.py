import json

import numpy as np
import pytest

from rantwin.scenarios import (
    CellConfig,
    Scenario,
    builtin_names,
    list_scenarios,
    load_scenario,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
)

REQUIRED = {
    "hex7-uma",
    "hex19-uma",
    "hex7-umi",
    "rma-sparse",
    "hetnet-macro-small",
    "calib-38901-uma",
}


def test_required_builtins_present():
    assert REQUIRED <= set(builtin_names())
    listed = dict(list_scenarios())
    assert set(listed) == set(builtin_names())
    assert all(summary and "\n" not in summary for summary in listed.values())


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_builtin_loads_and_round_trips(name):
    s = load_scenario(name)
    assert isinstance(s, Scenario)
    assert s.name == name
    d = scenario_to_dict(s)
    text = json.dumps(d, allow_nan=False)  # JSON-safe
    d2 = json.loads(text)
    s2 = scenario_from_dict(d2)
    assert s2 == s
    assert scenario_to_dict(s2) == d
    assert scenario_hash(s2) == scenario_hash(s)
    assert len(scenario_hash(s)) == 16
    cells = s.cells()
    assert cells.n_cells == s.n_cells
    cfg = s.default_config()
    assert isinstance(cfg, CellConfig)
    np.testing.assert_array_equal(cfg.tilt_deg, cells.tilt_deg)


def test_hashes_differ_between_builtins():
    hashes = {scenario_hash(load_scenario(n)) for n in builtin_names()}
    assert len(hashes) == len(builtin_names())


def test_hex7_uma_contents():
    s = load_scenario("hex7-uma")
    assert (s.n_sites, s.n_cells, s.ues.count) == (7, 21, 210)
    d = s.deployment
    assert d.wraparound and d.isd_m == 500.0 and d.n_rings == 1 and d.scs_khz == 30.0
    c = s.cells()
    assert np.all(c.carrier_ghz == 3.5) and np.all(c.bandwidth_mhz == 20.0)
    assert np.all(c.n_prb == 51) and np.all(c.tx_power_dbm == 46.0)
    assert np.all(c.tilt_deg == 8.0) and np.all(c.height_m == 25.0)
    assert s.propagation.model == "38901-uma" and s.ues.indoor_fraction == 0.8
    # cell index = sites then sectors
    np.testing.assert_array_equal(c.site, np.repeat(np.arange(7), 3))
    np.testing.assert_allclose(c.azimuth_deg[:3], [30.0, 150.0, -90.0])
    assert c.site.dtype == np.int64 and c.n_prb.dtype == np.int64 and c.x_m.dtype == np.float64
    # neighbouring sites are one ISD apart
    xy = np.stack([c.x_m[::3], c.y_m[::3]], axis=1)
    np.testing.assert_allclose(np.linalg.norm(xy[1:], axis=1), 500.0)


def test_hex19_counts():
    s = load_scenario("hex19-uma")
    assert (s.n_sites, s.n_cells, s.ues.count) == (19, 57, 1140)


def test_other_builtins():
    umi = load_scenario("hex7-umi")
    assert umi.deployment.isd_m == 200.0 and umi.propagation.model == "38901-umi"
    assert np.all(umi.cells().height_m == 10.0) and np.all(umi.cells().tx_power_dbm == 44.0)
    rma = load_scenario("rma-sparse")
    c = rma.cells()
    assert rma.deployment.scs_khz == 15.0 and rma.deployment.isd_m == 1732.0
    assert np.all(c.carrier_ghz == 0.7) and np.all(c.n_prb == 52) and np.all(c.bandwidth_mhz == 10)
    assert rma.ues.count == 105 and rma.ues.indoor_fraction == 0.5
    het = load_scenario("hetnet-macro-small")
    hc = het.cells()
    assert (hc.kind == "small").sum() == 6 and (hc.kind == "macro").sum() == 21
    assert np.all(hc.tx_power_dbm[hc.kind == "small"] == 30.0)
    assert np.all(hc.carrier_ghz == 3.5)  # co-channel
    assert het.ues.distribution == "hotspots" and len(het.ues.hotspots) == 6
    cal = load_scenario("calib-38901-uma")
    cc = cal.cells()
    assert (cal.n_cells, cal.ues.count) == (57, 1710)
    assert np.all(cc.n_vertical == 10) and np.all(cc.tilt_deg == 12.0)
    assert np.all(cc.carrier_ghz == 6.0) and np.all(cc.tx_power_dbm == 49.0)
    p = cal.propagation
    assert p.association == "coupling-loss" and not p.fast_fading and p.noise_figure_db == 9.0
    assert cal.ues.mobility == "static" and cal.ues.traffic.model == "full-buffer"


def test_load_scenario_forms(tmp_path):
    s = load_scenario("hex7-uma")
    assert load_scenario(s) is s
    assert load_scenario(scenario_to_dict(s)) == s
    import yaml

    path = tmp_path / "mine.yml"
    path.write_text(yaml.safe_dump(scenario_to_dict(s)))
    assert load_scenario(path) == s
    assert load_scenario(str(path)) == s


def test_unknown_builtin_lists_valid_names():
    with pytest.raises(ValueError) as info:
        load_scenario("hex7-umaa")
    msg = str(info.value)
    assert "hex7-umaa" in msg
    for name in REQUIRED:
        assert name in msg


def test_scenarios_imports_nothing_else_of_the_project():
    import ast
    from pathlib import Path

    import rantwin.scenarios as pkg

    allowed = {"numpy", "yaml", "dataclasses", "hashlib", "json", "math", "os", "functools"}
    allowed |= {"__future__", "typing", "collections", "importlib", "pathlib", "torch"}
    for path in Path(pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert node.module.split(".")[0] in allowed, (path.name, node.module)
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 1, (path.name, node.module)  # only siblings
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in allowed, (path.name, alias.name)
