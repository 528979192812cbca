"""The SINR-tail diagnostic: its spread estimator, its bins, and a run end to end."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from rantwin.bench import sinr_tail
from rantwin.envs.backends.surrogate import default_checkpoint
from tests.conftest import simulate_small, small_variant


def test_unbiased_spread_reads_sigma_where_the_mean_of_four_run_stds_reads_low():
    rng = np.random.default_rng(0)
    four = rng.normal(0.0, 6.0, size=(20_000, 4))  # four runs per UE, sigma 6 dB
    many = rng.normal(0.0, 6.0, size=(2_000, 64))  # 64 draws per UE
    assert sinr_tail.unbiased_spread(four) == pytest.approx(6.0, rel=0.02)
    assert sinr_tail.unbiased_spread(many) == pytest.approx(6.0, rel=0.02)
    # what the first analysis compared: the mean of per-UE stds, low by c4 = 0.92 for four
    assert four.std(1, ddof=1).mean() == pytest.approx(0.921 * 6.0, rel=0.02)
    with pytest.raises(ValueError, match=r"\[n, k >= 2\]"):
        sinr_tail.unbiased_spread(four[:, :1])


def test_rows_bin_by_the_twin_median_and_count_holes():
    runs = np.array([[-10.0, -6.0, 0.0], [2.0, 4.0, 6.0], [20.0, 21.0, 22.0]])  # [3 UEs, 3 runs]
    draws = np.array([[-7.0, -3.0], [1.0, 3.0], [9.0, 30.0]])  # medians -5, 2, 19.5
    rows = sinr_tail.tail_rows(runs, draws, (-99.0, 0.0, 10.0, 99.0), threshold=-5.0)
    assert [r["bin"] for r in rows] == ["all", [-99.0, 0.0], [0.0, 10.0], [10.0, 99.0]]
    assert [r["n_ues"] for r in rows] == [3, 1, 1, 1]
    assert rows[0]["simulator"]["hole_rate"] == pytest.approx(2 / 9)
    assert rows[0]["twin"]["hole_rate"] == pytest.approx(1 / 6)
    assert rows[1]["simulator"]["hole_rate"] == pytest.approx(2 / 3)
    assert rows[1]["twin"]["p50_db"] == pytest.approx(-5.0)
    assert rows[3]["simulator"]["spread_db"] == pytest.approx(1.0)
    # an empty bin is left out
    rows = sinr_tail.tail_rows(runs, draws, (-99.0, -50.0, 0.0, 99.0), threshold=-5.0)
    assert [r["bin"] for r in rows] == ["all", [-50.0, 0.0], [0.0, 99.0]]
    with pytest.raises(ValueError, match="increasing"):
        sinr_tail.tail_rows(runs, draws, (0.0, 0.0), threshold=-5.0)
    with pytest.raises(ValueError, match="same UEs"):
        sinr_tail.tail_rows(runs[:2], draws, (-99.0, 99.0), threshold=-5.0)


def test_end_to_end_on_replicas(tmp_path, capsys):
    data = simulate_small(tmp_path, small_variant(), episodes=3, steps=1, replicas=True)
    md = tmp_path / "tail.md"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the twin's extrapolation warnings
        sinr_tail.main(["--checkpoint", str(default_checkpoint()),
                        "--data", f"small={data}", "--data", f"small={data}",
                        "--samples", "8", "--markdown", str(md), "--no-progress"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["datasets"] == {"small": [str(data), str(data)]}
    rows = out["groups"]["small"]
    assert rows[0]["bin"] == "all" and rows[0]["n_ues"] == 2 * 42  # the set twice, pooled
    assert sum(r["n_ues"] for r in rows[1:]) == rows[0]["n_ues"]
    for r in rows:
        for side in ("simulator", "twin"):
            assert np.isfinite(r[side]["spread_db"]) and 0 <= r[side]["hole_rate"] <= 1
    table = md.read_text().splitlines()
    assert table[0].startswith("| set, twin median |") and len(table) == 2 + len(rows)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--data", "nowhere=/no/such/dir"], "is not a dataset folder"),
        (["--data", "=/tmp"], "empty label"),
        (["--data", "/tmp", "--bins", "3,1"], "increasing"),
        (["--data", "/tmp", "--bins", "a,b"], "comma-separated numbers"),
        (["--data", "/tmp", "--samples", "1"], "--samples must be >= 2"),
    ],
)
def test_bad_arguments_exit_2_naming_the_rule(extra, message, capsys):
    with pytest.raises(SystemExit) as e:
        sinr_tail.main(["--checkpoint", "unused", *extra])
    assert e.value.code == 2
    assert message in capsys.readouterr().err
