"""The wheel: build it, install it into a fresh venv, use it from outside the repository.

The venv is made with ``--system-site-packages`` so torch and the other dependencies come
from the system; the wheel itself is installed with ``--no-deps``. The system also holds an
editable install of rantwin (a ``__editable__`` meta-path finder that setuptools *appends*
to ``sys.meta_path``): the venv's site-packages come first on ``sys.path`` and the regular
``PathFinder`` runs before the appended editable finder, so the venv's copy wins. The test
checks that for every imported ``rantwin`` module, so a change in that ordering fails it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".*_cache", "runs", "out"
)

CHECK = r"""
import json, sys
from pathlib import Path
import rantwin, rantwin.radio, rantwin.simulator, rantwin.scenarios, rantwin.datasets
import rantwin.cli.main
from rantwin.scenarios import load_scenario, list_scenarios
from rantwin.simulator.calibration import load_reference
sc = load_scenario("hex7-uma")
ref = load_reference()
from rantwin.envs.backends.surrogate import SurrogateBackend
twin_ok = SurrogateBackend(sc).n_members == 1  # loads the bundled twin from the wheel
files = {m: getattr(sys.modules[m], "__file__", None) for m in sys.modules
         if m == "rantwin" or m.startswith("rantwin.")}
print(json.dumps({
    "file": rantwin.__file__, "prefix": sys.prefix, "module_files": files,
    "n_cells": sc.n_cells, "scenarios": [n for n, _ in list_scenarios()],
    "ref_keys": sorted(ref), "twin_ok": twin_ok,
}))
"""


def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the freshly built wheel installed; returns the venv directory."""
    tmp = tmp_path_factory.mktemp("packaging")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=IGNORE)  # build from a copy: no build/ in the repo
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
          "-q", "-w", str(wheels)], cwd=tmp)  # fmt: skip
    (wheel,) = wheels.glob("rantwin-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("rantwin/__init__.py", "rantwin/cli/main.py",
                     "rantwin/scenarios/library/hex7-uma.yaml",
                     "rantwin/simulator/data/3gpp_38901_phase1.json",
                     "rantwin/surrogate/default_twin/model.safetensors",
                     "rantwin/surrogate/default_twin/twin.json",
                     "rantwin/envs/backends/surrogate.py"):  # fmt: skip
        assert required in names, f"{required} missing from {wheel.name}"
    assert not any(n.startswith(("tests/", "rantwin/tests/")) for n in names)
    env_dir = tmp / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    _run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-q",
          str(wheel)], cwd=tmp)  # fmt: skip
    return env_dir


def test_wheel_imports_from_the_venv_not_the_repo(installed, tmp_path):
    proc = _run([str(installed / "bin" / "python"), "-c", CHECK], cwd=tmp_path)
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    site = installed.resolve()
    assert Path(info["file"]).resolve().is_relative_to(site), info["file"]
    for module, file in info["module_files"].items():
        if file is not None:
            path = Path(file).resolve()
            assert path.is_relative_to(site), f"{module} imported from {file}"
            assert not path.is_relative_to(REPO), f"{module} imported from the repo: {file}"
    assert info["n_cells"] == 21
    assert "hex7-uma" in info["scenarios"] and len(info["scenarios"]) == 6
    assert info["ref_keys"], "calibration reference is empty"
    assert info["twin_ok"], "bundled twin did not load from the wheel"


def test_console_script_in_the_venv(installed, tmp_path):
    script = installed / "bin" / "rantwin"
    assert script.exists()
    assert script.read_text().startswith(f"#!{installed}"), "script is not bound to the venv"
    proc = _run([str(script), "--help"], cwd=tmp_path)
    assert "simulate" in proc.stdout and "calibrate" in proc.stdout
    proc = _run([str(script), "scenarios"], cwd=tmp_path)
    assert "hex7-uma" in proc.stdout
