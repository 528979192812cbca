"""The README's two commands: the main job is `rantwin demo`, the test command is `.ci/run`'s."""

import re
from pathlib import Path

from rantwin.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Two commands") : text.index("## Command line")]
    return re.findall(r"```bash\n(.*?)\n```", section, re.S)


def test_two_commands():
    main_job, tests = _bash_blocks()
    assert main_job.startswith("pip install torch==2.13.0 && ")
    assert main_job.endswith("&& rantwin demo")
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == tests


def test_demo_runs_without_arguments():
    args = build_parser().parse_args(["demo"])
    assert args.verb == "demo" and args.out == "runs/demo"
