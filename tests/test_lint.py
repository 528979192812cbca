"""The configured linters pass: ruff (E, F, UP, I, B, D), ruff format and mypy."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPED = [
    "radio",
    "scenarios",
    "simulator",
    "datasets",
    "surrogate",
    "envs",
    "agents",
    "bench",
    "cli",
]


def test_ruff_clean():
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_clean():
    # the code blocks of the README and docs too: what a reader copies should be formatted
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_clean():
    r = subprocess.run(
        [sys.executable, "-m", "mypy", *TYPED], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr
