"""Scenario (de)serialisation: dicts, YAML files, the built-in library, hashes.

YAML format
-----------
A scenario file is the dict form of the dataclasses in :mod:`rantwin.scenarios.schema`:
every key is a field name, nested dataclasses are mappings, tuples are lists; omitted fields
take their defaults. Unknown keys are errors (a misspelled key is never silently ignored), and
every error names the full field path, the value and the rule, e.g.
``ues.traffic.modle: unknown key; valid keys: model, file_size_mbit, arrival_rate_per_s``.

Layout shorthand: ``deployment`` may hold a ``layout`` mapping instead of ``isd_m`` /
``n_rings``, which expands into a hexagonal cluster of identical sites
(:func:`rantwin.scenarios.layouts.hex_layout`)::

    deployment:
      scs_khz: 30            # optional, default 30
      wraparound: true       # optional, default true with a layout
      layout:
        type: hex            # the only layout type
        n_rings: 1           # 1 → 7 sites, 2 → 19 sites
        isd_m: 500
        height_m: 25
        azimuths_deg: [30, 150, 270]   # optional, the default
        kind: macro                    # optional, the default
        sector:              # fields common to every sector (all Sector fields but azimuth_deg)
          tilt_deg: 8
          tx_power_dbm: 46
          carrier_ghz: 3.5
          bandwidth_mhz: 20
          n_prb: 51
          n_vertical: 1      # optional, default 1
      sites:                 # optional extra sites appended after the layout's (e.g. small cells)
        - {x_m: 120, y_m: 80, height_m: 10, kind: small, sectors: [...]}

:func:`scenario_to_dict` always writes the expanded form (every site listed), so
``scenario_from_dict(scenario_to_dict(s)) == s`` exactly.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .layouts import hex_layout
from .schema import (
    Deployment,
    FieldError,
    Scenario,
    Sector,
    _coerce_scalar,
)

__all__ = [
    "builtin_names",
    "list_scenarios",
    "load_scenario",
    "load_yaml",
    "scenario_from_dict",
    "scenario_hash",
    "scenario_to_dict",
]

_LAYOUT_KEYS = ("type", "n_rings", "isd_m", "height_m", "azimuths_deg", "kind", "sector")
_LAYOUT_REQUIRED = ("type", "n_rings", "isd_m", "height_m", "sector")
_DEPLOYMENT_LAYOUT_KEYS = ("layout", "sites", "wraparound", "scs_khz")


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _check_mapping(value: Any, path: str, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise FieldError(
            path, f"expected a mapping ({what}), got {value!r} ({type(value).__name__})"
        )
    return value


def _check_keys(
    d: Mapping[Any, Any], path: str, valid: tuple[str, ...], required: tuple[str, ...]
) -> None:
    for key in d:
        if key not in valid:
            raise FieldError(_join(path, key), f"unknown key; valid keys: {', '.join(valid)}")
    for key in required:
        if key not in d:
            raise FieldError(_join(path, key), "required key missing")


def _is_dataclass_name(name: str) -> type | None:
    from . import schema

    cls = getattr(schema, name, None)
    return cls if isinstance(cls, type) and dataclasses.is_dataclass(cls) else None


def _build_value(value: Any, annotation: str, path: str) -> Any:
    annotation = annotation.strip()
    if annotation.endswith("| None"):
        return None if value is None else _build_value(value, annotation[: -len("| None")], path)
    if annotation.startswith("tuple[") and annotation.endswith(", ...]"):
        inner = annotation[len("tuple[") : -len(", ...]")]
        cls = _is_dataclass_name(inner)
        if cls is None:
            return value  # scalars: the constructor checks them and names the index
        if not isinstance(value, list | tuple):
            raise FieldError(path, f"expected a list of {inner}, got {value!r}")
        return tuple(_build_value(v, inner, f"{path}[{i}]") for i, v in enumerate(value))
    cls = _is_dataclass_name(annotation)
    if cls is not None and not isinstance(value, cls):
        return _build(cls, value, path)
    return value


def _build(cls: type, d: Any, path: str) -> Any:
    """Build dataclass ``cls`` from mapping ``d`` found at ``path``, checking every key."""
    _check_mapping(d, path, cls.__name__)
    if cls is Deployment and "layout" in d:
        return _build_layout_deployment(d, path)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    required = tuple(
        f.name
        for f in fields.values()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    _check_keys(d, path, tuple(fields), required)
    kwargs = {name: _build_value(d[name], str(fields[name].type), _join(path, name)) for name in d}
    try:
        return cls(**kwargs)
    except FieldError as exc:
        raise exc.with_prefix(path) from None


def _build_layout_deployment(d: Mapping[Any, Any], path: str) -> Deployment:
    """Expand the ``deployment.layout`` shorthand (see the module docstring)."""
    _check_keys(d, path, _DEPLOYMENT_LAYOUT_KEYS, ("layout",))
    lpath = _join(path, "layout")
    layout = _check_mapping(d["layout"], lpath, "layout")
    _check_keys(layout, lpath, _LAYOUT_KEYS, _LAYOUT_REQUIRED)
    if layout["type"] != "hex":
        raise FieldError(_join(lpath, "type"), f"{layout['type']!r} is not one of 'hex'")
    n_rings = _coerce_scalar(_join(lpath, "n_rings"), layout["n_rings"], "int")
    isd_m = _coerce_scalar(_join(lpath, "isd_m"), layout["isd_m"], "float")
    height_m = _coerce_scalar(_join(lpath, "height_m"), layout["height_m"], "float")
    spath = _join(lpath, "sector")
    template = _check_mapping(layout["sector"], spath, "common sector fields")
    template_keys = tuple(f.name for f in dataclasses.fields(Sector) if f.name != "azimuth_deg")
    _check_keys(
        template, spath, template_keys, tuple(k for k in template_keys if k != "n_vertical")
    )
    sector = _build(Sector, {**template, "azimuth_deg": 0.0}, spath)
    kwargs: dict[str, Any] = {
        "tilt_deg": sector.tilt_deg,
        "tx_power_dbm": sector.tx_power_dbm,
        "carrier_ghz": sector.carrier_ghz,
        "bandwidth_mhz": sector.bandwidth_mhz,
        "n_prb": sector.n_prb,
        "n_vertical": sector.n_vertical,
    }
    if "azimuths_deg" in layout:
        azimuths = layout["azimuths_deg"]
        if not isinstance(azimuths, list | tuple) or not azimuths:
            raise FieldError(
                _join(lpath, "azimuths_deg"), f"expected a non-empty list, got {azimuths!r}"
            )
        kwargs["azimuths"] = tuple(
            _coerce_scalar(f"{lpath}.azimuths_deg[{i}]", a, "float") for i, a in enumerate(azimuths)
        )
    if "kind" in layout:
        kwargs["kind"] = layout["kind"]
    scs_khz = _coerce_scalar(_join(path, "scs_khz"), d.get("scs_khz", 30.0), "float")
    try:
        base = hex_layout(n_rings, isd_m, height_m, scs_khz=scs_khz, wraparound=False, **kwargs)
    except FieldError as exc:
        if exc.path == "scs_khz":
            raise exc.with_prefix(path) from None
        if exc.path.startswith("azimuths"):
            exc = FieldError("azimuths_deg" + exc.path[len("azimuths") :], exc.detail)
        elif exc.path.startswith("sites[") and ".sectors[" in exc.path:
            # e.g. n_prb not fitting the bandwidth: report it on the common sector template
            exc = FieldError("sector." + exc.path.rsplit(".", 1)[-1], exc.detail)
        raise exc.with_prefix(lpath) from None
    extra: tuple[Any, ...] = ()
    if "sites" in d:
        extra = _build_value(d["sites"], "tuple[Site, ...]", _join(path, "sites"))
    try:
        return Deployment(
            sites=base.sites + extra,
            wraparound=d.get("wraparound", True),
            isd_m=base.isd_m,
            n_rings=base.n_rings,
            scs_khz=scs_khz,
        )
    except FieldError as exc:
        raise exc.with_prefix(path) from None


def scenario_from_dict(d: Mapping[str, Any]) -> Scenario:
    """Build a :class:`Scenario` from its dict form.

    The dict is what :func:`scenario_to_dict` writes or what a YAML file holds (the layout
    shorthand of the module docstring is allowed).

    Args:
        d: The mapping.

    Returns:
        The validated scenario.

    Raises:
        ValueError: (:class:`FieldError`) unknown or missing key, wrong type or value out of
            range, naming the full field path, the value and the rule.
    """
    return _build(Scenario, d, "")


def _to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [_to_plain(v) for v in obj]
    return obj


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The JSON-safe dict form of a scenario (every field, sites written out).

    Args:
        scenario: The scenario.

    Returns:
        Nested dicts / lists / str / int / float / bool / None;
        ``scenario_from_dict(scenario_to_dict(s)) == s``.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"expected a Scenario, got {type(scenario).__name__}")
    return _to_plain(scenario)


def scenario_hash(scenario: Scenario) -> str:
    """A stable content hash of a scenario.

    Args:
        scenario: The scenario.

    Returns:
        The first 16 hex digits of the SHA-256 of the canonical JSON (sorted keys, no
        whitespace) of :func:`scenario_to_dict`.
    """
    text = json.dumps(
        scenario_to_dict(scenario), sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(f"{source}{where}: malformed YAML: {problem}") from None


def _scenario_from_text(text: str, source: str) -> Scenario:
    data = _parse_yaml(text, source)
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{source}: a scenario file must hold a mapping at top level, got {type(data).__name__}"
        )
    try:
        return scenario_from_dict(data)
    except FieldError as exc:
        raise ValueError(f"{source}: {exc}") from None


def load_yaml(path: str | os.PathLike[str]) -> Scenario:
    """Load a scenario from a YAML file (parsed with ``yaml.safe_load``).

    Args:
        path: Path of a ``.yaml`` / ``.yml`` file in the format of the module docstring.

    Returns:
        The validated scenario.

    Raises:
        ValueError: Missing file, malformed YAML (names the file and line) or an invalid
            scenario (names the file and the field path).
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{p}: scenario file not found")
    return _scenario_from_text(p.read_text(encoding="utf-8"), str(p))


def _library() -> Any:
    return resources.files(__package__).joinpath("library")


@functools.cache
def builtin_names() -> tuple[str, ...]:
    """Names of the built-in scenarios (the ``library/*.yaml`` package data), sorted.

    Returns:
        The names.
    """
    return tuple(
        sorted(
            entry.name[: -len(".yaml")]
            for entry in _library().iterdir()
            if entry.name.endswith(".yaml")
        )
    )


@functools.cache
def _load_builtin(name: str) -> Scenario:
    entry = _library().joinpath(f"{name}.yaml")
    return _scenario_from_text(entry.read_text(encoding="utf-8"), f"library/{name}.yaml")


def list_scenarios() -> list[tuple[str, str]]:
    """The built-in scenarios and their one-line summaries.

    Returns:
        ``[(name, summary), ...]`` sorted by name; summary = first line of the description.
    """
    out = []
    for name in builtin_names():
        description = _load_builtin(name).description.strip()
        out.append((name, description.splitlines()[0] if description else ""))
    return out


def load_scenario(x: Scenario | str | os.PathLike[str] | Mapping[str, Any]) -> Scenario:
    """Resolve a scenario given in any of the usual forms.

    Args:
        x: A :class:`Scenario` (returned as is), a built-in name (see
            :func:`list_scenarios`), a path to a ``.yaml`` / ``.yml`` file, or a dict.

    Returns:
        The scenario.

    Raises:
        ValueError: Unknown built-in name (listing the valid ones), or any error of
            :func:`load_yaml` / :func:`scenario_from_dict`.
    """
    if isinstance(x, Scenario):
        return x
    if isinstance(x, Mapping):
        return scenario_from_dict(x)
    if isinstance(x, os.PathLike) or (
        isinstance(x, str) and (x.endswith((".yaml", ".yml")) or os.sep in x)
    ):
        return load_yaml(x)
    if isinstance(x, str):
        if x in builtin_names():
            return _load_builtin(x)
        raise ValueError(
            f"unknown scenario {x!r}; valid built-in names: {', '.join(builtin_names())} "
            "(or pass a path to a .yaml file)"
        )
    raise TypeError(
        f"load_scenario expects a Scenario, a built-in name, a YAML path or a dict, "
        f"got {type(x).__name__}"
    )
