"""A tiny scenario on disk (YAML) for agent tests: CLI and JSON need a path, not an object."""

from __future__ import annotations

import pytest
import yaml

from rantwin.scenarios import scenario_to_dict
from tests.conftest import small_variant
from tests.envs.conftest import _one_torch_thread  # noqa: F401  (autouse: one torch thread)


@pytest.fixture(scope="session")
def tiny_yaml(tmp_path_factory):
    """hex7-uma with 42 UEs and 20 TTIs per super-step, as a YAML file."""
    path = tmp_path_factory.mktemp("agents") / "tiny.yaml"
    path.write_text(yaml.safe_dump(scenario_to_dict(small_variant("hex7-uma"))))
    return str(path)
