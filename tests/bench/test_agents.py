"""The PPO update ceiling of bench/agents: the model a row trains, its buffer full, one update."""

from __future__ import annotations

import json
import math

import pytest

from rantwin.bench import agents


def test_update_ceiling_times_one_update_of_the_rows_model():
    row = agents.update_ceiling("single-agent", 1, "hex7-uma")
    assert row["policy"] == "single-agent" and row["sb3_envs"] == 1
    assert row["update_samples"] == 2048  # SB3's default n_steps, one SB3 env
    assert row["optimizer"] == "Adam (fused)"  # the training's optimizer (agents.train)
    assert row["update_s"] > 0 and math.isfinite(row["update_ceiling_fps"])
    assert row["update_ceiling_fps"] == pytest.approx(2048 / row["update_s"])
    assert row["ceiling_ratio_vs_mobile_env"] == pytest.approx(
        row["update_ceiling_fps"] / agents.MOBILE_ENV_FPS
    )


def test_cli_update_ceiling_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "ceiling.json"
    agents.main(["--update-ceiling", "--modes", "single-agent", "--n-envs", "1",
                 "--threads", "1", "--json", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert "| single-agent | Adam (fused) | 1 | 1 | 2,048 |" in printed
    rows = json.loads(out.read_text())
    assert [r["policy"] for r in rows] == ["single-agent"]


def test_an_unknown_mode_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        agents.main(["--update-ceiling", "--modes", "multi"])
    assert e.value.code == 2
    assert "invalid choice: 'multi'" in capsys.readouterr().err


@pytest.mark.slow  # a full default rollout: 2048 env steps (about a minute on 2 cores)
def test_a_rows_sb3_fps_counts_the_update(tmp_path):
    """SB3 prints time/fps after a rollout and before its update: the row's figure is the
    whole ``learn`` (rollout and update), below that first print."""
    import yaml

    from rantwin.scenarios import scenario_to_dict
    from tests.conftest import small_variant

    sc = tmp_path / "small.yaml"
    sc.write_text(yaml.safe_dump(scenario_to_dict(small_variant())))
    row = agents.run_row("single-agent", 1, 1, str(sc))
    assert row["timesteps_sb3"] == 2048 and row["sb3_envs"] == 1
    assert 0 < row["sb3_fps"] < row["sb3_fps_first_print"]
    assert row["ratio_vs_mobile_env"] == pytest.approx(row["sb3_fps"] / agents.MOBILE_ENV_FPS)
