"""Fixtures for the datasets tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_helpers import write_dataset


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "ds")
