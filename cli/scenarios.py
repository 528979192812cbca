"""``rantwin scenarios``: list the built-in scenarios, or show one as YAML."""

from __future__ import annotations

import argparse

import yaml

from rantwin.scenarios import list_scenarios, load_scenario, scenario_to_dict


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb."""
    p = sub.add_parser(
        "scenarios",
        help="list the built-in scenarios (or show one)",
        description=(
            "List the built-in scenarios with a one-line summary each, or print one "
            "(a built-in name or a YAML file) in full as YAML, ready to edit."
        ),
    )
    p.add_argument("name", nargs="?", help="scenario name or YAML path to show in full")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the list, or one scenario."""
    if args.name:
        sc = load_scenario(args.name)
        print(yaml.safe_dump(scenario_to_dict(sc), sort_keys=False), end="")
        return 0
    rows = list_scenarios()
    width = max(len(n) for n, _ in rows)
    for name, summary in rows:
        print(f"{name:<{width}}  {summary}")
    return 0
