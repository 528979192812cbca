"""``rantwin bench``: the project's benchmarks (``rantwin.bench``), from the command line.

``rantwin bench NAME [ARGS ...]`` runs ``python -m rantwin.bench.<name> ARGS ...`` (a dash in
NAME for the module's underscore); ``rantwin bench NAME --help`` shows that benchmark's own
options, and ``rantwin bench`` alone lists the benchmarks with the first line of each one's
docstring (read from the source, so listing imports nothing).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
from pathlib import Path

#: Benchmark names on the command line, in the order they are listed; module = name with "_".
BENCHES = (
    "simulator",
    "surrogate",
    "envs",
    "agents",
    "drift",
    "sinr-tail",
    "next-state",
    "diffusion",
    "twin-ablation",
    "default-twin",
)


def _module(name: str) -> str:
    return f"rantwin.bench.{name.replace('-', '_')}"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    p = sub.add_parser(
        "bench",
        help="run a benchmark (speed and fidelity figures of the issues), or list them",
        description=(
            "Run one of the project's benchmarks: `rantwin bench NAME [ARGS ...]` is "
            "`python -m rantwin.bench.NAME ARGS ...` (NAME with dashes). Each prints a JSON "
            "summary with its ratios measured in one run; `rantwin bench NAME --help` lists its "
            "options. `rantwin bench` alone lists the benchmarks. The GPU check that runs "
            "several of them is bench/device_check.sh."
        ),
        epilog=(
            "Examples:\n"
            "  rantwin bench                                  list the benchmarks\n"
            "  rantwin bench surrogate --checkpoint surrogate/default_twin --no-compile\n"
            "  rantwin bench envs --scenario hex7-uma --device cuda\n"
            "  rantwin bench agents --modes single-agent --compile-twin"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "name", nargs="?", choices=BENCHES, metavar="NAME", help=f"one of {', '.join(BENCHES)}"
    )
    p.add_argument(
        "args", nargs=argparse.REMAINDER, metavar="ARGS", help="the benchmark's own arguments"
    )
    p.set_defaults(func=run)


def summary(name: str) -> str:
    """First line of a benchmark module's docstring, read from its source without importing.

    Args:
        name: A name of :data:`BENCHES`.

    Returns:
        The line (empty if the module has no docstring).
    """
    spec = importlib.util.find_spec(_module(name))
    assert spec is not None and spec.origin is not None, name  # every name has a module
    doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def run(args: argparse.Namespace) -> int:
    """List the benchmarks, or run one with its arguments."""
    if args.name is None:
        width = max(map(len, BENCHES))
        for name in BENCHES:
            print(f"{name:<{width}}  {summary(name)}")
        return 0
    # its --help and usage errors end in SystemExit, which the CLI turns into the exit code
    importlib.import_module(_module(args.name)).main(args.args, prog=f"rantwin bench {args.name}")
    return 0
