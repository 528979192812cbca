"""``rantwin simulate``: a dataset that validates, bitwise determinism, resume after kill -9,
and no overwriting of an existing dataset."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rantwin.cli.main import main
from rantwin.datasets import open_dataset, validate_dataset

from .conftest import simulate, tree_digest

TABLES = ("cells", "ues", "ue_tti")
N_CELLS, N_UES, TTIS = 21, 42, 20


def assert_same_content(a: Path, b: Path) -> None:
    da, db = open_dataset(a), open_dataset(b)
    assert da.shard_ids == db.shard_ids
    assert da.worlds() == db.worlds()
    assert da.run_config == db.run_config
    for name in TABLES:
        ta, tb = da.table(name), db.table(name)
        assert ta.num_rows > 0 or name == "ue_tti"
        assert ta.equals(tb), f"table {name} differs between {a} and {b}"


def test_simulate_writes_valid_dataset_with_plots(small_dataset):
    assert validate_dataset(small_dataset) == []
    ds = open_dataset(small_dataset)
    assert ds.complete
    assert ds.shard_ids == ("w00000-e0000", "w00000-e0001")
    assert ds.rows("cells") == N_CELLS * 2 * 2  # cells x steps x episodes
    assert ds.rows("ues") == N_UES * 2 * 2
    assert ds.run_config["episodes"] == 2 and ds.run_config["steps"] == 2
    for png in ("cdfs.png", "map.png"):
        data = (small_dataset / "plots" / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_simulate_prints_where_it_wrote(tmp_path, small_yaml, capsys):
    assert simulate(small_yaml, tmp_path / "d") == 0
    captured = capsys.readouterr()
    assert str(tmp_path / "d") in captured.out
    assert captured.err == ""  # --no-progress: no bar, no warnings
    assert not (tmp_path / "d" / "plots").exists()  # only with --plots


def test_same_seed_same_bytes_other_seed_differs(tmp_path, small_yaml, small_dataset):
    again, other = tmp_path / "again", tmp_path / "other"
    assert simulate(small_yaml, again, "--episodes", "2") == 0
    assert simulate(small_yaml, other, "--episodes", "2", "--seed", "1") == 0
    assert_same_content(small_dataset, again)
    # bitwise: the same Parquet bytes, shard by shard
    sha = {k: v["sha256"] for k, v in open_dataset(small_dataset).manifest["shards"].items()}
    assert sha == {k: v["sha256"] for k, v in open_dataset(again).manifest["shards"].items()}
    ds0, ds1 = open_dataset(small_dataset), open_dataset(other)
    assert ds0.table("cells").num_rows == ds1.table("cells").num_rows
    for name in ("cells", "ues"):
        assert not ds0.table(name).equals(ds1.table(name)), f"seed 1 gave the same {name}"


def test_batch_changes_speed_not_the_dataset(tmp_path, small_yaml, small_dataset, capsys):
    """Episodes stepped together give the shards they give one at a time, byte for byte."""
    one, three = tmp_path / "one", tmp_path / "three"
    assert simulate(small_yaml, one, "--episodes", "5", "--batch", "1") == 0
    assert simulate(small_yaml, three, "--episodes", "5", "--batch", "3") == 0
    sha = {k: v["sha256"] for k, v in open_dataset(one).manifest["shards"].items()}
    assert sha == {k: v["sha256"] for k, v in open_dataset(three).manifest["shards"].items()}
    assert len(sha) == 5
    # the first two shards of the default-batch dataset are the same episodes too
    two = {k: v["sha256"] for k, v in open_dataset(small_dataset).manifest["shards"].items()}
    assert two == {k: sha[k] for k in two}
    assert simulate(small_yaml, tmp_path / "bad", "--batch", "0") == 2
    assert "--batch must be >= 1, got 0" in capsys.readouterr().err


def _shard_files(path: Path) -> dict[str, int]:
    """mtime_ns of every shard file the manifest lists."""
    manifest = json.loads((path / "manifest.json").read_text())
    return {
        rel: (path / rel).stat().st_mtime_ns
        for entry in manifest["shards"].values()
        for rel in entry["sha256"]
    }


def _listed_shards(path: Path) -> int:
    try:
        return len(json.loads((path / "manifest.json").read_text())["shards"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


def test_resume_after_kill_9_equals_uninterrupted_run(tmp_path, small_yaml):
    episodes = 8  # ~0.4 s per shard: time to kill after the first shard lands
    args = ["--scenario", str(small_yaml), "--episodes", str(episodes), "--steps", "2"]
    args += ["--batch", "2"]  # shards land two at a time: a kill mid-run stays likely
    killed, done = tmp_path / "killed", tmp_path / "reference"
    cmd = [sys.executable, "-m", "rantwin.cli.main", "simulate", *args, "--out", str(killed)]
    with open(tmp_path / "log.txt", "wb") as log:
        proc = subprocess.Popen([*cmd, "--no-progress"], stdout=log, stderr=log, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 60
            while proc.poll() is None and _listed_shards(killed) < 1:
                assert time.monotonic() < deadline, "no shard written within 60 s"
                time.sleep(0.01)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
    interrupted = proc.returncode == -signal.SIGKILL
    if not interrupted:  # it finished before the kill: only the no-op resume is checked
        assert proc.returncode == 0, (tmp_path / "log.txt").read_text()
    before = _shard_files(killed)
    assert before, "the manifest lists no shard"
    if interrupted:
        assert not open_dataset(killed).complete
        assert len(open_dataset(killed).shard_ids) < episodes

    # the uninterrupted reference, then the resume (both in-process)
    assert main(["simulate", *args, "--out", str(done), "--no-progress"]) == 0
    assert main(["simulate", *args, "--out", str(killed), "--no-progress", "--resume"]) == 0
    assert validate_dataset(killed) == []
    assert open_dataset(killed).complete
    assert_same_content(killed, done)
    after = _shard_files(killed)
    assert {k: after[k] for k in before} == before, "resume rewrote finished shards"
    assert not list(killed.rglob("*.tmp")), "temporary files left behind"

    # resuming a finished run is a no-op for the data
    parquet = {k: v for k, v in tree_digest(killed).items() if k.endswith(".parquet")}
    assert main(["simulate", *args, "--out", str(killed), "--no-progress", "--resume"]) == 0
    assert {k: v for k, v in tree_digest(killed).items() if k.endswith(".parquet")} == parquet
    assert validate_dataset(killed) == []


def test_refuses_to_overwrite_and_to_resume_other_args(tmp_path, small_yaml, small_dataset, capsys):
    digest = tree_digest(small_dataset)
    assert simulate(small_yaml, small_dataset, "--episodes", "2") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--resume" in err and "Traceback" not in err
    assert tree_digest(small_dataset) == digest

    for flag, value, key in (("--seed", "5", "seed"), ("--episodes", "3", "episodes")):
        extra = ["--episodes", "2", flag, value] if flag != "--episodes" else [flag, value]
        assert simulate(small_yaml, small_dataset, *extra, "--resume") == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "'" + key + "'" in err, err
        assert tree_digest(small_dataset) == digest


def test_schedule_file_drives_the_config_and_edits_block_resume(tmp_path, small_yaml, capsys):
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("schedule:\n  - step: 1\n    tilt_deg: 12\n")
    out = tmp_path / "d"
    assert simulate(small_yaml, out, "--actions", str(schedule)) == 0
    assert validate_dataset(out) == []
    cells = open_dataset(out).table("cells").to_pydict()
    tilt = {
        (s, c): t for s, c, t in zip(cells["step"], cells["cell"], cells["tilt_deg"], strict=True)
    }
    assert tilt[(1, 0)] == 12 and tilt[(0, 0)] != 12
    digest = tree_digest(out)
    capsys.readouterr()
    schedule.write_text("schedule:\n  - step: 1\n    tilt_deg: 3\n")  # same path, new content
    assert simulate(small_yaml, out, "--actions", str(schedule), "--resume") == 2
    err = capsys.readouterr().err
    assert "actions_sha256" in err and "Traceback" not in err
    assert tree_digest(out) == digest


def test_replicas_share_the_scene(tmp_path, small_yaml):
    from rantwin.cli.main import main
    from rantwin.datasets import open_dataset

    out = tmp_path / "rep"
    args = ["simulate", "--scenario", str(small_yaml), "--steps", "1", "--episodes", "2"]
    assert main([*args, "--replicas", "--out", str(out), "--no-progress"]) == 0
    ues = open_dataset(out).table("ues").to_pydict()
    import numpy as np

    ep = np.asarray(ues["episode"])
    x = np.asarray(ues["x_m"])
    cl = np.asarray(ues["coupling_loss_db"])
    assert np.array_equal(x[ep == 0], x[ep == 1])
    assert not np.array_equal(cl[ep == 0], cl[ep == 1])


def test_start_hour_moves_step_zero_without_changing_the_layouts():
    from rantwin.cli.simulate import SimulateArgs, check, world_scenario

    base = dict(scenario=None, family="uma-irregular", worlds=8, episodes=1, steps=2,
                actions="static", seed=3, out="unused")  # fmt: skip
    plain = [world_scenario(SimulateArgs(**base), w) for w in range(8)]
    moved = [world_scenario(SimulateArgs(**base, start_hour="random"), w) for w in range(8)]
    hours = [sc.timing.start_hour for sc in moved]
    assert len(set(hours)) > 1 and all((h * 4) % 1 == 0 and 0 <= h < 24 for h in hours)
    for a, b in zip(plain, moved, strict=True):
        assert a.deployment == b.deployment and a.ues == b.ues  # same world, other hour
    fixed = world_scenario(SimulateArgs(**base, start_hour="6.5"), 0)
    assert fixed.timing.start_hour == 6.5
    with pytest.raises(ValueError, match="--start-hour"):
        check(SimulateArgs(**base, start_hour="noon"))
    # a manifest without the option stays as before (old datasets still resume)
    assert "start_hour" not in SimulateArgs(**base).manifest_config()
