"""The default-twin build and the ablations read the same training datasets."""

from pathlib import Path

from rantwin.bench.default_twin import (
    SCENARIO_HOURS,
    TRAIN_FAMILIES,
    TRAIN_SCENARIOS,
    scenario_data_dir,
    train_data_dirs,
)


def test_training_data_dirs_of_both_recipes():
    work = Path("w")
    day = train_data_dirs(work, whole_day=True)
    assert len(day) == len(TRAIN_FAMILIES) + len(TRAIN_SCENARIOS) * len(SCENARIO_HOURS)
    assert Path("w/data/hex7-uma-h12x40") in day and Path("w/data/uma-irregular") in day
    night = train_data_dirs(work, whole_day=False)
    assert night[-len(TRAIN_SCENARIOS) :] == [work / "data" / f"{n}-x40" for n in TRAIN_SCENARIOS]
    assert scenario_data_dir(work, "hex7-uma", 6) == Path("w/data/hex7-uma-h06x40")
    # --scenario-episodes: other datasets, never a resumed one of another count
    fewer = train_data_dirs(work, whole_day=True, episodes=4)
    assert Path("w/data/hex7-uma-h12x4") in fewer and Path("w/data/uma-irregular") in fewer
    # the midnight datasets of 4 episodes keep the names of the builds before the option
    assert scenario_data_dir(work, "hex7-uma", None, 4) == Path("w/data/hex7-uma")


def test_scenario_episodes_must_be_positive(capsys):
    from rantwin.cli.main import main

    assert main(["bench", "default-twin", "--scenario-episodes", "0"]) == 2
    assert "--scenario-episodes: 0, need at least 1" in capsys.readouterr().err


def _candidate(tmp_path: Path, seed: int, loss: float):
    """A finished candidate's twin.json as train-surrogate writes it, and its datasets."""
    import json

    from rantwin.bench.default_twin import candidate_dir
    from rantwin.surrogate.checkpoint import META, features_signature
    from rantwin.surrogate.graph import GraphConfig
    from rantwin.surrogate.pipeline import manifest_digest
    from rantwin.surrogate.presets import get_preset

    data, val = [tmp_path / "a", tmp_path / "b"], [tmp_path / "v"]
    for i, d in enumerate(data + val):
        d.mkdir(exist_ok=True)
        (d / "manifest.json").write_text(json.dumps({"dataset": i}))
    model_cfg, _ = get_preset("v05")
    meta = {
        "model": model_cfg.to_dict(),
        "graph": {k: getattr(GraphConfig(), k) for k in GraphConfig.__dataclass_fields__},
        "features": features_signature(),
        "preset": "v05",
        "train": {"seed": seed, "max_minutes": 30.0},
        "data": [{"path": str(p), "manifest_sha256": manifest_digest(p)} for p in data],
        "val_data": [{"path": str(p), "manifest_sha256": manifest_digest(p)} for p in val],
        "metrics": {"best_val_loss": loss},
    }
    ckpt = candidate_dir(tmp_path, seed)
    ckpt.mkdir()
    (ckpt / META).write_text(json.dumps(meta))
    return ckpt, data, val


def test_a_finished_candidate_is_reused_only_for_its_own_run(tmp_path):
    import json

    from rantwin.bench.default_twin import finished_loss
    from rantwin.surrogate.checkpoint import META

    ckpt, data, val = _candidate(tmp_path, 1, 1.59)
    assert finished_loss(ckpt, 1, "v05", 30.0, data, val) == 1.59
    assert finished_loss(ckpt, 0, "v05", 30.0, data, val) is None  # another seed
    assert finished_loss(ckpt, 1, "v05", 10.0, data, val) is None  # another budget
    assert finished_loss(ckpt, 1, "v05", 30.0, data[:1], val) is None  # other data
    (data[0] / "manifest.json").write_text("{}")  # the dataset was regenerated
    assert finished_loss(ckpt, 1, "v05", 30.0, data, val) is None
    assert finished_loss(tmp_path / "nowhere", 1, "v05", 30.0, data, val) is None
    meta = json.loads((ckpt / META).read_text())
    meta["features"]["ue"] = meta["features"]["ue"][:-1]  # trained by older code
    (ckpt / META).write_text(json.dumps(meta))
    assert finished_loss(ckpt, 1, "v05", 30.0, data, val) is None


def test_the_lowest_validation_loss_is_kept():
    import pytest

    from rantwin.bench.default_twin import select_candidate

    assert select_candidate({0: 1.596, 1: 1.5905}) == 1
    assert select_candidate({3: 1.5, 2: 1.5}) == 2  # a tie goes to the lowest seed
    with pytest.raises(ValueError, match="losses"):
        select_candidate({})


def test_grade_only_needs_a_checkpoint_and_the_grading(tmp_path, capsys):
    import pytest

    from rantwin.bench.default_twin import main as build
    from rantwin.cli.main import main

    # a missing checkpoint is named before anything is simulated or graded
    with pytest.raises(SystemExit, match="twin.json not found"):
        build(["--grade-only", "--work", str(tmp_path / "w"), "--out", str(tmp_path / "none")])
    assert not (tmp_path / "w").exists()
    # through the CLI: the bench's message on one line, exit 2
    code = main(["bench", "default-twin", "--grade-only", "--skip-eval", "--work",
                 str(tmp_path / "w"), "--out", str(tmp_path)])  # fmt: skip
    assert code == 2
    assert "rantwin bench: error: --grade-only and --skip-eval" in capsys.readouterr().err


def test_the_checkpoint_is_published_to_out_even_when_out_is_the_build_folder(tmp_path):
    from rantwin.bench.default_twin import publish

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    for f in ("model.safetensors", "metrics.csv", "twin.json"):
        (ckpt / f).write_text(f)
    out = publish(ckpt, tmp_path / "out")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["metrics.csv", "model.safetensors", "twin.json"]
    assert (out / "twin.json").read_text() == "twin.json"
    # --out naming the build's own folder (WORK/ckpt) failed at the very end of a build
    assert publish(ckpt, tmp_path / "ckpt") == tmp_path / "ckpt"
    assert (ckpt / "model.safetensors").read_text() == "model.safetensors"


def test_data_steps_train_on_actions_and_validate_on_the_fixed_schedule():
    from rantwin.bench.default_twin import VAL_ACTIONS, data_steps

    work = Path("w")
    steps = data_steps(work, 0, 60, 8, 40, whole_day=True, actions="random-knobwise")
    outs = [s[s.index("--out") + 1] for s in steps]
    assert len(set(outs)) == len(outs)  # each step its own dataset: they may run at once
    assert outs[:-2] == [str(d) for d in train_data_dirs(work, whole_day=True)]
    acts = [s[s.index("--actions") + 1] for s in steps]
    assert acts[:-2] == ["random-knobwise"] * (len(steps) - 2)
    assert acts[-2:] == [VAL_ACTIONS, VAL_ACTIONS]
    # the seeds of the builds before the option: their datasets still resume
    seeds = {o: s[s.index("--seed") + 1] for o, s in zip(outs, steps, strict=True)}
    assert seeds["w/data/umi-street"] == "4" and seeds["w/data/hex7-uma-h12x40"] == "102"
    assert seeds["w/data/val-umi-dense"] == "20" and seeds["w/data/val-hex7-umi"] == "21"


def test_parallel_data_steps_write_the_same_datasets(tmp_path):
    import os

    import pytest

    from rantwin.bench.default_twin import run_all

    def step(out):
        return ["simulate", "--scenario", "hex7-uma", "--episodes", "1", "--steps", "1",
                "--actions", "random-knobwise", "--seed", "3", "--out", str(out),
                "--no-progress"]  # fmt: skip

    run_all([step(tmp_path / "a"), step(tmp_path / "b")], jobs=2)
    run_all([step(tmp_path / "c")], jobs=1)
    for name in ("a", "b"):
        for f in sorted((tmp_path / "c").rglob("*.parquet")):
            rel = f.relative_to(tmp_path / "c")
            assert (tmp_path / name / rel).read_bytes() == f.read_bytes()
    # each process gets its share of the cores as threads (spinning OpenMP workers of two
    # processes on the same cores starve each other)
    from rantwin.bench.default_twin import child_env

    assert child_env(2)["OMP_NUM_THREADS"] == str(max(1, (os.cpu_count() or 1) // 2))
    bad = ["simulate", "--scenario", "no-such-scenario", "--out", str(tmp_path / "x")]
    with pytest.raises(SystemExit, match="step failed"):
        run_all([bad, bad], jobs=2)
