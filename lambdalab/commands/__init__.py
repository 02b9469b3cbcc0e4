"""One module per subcommand of `lambdalab`, and what several of them share."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambdalab.course.model import Lesson


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def add_lesson_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lesson", metavar="LESSON", help="a lesson id or number (see `lambdalab lessons`)")


def lesson_named(key: str) -> Lesson:
    """The shipped lesson with this id or number; a UsageError that lists them when there is none."""
    from lambdalab.course.loader import load_course

    try:
        return load_course().get(key)
    except LookupError as exc:
        raise UsageError(str(exc)) from None


def exercise_named(key: str):
    """The shipped exercise with this id, folder name or number; a UsageError listing them when there is none."""
    from lambdalab.grading.exercises import load_catalogue

    try:
        return load_catalogue().get(key)
    except LookupError as exc:
        raise UsageError(str(exc)) from None


def add_workspace_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", metavar="DIR", help="the workspace (default: the one this folder is in)")


def workspace_from(args: argparse.Namespace):
    """The workspace folder: --workspace, or the one the current folder is inside."""
    from pathlib import Path

    from lambdalab.grading.workspace import NotAWorkspace, find_workspace

    try:
        return find_workspace(Path(args.workspace or "."))
    except NotAWorkspace as exc:
        raise UsageError(str(exc)) from None
