"""The ``rantwin`` command line: one verb per job, each with ``--help``.

Bad input (unknown scenario, malformed YAML, out-of-range values, an output directory that
holds another dataset) ends with one clear message on stderr and exit code 2, never a
traceback. Set ``RANTWIN_DEBUG=1`` to see the traceback anyway.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rantwin.allocator import tune_allocator

from . import (
    bench,
    calibrate,
    dataset,
    demo,
    eval_policy,
    eval_surrogate,
    rollout,
    scenarios,
    simulate,
    train_agent,
    train_surrogate,
)

#: Verb modules; each has ``add_parser(subparsers)`` and sets ``func`` on its parser.
VERBS = (
    demo,
    scenarios,
    simulate,
    rollout,
    dataset,
    calibrate,
    train_surrogate,
    eval_surrogate,
    train_agent,
    eval_policy,
    bench,
)

EPILOG = """\
Typical session:
  rantwin demo                              the main job: train on the twin, evaluate, report
  rantwin scenarios                         list the built-in scenarios
  rantwin simulate --scenario hex7-uma --out data/hex7 --episodes 2 --steps 8 --plots
  rantwin dataset validate data/hex7        check a dataset, list every problem
  rantwin calibrate --out calib             compare with the 3GPP TR 38.901 calibration
  rantwin train-surrogate --data data/hex7 --out twin      train the generative twin
  rantwin eval-surrogate --ckpt twin --data REPLICAS --report rep   grade it vs the floor
  rantwin rollout --backend surrogate --scenario hex7-uma --out data/twin-rollouts
  rantwin train-agent --out runs/ppo         train PPO on the batched twin
  rantwin eval-policy --policy runs/ppo --policy static --backend both --report rep
  rantwin bench envs --scenario hex7-uma    env speed, surrogate against simulator
Run `rantwin VERB --help` for the options of each verb.
"""


class UsageError(Exception):
    """A user mistake the CLI reports in one line with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every verb registered."""
    parser = argparse.ArgumentParser(
        prog="rantwin",
        description=(
            "rantwin: closed-loop RAN control testbed. A stochastic system-level simulator "
            "(the teacher), datasets of its KPI reports, a generative twin learned from them, "
            "and Gymnasium / PettingZoo environments over both."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from rantwin import __version__

    parser.add_argument("--version", action="version", version=f"rantwin {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        verb.add_parser(sub)
    return parser


def _exit_code(exc: SystemExit) -> int:
    """The exit code a ``SystemExit`` (argparse's) stands for."""
    return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rantwin`` console script. Returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: return the code, not raise
        return _exit_code(exc)
    try:
        tune_allocator()  # see rantwin.allocator: big speed-up of batched tensor work
        return int(args.func(args) or 0)
    except SystemExit as exc:  # a verb's own parser (`rantwin bench NAME --help`, its errors)
        if isinstance(exc.code, str):  # SystemExit("message"), as the benches end on bad input
            print(f"rantwin {args.verb}: error: {exc.code}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        hint = "; rerun with --resume to finish" if hasattr(args, "resume") else ""
        print(f"rantwin {args.verb}: interrupted{hint}", file=sys.stderr)
        return 130
    except (ValueError, TypeError, FileNotFoundError, NotADirectoryError, UsageError) as exc:
        if os.environ.get("RANTWIN_DEBUG"):
            raise
        print(f"rantwin {args.verb}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
