"""rantwin.scenarios: immutable scenario descriptions, YAML I/O, built-ins and random worlds.

A :class:`Scenario` (frozen dataclass) describes one world: deployment (sites, sectors),
propagation environment, UE population, timing and diurnal load, handover parameters, the
controllable knobs and the reward weights. :class:`CellConfig` holds the knob values in
force (read-only arrays); changing a knob creates a new config, never a new scenario.

Typical use::

    from rantwin.scenarios import load_scenario, sample_deployment
    s = load_scenario("hex7-uma")          # built-in, or a path to a .yaml file
    cells = s.cells()                      # CellTable of [n_cells] arrays
    cfg = s.default_config().replace(cio_db=...)
    world = sample_deployment(np.random.default_rng(0), "uma-irregular")

This package imports nothing else of the project.
"""

from .config import CellConfig
from .families import FAMILIES, sample_deployment
from .io import (
    builtin_names,
    list_scenarios,
    load_scenario,
    load_yaml,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
)
from .layouts import hex_layout, hex_site_positions, n_hex_sites
from .schema import (
    ASSOCIATIONS,
    DEFAULT_DIURNAL_ENVELOPE,
    DEFAULT_KNOBS,
    KNOB_NAMES,
    PATHLOSS_MODELS,
    CellTable,
    Deployment,
    FieldError,
    Handover,
    Hotspot,
    Knob,
    Propagation,
    RewardWeights,
    Scenario,
    Sector,
    Site,
    SpeedClass,
    Timing,
    Traffic,
    UEPopulation,
)

__all__ = [
    "ASSOCIATIONS",
    "DEFAULT_DIURNAL_ENVELOPE",
    "DEFAULT_KNOBS",
    "FAMILIES",
    "KNOB_NAMES",
    "PATHLOSS_MODELS",
    "CellConfig",
    "CellTable",
    "Deployment",
    "FieldError",
    "Handover",
    "Hotspot",
    "Knob",
    "Propagation",
    "RewardWeights",
    "Scenario",
    "Sector",
    "Site",
    "SpeedClass",
    "Timing",
    "Traffic",
    "UEPopulation",
    "builtin_names",
    "hex_layout",
    "hex_site_positions",
    "list_scenarios",
    "load_scenario",
    "load_yaml",
    "n_hex_sites",
    "sample_deployment",
    "scenario_from_dict",
    "scenario_hash",
    "scenario_to_dict",
]
