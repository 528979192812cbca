"""`--help` of every verb, `rantwin scenarios`, `rantwin dataset` and `rantwin calibrate`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from rantwin import __version__
from rantwin.cli.main import main
from rantwin.scenarios import load_scenario, scenario_hash

from .test_cli_errors import console_script

BUILTINS = ("hex7-uma", "hex19-uma", "hex7-umi", "rma-sparse", "hetnet-macro-small",
            "calib-38901-uma")  # fmt: skip

HELP = {
    (): ["scenarios", "simulate", "dataset", "calibrate", "bench", "--version"],
    ("scenarios",): ["name"],
    ("simulate",): ["--scenario", "--family", "--worlds", "--episodes", "--steps", "--actions",
                    "--seed", "--out", "--resume", "--plots", "--no-progress"],
    ("dataset",): ["validate", "info"],
    ("dataset", "validate"): ["path", "Exit 0"],
    ("dataset", "info"): ["path"],
    ("calibrate",): ["--drops", "--seed", "--out", "--no-progress"],
}  # fmt: skip


@pytest.mark.parametrize("verb", list(HELP), ids=lambda v: " ".join(v) or "rantwin")
def test_help_of_every_verb(capsys, verb):
    assert main([*verb, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: rantwin {' '.join(verb)}".rstrip())
    for option in HELP[verb]:
        assert option in out, f"{option} missing from `rantwin {' '.join(verb)} --help`"


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"rantwin {__version__}"


def test_python_dash_m_runs_the_cli():
    run = subprocess.run([sys.executable, "-m", "rantwin", "--version"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"rantwin {__version__}"


def test_console_script_help():
    proc = subprocess.run([console_script(), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "simulate" in proc.stdout and "calibrate" in proc.stdout


def test_scenarios_lists_the_builtins(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines]
    assert sorted(names) == sorted(BUILTINS)
    assert all(len(line.split()) > 2 for line in lines), "each name has a summary"


@pytest.mark.parametrize("name", BUILTINS)
def test_scenarios_show_round_trips(tmp_path, capsys, name):
    assert main(["scenarios", name]) == 0
    path = tmp_path / f"{name}.yaml"
    path.write_text(capsys.readouterr().out)
    assert scenario_hash(load_scenario(str(path))) == scenario_hash(load_scenario(name))
    # and the shown file is accepted back by the verb itself
    assert main(["scenarios", str(path)]) == 0
    assert capsys.readouterr().out == path.read_text()


def test_dataset_validate_good_and_corrupted(tmp_path, small_dataset, capsys):
    assert main(["dataset", "validate", str(small_dataset)]) == 0
    assert capsys.readouterr().out.strip().endswith("valid")

    broken = tmp_path / "broken"
    shutil.copytree(small_dataset, broken)
    shard = broken / "ues" / "w00000-e0001.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert main(["dataset", "validate", str(broken)]) == 1
    out = capsys.readouterr().out
    assert "ues/w00000-e0001.parquet" in out
    assert "problem" in out.splitlines()[-1]

    shard.unlink()
    assert main(["dataset", "validate", str(broken)]) == 1
    assert "ues/w00000-e0001.parquet" in capsys.readouterr().out


def test_dataset_info_prints_json(small_dataset, capsys):
    assert main(["dataset", "info", str(small_dataset)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["complete"] is True
    assert info["shards"] == 2 and info["worlds"] == 1
    assert info["rows"]["cells"] == 21 * 2 * 2 and info["rows"]["ues"] == 42 * 2 * 2
    assert info["run_config"]["seed"] == 0 and info["run_config"]["episodes"] == 2


def test_calibrate_one_drop_meets_the_median_target(tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibrate", "--drops", "1", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert (out / "calibration.png").read_bytes()[:4] == b"\x89PNG"
    doc = json.loads((out / "calibration.json").read_text())
    assert doc["drops"] == 1
    for key in ("coupling_loss_db", "geometry_sinr_db"):
        gap = doc[key]["median_gap_db"]
        assert abs(gap) < 2.0, f"{key}: median gap {gap:+.2f} dB vs 3GPP (target < 2 dB)"
        assert f"{key}: median gap {gap:+.2f} dB" in printed


def test_no_help_shows_an_unformatted_percent_escape(capsys):
    """Descriptions are not %-formatted by argparse: a literal '%%' would show as '%%'."""
    from rantwin.cli.main import build_parser

    parser = build_parser()
    verbs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in verbs.choices.items():
        text = sub.format_help()
        assert "%%" not in text, f"`rantwin {name} --help` shows '%%'"
