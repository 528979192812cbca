"""Fixtures of the CLI tests: a tiny scenario YAML and one small dataset made by the CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from rantwin.cli.main import main
from rantwin.scenarios import scenario_to_dict
from tests.conftest import small_variant

#: Arguments that keep every CLI simulation tiny (42 UEs x 20 TTIs come from the YAML).
FAST = ["--steps", "2", "--no-progress"]


def write_small_yaml(path: Path, **overrides) -> Path:
    """A 42-UE, 20-TTI hex7-uma variant written as YAML (for ``--scenario PATH``)."""
    path.write_text(yaml.safe_dump(scenario_to_dict(small_variant("hex7-uma", **overrides))))
    return path


def simulate(yaml_path: Path, out: Path, *extra: str) -> int:
    """``rantwin simulate`` on the tiny scenario, in-process; returns the exit code."""
    return main(["simulate", "--scenario", str(yaml_path), "--out", str(out), *FAST, *extra])


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative path -> digest)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def small_yaml(tmp_path_factory) -> Path:
    """Path of the tiny scenario YAML (shared, read-only)."""
    return write_small_yaml(tmp_path_factory.mktemp("scenario") / "small.yaml")


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory, small_yaml) -> Path:
    """A dataset of the tiny scenario, 2 episodes x 2 steps, with plots (shared, read-only:
    copy it before changing anything)."""
    out = tmp_path_factory.mktemp("dataset") / "d"
    assert simulate(small_yaml, out, "--episodes", "2", "--plots") == 0
    return out
