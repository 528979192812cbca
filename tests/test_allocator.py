"""Allocator tuning: applied once on glibc, opt-out and bad values honoured."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

CODE = "from rantwin.allocator import tune_allocator; print(tune_allocator(), tune_allocator())"


def _run(value: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("RANTWIN_MALLOC", None)
    if value is not None:
        env["RANTWIN_MALLOC"] = value
    return subprocess.run(
        [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_tuned_by_default_on_glibc_and_idempotent() -> None:
    r = _run(None)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "True"]


def test_system_opts_out() -> None:
    r = _run("system")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]


def test_bad_value_names_variable_and_value() -> None:
    r = _run("fast")
    assert r.returncode != 0
    assert "RANTWIN_MALLOC" in r.stderr and "'fast'" in r.stderr
