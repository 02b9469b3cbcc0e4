"""`lambdalab hint`: the next hint of an exercise's ladder (each reveal recorded); the reference solution
once the exercise passes."""

from __future__ import annotations

import argparse

from lambdalab.commands import UsageError, exercise_named
from lambdalab.course.progress import ProgressStore, exercise_progress

NAME = "hint"
HELP = "show the next hint for an exercise (and, once it passes, the reference solution)"
EXAMPLES = """\
  lambdalab hint proxy-response              the next hint; earlier ones are shown again above it
  lambdalab hint proxy-response --solution   the reference solution, after the exercise passes"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("exercise", metavar="EXERCISE", help="an exercise id, folder name or number")
    parser.add_argument("--solution", action="store_true", help="show the reference solution (after a pass)")


def run(args: argparse.Namespace) -> int:
    exercise = exercise_named(args.exercise)
    store = ProgressStore()
    done = exercise_progress(store.load(), exercise.id)
    if args.solution:
        if not done.get("passed"):
            raise UsageError(
                f"the solution of {exercise.id} opens once your checks pass: lambdalab check {exercise.id}"
            )
        for name in exercise.starter:
            print(f"==> {name} <==\n{exercise.solution_path(name).read_text('utf-8')}")
        return 0
    shown = min(done.get("hints", 0) + 1, len(exercise.hints))
    store.record_hint(exercise.id, shown)
    for number, text in enumerate(exercise.hints[:shown], start=1):
        print(f"Hint {number} of {len(exercise.hints)}: {text}")
    if shown == len(exercise.hints):
        print("That was the last hint.")
    return 0
