"""`lambdalab start`: a workspace with every exercise's starter files and instructions."""

from __future__ import annotations

import argparse
from pathlib import Path

from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.workspace import start_workspace

NAME = "start"
HELP = "create a workspace with every exercise's starter files (existing files are kept)"
EXAMPLES = """\
  lambdalab start                    creates ./lambdalab-exercises
  lambdalab start ~/lambda-course    anywhere you like; run it again to add new exercises, your files are kept"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir",
        nargs="?",
        default="lambdalab-exercises",
        metavar="DIR",
        help="where to create the workspace (default: ./lambdalab-exercises)",
    )


def run(args: argparse.Namespace) -> int:
    catalogue = load_catalogue()
    target = Path(args.dir)
    written, kept = start_workspace(target, catalogue.exercises)
    print(
        f"Workspace {target}: {len(catalogue.exercises)} exercises, {len(written)} files written"
        + (f", {len(kept)} of yours kept as they were" if kept else "")
        + "."
    )
    if catalogue.exercises:
        first = catalogue.exercises[0]
        print(f"Start with {target / first.folder.name / 'README.md'}, then: cd {target} && lambdalab check {first.id}")
    return 0
