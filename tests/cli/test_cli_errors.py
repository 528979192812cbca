"""Bad input ends with exit code 2 and one clear line on stderr, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rantwin.cli.main import main

from .conftest import FAST, tree_digest, write_small_yaml


def run_error(argv: list[str], capsys) -> str:
    """Run ``main(argv)`` in-process, expect exit code 2 and one line on stderr; return it."""
    code = main(argv)
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, f"exit code {code}, stderr: {captured.err}"
    assert "Traceback" not in captured.err
    assert len(err.splitlines()) == 1, f"expected one line on stderr, got:\n{captured.err}"
    assert err.startswith(f"rantwin {argv[0]}: error: "), err
    return err


def sim(*args: str) -> list[str]:
    return ["simulate", *FAST, *args]  # later options win: a test may override --steps


def test_unknown_scenario_lists_the_builtins(tmp_path, capsys):
    err = run_error(sim("--scenario", "hex7-umaa", "--out", str(tmp_path / "d")), capsys)
    assert "'hex7-umaa'" in err
    for name in ("hex7-uma", "hex19-uma", "hex7-umi", "rma-sparse", "hetnet-macro-small"):
        assert name in err
    assert not (tmp_path / "d").exists()


def test_malformed_yaml(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [a\n  b: {\n")
    err = run_error(sim("--scenario", str(bad), "--out", str(tmp_path / "d")), capsys)
    assert "bad.yaml" in err and "line" in err
    assert not (tmp_path / "d").exists()


def test_yaml_with_unknown_key_names_its_path(tmp_path, capsys):
    path = write_small_yaml(tmp_path / "typo.yaml")
    doc = yaml.safe_load(path.read_text())
    doc["timing"]["ttis_per_superstepp"] = 10  # misspelled: must not be silently ignored
    path.write_text(yaml.safe_dump(doc))
    err = run_error(sim("--scenario", str(path), "--out", str(tmp_path / "d")), capsys)
    assert "timing.ttis_per_superstepp" in err and "ttis_per_superstep" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--episodes", "-1"], "--episodes must be >= 1, got -1"),
        (["--episodes", "0"], "--episodes must be >= 1, got 0"),
        (["--steps", "0"], "--steps must be >= 1, got 0"),
        (["--seed", "-3"], "--seed must be >= 0, got -3"),
        (["--worlds", "3"], "--worlds 3: only with --family"),
    ],
)
def test_bad_numbers_with_scenario(tmp_path, small_yaml, capsys, args, needle):
    out = tmp_path / "d"
    err = run_error(sim("--scenario", str(small_yaml), "--out", str(out), *args), capsys)
    assert needle in err
    assert not out.exists()


def test_unknown_family_lists_the_families(tmp_path, capsys):
    err = run_error(sim("--family", "uma-iregular", "--out", str(tmp_path / "d")), capsys)
    assert "'uma-iregular'" in err and "uma-irregular" in err and "umi-dense" in err


def test_missing_actions_file(tmp_path, small_yaml, capsys):
    out = tmp_path / "d"
    argv = sim("--scenario", str(small_yaml), "--actions", str(tmp_path / "nope.yaml"))
    err = run_error([*argv, "--out", str(out)], capsys)
    assert "--actions" in err and "nope.yaml" in err and "static" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("entry", "needles"),
    [
        ({"step": 0, "tilt_deg": float("nan")}, ["tilt_deg", "cell 0", "finite"]),
        ({"step": 0, "tilt_deg": 40}, ["tilt_deg", "cell 0", "[0, 15]", "40"]),
        ({"step": 1, "tilt_deg": [6] * 20 + [99]}, ["tilt_deg", "cell 20", "99"]),
        ({"step": 0, "tilt_dg": 6}, ["unknown key", "'tilt_dg'"]),
        ({"step": 0, "cio_db": [0, 1]}, ["cio_db", "21 values"]),
    ],
)
def test_bad_action_schedule_leaves_nothing_behind(tmp_path, small_yaml, capsys, entry, needles):
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(yaml.safe_dump({"schedule": [entry]}))
    out = tmp_path / "d"
    argv = sim("--scenario", str(small_yaml), "--actions", str(schedule), "--out", str(out))
    err = run_error(argv, capsys)
    for needle in needles:
        assert needle in err, (needle, err)
    # a bad schedule is caught before the dataset is started: a corrected rerun needs no --resume
    assert not out.exists()


def test_out_dir_that_is_not_a_dataset_is_left_alone(tmp_path, small_yaml, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my files")
    before = tree_digest(out)
    for extra in ([], ["--resume"]):
        err = run_error(sim("--scenario", str(small_yaml), "--out", str(out), *extra), capsys)
        assert "not a rantwin dataset" in err and "mine" in err
        assert tree_digest(out) == before
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    err = run_error(sim("--scenario", str(small_yaml), "--out", str(not_a_dir)), capsys)
    assert "not a directory" in err


def test_dataset_info_of_a_non_dataset(tmp_path, capsys):
    err = run_error(["dataset", "info", str(tmp_path / "missing")], capsys)
    assert "does not exist" in err
    (tmp_path / "x.txt").write_text("x")
    err = run_error(["dataset", "info", str(tmp_path)], capsys)
    assert "manifest.json" in err


@pytest.mark.parametrize(
    ("args", "needle"), [(["--drops", "0"], "--drops"), (["--seed", "-1"], "--seed")]
)
def test_calibrate_bad_numbers_write_nothing(tmp_path, capsys, args, needle):
    out = tmp_path / "cal"
    err = run_error(["calibrate", *args, "--out", str(out), "--no-progress"], capsys)
    assert needle in err
    assert not out.exists()


def test_scenarios_unknown_name(capsys):
    err = run_error(["scenarios", "nope"], capsys)
    assert "hex7-uma" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "--out", "x"],  # neither --scenario nor --family
        ["simulate", "--scenario", "hex7-uma", "--family", "hetnet", "--out", "x"],
        ["simulate", "--scenario", "hex7-uma", "--episodes", "two", "--out", "x"],
        ["simulate", "--scenario", "hex7-uma"],  # no --out
        ["nonsense"],
        [],
    ],
)
def test_usage_errors_return_2_without_traceback(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("rantwin")
    assert "error:" in err
    assert not (tmp_path / "x").exists()


def test_debug_env_shows_the_exception(tmp_path, monkeypatch):
    monkeypatch.setenv("RANTWIN_DEBUG", "1")
    with pytest.raises(ValueError, match="unknown scenario"):
        main(["simulate", "--scenario", "nope", "--out", str(tmp_path / "d")])


def console_script() -> str:
    """The installed ``rantwin`` script next to this interpreter (or on PATH)."""
    here = Path(sys.executable).parent / "rantwin"
    found = str(here) if here.exists() else shutil.which("rantwin")
    assert found, "the `rantwin` console script is not installed"
    return found


def test_console_script_reports_errors_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RANTWIN_DEBUG"}
    proc = subprocess.run(
        [console_script(), "simulate", "--scenario", "hex7-uma", "--out", str(tmp_path / "d"),
         "--episodes", "-2", "--no-progress"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "rantwin simulate: error: --episodes must be >= 1, got -2"
    assert proc.stdout == ""
    assert not (tmp_path / "d").exists()
