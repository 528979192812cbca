"""Open-loop action schedules: which config is injected at which super-step.

Six kinds, shared by ``rantwin simulate`` and batch-mode rollouts:

- ``static``: the scenario's default config for the whole episode;
- ``random``: every super-step, each controllable knob of each cell drawn uniformly in its
  range (sleep: each cell asleep with probability :data:`RANDOM_SLEEP_PROBABILITY`, at least
  one cell kept awake) — configs that cover the knob space, for training a twin;
- ``random-hold``: a ``random`` config at step 0, then at every super-step a fresh
  ``random`` config with probability :data:`HOLD_CHANGE_PROBABILITY`, else the previous one
  held — so a twin also sees steps where the config did *not* change (a config change
  itself causes handovers; holding steps are what a deployed static policy looks like);
- ``random-default``: ``random-hold`` whose fresh configs (step 0 included) are the
  scenario's default config with probability :data:`DEFAULT_PROBABILITY` — so a twin also
  sees the default config, held and left, which uniform draws never make (the default
  has every cell at full power, the corner of the power range: no uniform draw puts every
  cell within 0.5 dB of it), while that is the config of every static baseline and of
  every env episode's start;
- ``random-knobwise``: ``random-default`` whose other fresh configs keep each knob (for
  every cell at once) at its default with probability :data:`KNOB_DEFAULT_PROBABILITY`,
  each knob on its own coin — so a twin also sees one knob at its default next to other
  random knobs. ``random-default`` never does, and it matters: the simulator's lower SINR
  tail is short whenever every CIO is 0, whatever the power offsets and tilts are
  (``docs/twin.md``, *Grading*);
- a YAML/JSON file::

      schedule:
        - step: 0
          tilt_deg: 6              # a scalar applies to every cell
        - step: 48
          sleep: [0, 0, 1, 0, ...] # or one value per cell
          cio_db: 3

  Each entry injects the knobs it names at its step; the others keep their value. Steps must
  increase; unknown keys are errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .config import CellConfig
from .schema import Scenario

#: Probability that ``random`` puts a cell to sleep at a super-step.
RANDOM_SLEEP_PROBABILITY = 0.1
#: Probability that ``random-hold`` draws a new config at a super-step (else it holds).
HOLD_CHANGE_PROBABILITY = 0.5
#: Probability that a fresh ``random-default`` config is the scenario's default one.
DEFAULT_PROBABILITY = 0.25
#: Probability that a fresh non-default ``random-knobwise`` config keeps a knob at its default.
KNOB_DEFAULT_PROBABILITY = 0.5
#: The schedule keywords (anything else names a schedule file).
SCHEDULE_KEYWORDS = ("static", "random", "random-hold", "random-default", "random-knobwise")
_KNOBS = ("power_offset_db", "tilt_deg", "cio_db", "sleep")


@dataclass(frozen=True)
class ActionSchedule:
    """A source of per-step configs for one episode.

    Attributes:
        kind: One of :data:`SCHEDULE_KEYWORDS` or ``"file"``.
        entries: For ``"file"``: ``(step, {knob: value})`` sorted by step.
        source: Where the schedule came from (for manifests and messages).
    """

    kind: str
    entries: tuple[tuple[int, Mapping[str, Any]], ...] = ()
    source: str = ""

    def configs(
        self, scenario: Scenario, n_steps: int, rng: np.random.Generator
    ) -> list[CellConfig]:
        """The config of each super-step ``0 .. n_steps-1``.

        Args:
            scenario: The scenario the configs are for.
            n_steps: Episode length in super-steps.
            rng: Draws of ``random`` schedules (ignored otherwise).

        Returns:
            ``n_steps`` validated configs.
        """
        base = CellConfig.default(scenario)
        if self.kind == "static":
            return [base] * n_steps
        if self.kind == "random":
            return [random_config(scenario, rng) for _ in range(n_steps)]
        if self.kind in ("random-hold", "random-default", "random-knobwise"):
            p_default = 0.0 if self.kind == "random-hold" else DEFAULT_PROBABILITY
            knobwise = self.kind == "random-knobwise"

            def fresh() -> CellConfig:
                # the random config is drawn either way: a fixed draw count per step
                # (random-hold draws no default coin, random-default no knob coins, so
                # their datasets stay as they were)
                default = p_default > 0.0 and rng.random() < p_default
                cfg = random_config(scenario, rng)
                if knobwise:
                    keep = rng.random(len(_KNOBS)) < KNOB_DEFAULT_PROBABILITY
                    cfg = _keep_defaults(cfg, base, scenario, keep)
                return base if default else cfg

            held = [fresh()]
            for _ in range(n_steps - 1):
                change = rng.random() < HOLD_CHANGE_PROBABILITY
                new = fresh()
                held.append(new if change else held[-1])
            return held[:n_steps]
        out, cfg, i = [], base, 0
        for step in range(n_steps):
            while i < len(self.entries) and self.entries[i][0] <= step:
                cfg = _apply(cfg, scenario, self.entries[i][1], f"{self.source}[{i}]")
                i += 1
            out.append(cfg)
        return out


def random_config(scenario: Scenario, rng: np.random.Generator) -> CellConfig:
    """Each controllable knob uniform in its range; draws a fixed amount of numbers."""
    base = CellConfig.default(scenario)
    n = scenario.n_cells
    arrays: dict[str, np.ndarray] = {}
    for name in _KNOBS:
        u = rng.random(n)  # drawn for every knob, used or not: fixed draw count
        knob = scenario.knob(name)
        if knob is None:
            continue
        if name == "sleep":
            sleep = u < RANDOM_SLEEP_PROBABILITY
            if sleep.all():
                sleep[int(np.argmax(u))] = False
            arrays[name] = sleep
        else:
            arrays[name] = knob.low + (knob.high - knob.low) * u
    return base.replace(scenario, **arrays)


def _keep_defaults(
    cfg: CellConfig, base: CellConfig, scenario: Scenario, keep: np.ndarray
) -> CellConfig:
    """``cfg`` with each knob ``_KNOBS[k]`` for which ``keep[k]`` set back to ``base``'s.

    Input: ``keep`` # [len(_KNOBS)] bool.
    """
    arrays = {
        name: np.asarray(getattr(base, name)) for name, k in zip(_KNOBS, keep, strict=True) if k
    }
    return cfg.replace(scenario, **arrays) if arrays else cfg


def _apply(cfg: CellConfig, scenario: Scenario, entry: Mapping[str, Any], where: str) -> CellConfig:
    n = scenario.n_cells
    arrays: dict[str, np.ndarray] = {}
    for name, value in entry.items():
        if name == "step":
            continue
        if name not in _KNOBS:
            raise ValueError(
                f"{where}: unknown key {name!r}; valid keys: step, {', '.join(_KNOBS)}"
            )
        arr = np.asarray(value, dtype=float)
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        if arr.shape != (n,):
            raise ValueError(
                f"{where}.{name}: expected a scalar or {n} values (one per cell), "
                f"got shape {arr.shape}"
            )
        arrays[name] = arr.astype(bool) if name == "sleep" else arr
    try:
        return cfg.replace(scenario, **arrays)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def load_schedule(spec: str) -> ActionSchedule:
    """Parse a keyword of :data:`SCHEDULE_KEYWORDS` or a YAML/JSON schedule file.

    Raises:
        ValueError: Malformed file, unknown key, steps not increasing.
        FileNotFoundError: ``spec`` is neither a keyword nor an existing file.
    """
    if spec in SCHEDULE_KEYWORDS:
        return ActionSchedule(kind=spec, source=spec)
    path = Path(spec)
    if not path.is_file():
        words = ", ".join(repr(k) for k in SCHEDULE_KEYWORDS)
        raise FileNotFoundError(
            f"--actions {spec!r}: expected one of {words} or a schedule file; no such file"
        )
    text = path.read_text()
    try:
        doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}"
        ) from exc
    if not isinstance(doc, Mapping) or set(doc) != {"schedule"}:
        raise ValueError(f"{path}: expected a mapping with the single key 'schedule'")
    raw = doc["schedule"]
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: schedule must be a non-empty list of entries")
    entries, last = [], -1
    for i, e in enumerate(raw):
        if not isinstance(e, Mapping) or "step" not in e:
            raise ValueError(f"{path}: schedule[{i}] must be a mapping with a 'step' key")
        step = e["step"]
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"{path}: schedule[{i}].step must be an integer >= 0, got {step!r}")
        if step <= last:
            raise ValueError(f"{path}: schedule[{i}].step {step} must be greater than {last}")
        unknown = sorted(set(e) - {"step", *_KNOBS})
        if unknown:
            raise ValueError(
                f"{path}: schedule[{i}]: unknown key {unknown[0]!r}; valid keys: step, "
                f"{', '.join(_KNOBS)}"
            )
        entries.append((step, dict(e)))
        last = step
    return ActionSchedule(kind="file", entries=tuple(entries), source=str(path))
