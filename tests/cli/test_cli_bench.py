"""`rantwin bench`: lists the benchmarks and runs one with its own arguments."""

from __future__ import annotations

import importlib

import pytest

from rantwin.cli.bench import BENCHES
from rantwin.cli.main import main


def test_bench_alone_lists_every_benchmark_with_its_docstring(capsys):
    assert main(["bench"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(BENCHES)
    for name, line in zip(BENCHES, lines, strict=True):
        module = importlib.import_module(f"rantwin.bench.{name.replace('-', '_')}")
        assert line.endswith(module.__doc__.strip().splitlines()[0])


@pytest.mark.parametrize("name", BENCHES)
def test_each_benchmark_takes_its_arguments_from_the_cli(capsys, name):
    assert main(["bench", name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: rantwin bench {name} [-h]")


def test_a_benchmark_error_is_one_line_and_exit_2(capsys):
    # forwarded to bench/envs, which rejects the device before measuring anything
    assert main(["bench", "envs", "--device", "gpu0", "--scenario", "hex7-uma"]) == 2
    err = capsys.readouterr().err
    assert "device='gpu0'" in err and "Traceback" not in err


def test_a_usage_error_of_a_benchmark_exits_2_naming_it(capsys):
    assert main(["bench", "surrogate", "--repeats", "many"]) == 2
    err = capsys.readouterr().err
    assert "rantwin bench surrogate: error: argument --repeats" in err


def test_an_unknown_benchmark_names_the_choices(capsys):
    assert main(["bench", "speed"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'speed'" in err and "default-twin" in err
