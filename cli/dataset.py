"""``rantwin dataset``: inspect and validate datasets."""

from __future__ import annotations

import argparse
import json

from rantwin.datasets import open_dataset, validate_dataset


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the verb and its sub-verbs."""
    p = sub.add_parser(
        "dataset",
        help="validate or summarise a dataset",
        description="Work with datasets written by `rantwin simulate` (or by your own tools "
        "in the schema of docs/dataset-schema.md).",
    )
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    v = s.add_parser(
        "validate",
        help="check a dataset and report every problem found",
        description="Check manifest, checksums, schema, keys, row counts and physical "
        "ranges; print every problem. Exit 0 if valid, 1 if problems were found.",
    )
    v.add_argument("path", help="dataset directory")
    v.set_defaults(func=run_validate)
    i = s.add_parser("info", help="print the manifest summary of a dataset")
    i.add_argument("path", help="dataset directory")
    i.set_defaults(func=run_info)


def run_validate(args: argparse.Namespace) -> int:
    """Print problems; exit 1 when there are any."""
    problems = validate_dataset(args.path)
    if not problems:
        print(f"{args.path}: valid")
        return 0
    for p in problems:
        print(p)
    print(f"{args.path}: {len(problems)} problem(s)")
    return 1


def run_info(args: argparse.Namespace) -> int:
    """Print run config, shards, worlds and row counts."""
    ds = open_dataset(args.path)
    info = {
        "complete": ds.complete,
        "run_config": ds.run_config,
        "shards": len(ds.shard_ids),
        "worlds": len(ds.world_ids),
        "rows": {name: ds.rows(name) for name in ("cells", "ues", "ue_tti")},
    }
    print(json.dumps(info, indent=2))
    return 0
