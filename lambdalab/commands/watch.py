"""`lambdalab watch`: re-check the exercise you are on each time you save, Rustlings-style: the screen
cleared, the first check that does not pass, and on to the next exercise once one passes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lambdalab.commands import add_workspace_argument, exercise_named, workspace_from
from lambdalab.course.progress import ProgressStore
from lambdalab.grading.exercises import Exercise, load_catalogue
from lambdalab.grading.feedback import first_failure_lines
from lambdalab.grading.grader import grade_exercise
from lambdalab.grading.results import PASS
from lambdalab.grading.watcher import snapshot, watch

NAME = "watch"
HELP = "re-check the exercise you are on each time you save a file (Ctrl+C to stop)"
EXAMPLES = """\
  lambdalab watch                  starts at the first exercise that does not pass yet
  lambdalab watch proxy-response   starts at this one"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "exercise", nargs="?", metavar="EXERCISE", help="where to start (default: the first not passed)"
    )
    add_workspace_argument(parser)


def run(args: argparse.Namespace) -> int:
    workspace = workspace_from(args)
    exercises = [e for e in load_catalogue().exercises if (workspace / e.folder.name).is_dir()]
    store = ProgressStore()
    if args.exercise:
        current = exercise_named(args.exercise)
    else:
        passed = store.load().get("exercises", {})
        current = next(
            (e for e in exercises if not passed.get(e.id, {}).get("passed")), exercises[0] if exercises else None
        )
    if current is None:
        print("No exercises in this workspace.")
        return 1
    state = {"current": current}

    def check(_changed: list[str] | None = None) -> None:
        exercise: Exercise = state["current"]
        result = grade_exercise(exercise, workspace / exercise.folder.name)
        result.record_in(store)
        if sys.stdout.isatty():
            print("\033[2J\033[H", end="")
        print("\n".join(first_failure_lines(result)))
        if result.status == PASS:
            later = exercises[exercises.index(exercise) + 1 :] if exercise in exercises else []
            if later:
                state["current"] = later[0]
                print(
                    f"\nNext: {later[0].id}, in {Path(workspace.name) / later[0].folder.name}/ "
                    "(save a file there to check it)"
                )
            else:
                print("\nThat was the last exercise. Well done.")
        print(f"\nWatching {workspace} for saves... (Ctrl+C to stop)", flush=True)

    baseline = snapshot(workspace)  # before the first check: a save while it runs is seen
    check()
    try:
        watch(workspace, check, since=baseline)
    except KeyboardInterrupt:
        print()
    return 0
