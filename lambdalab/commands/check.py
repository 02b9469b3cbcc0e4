"""`lambdalab check`: grade the workspace, as an instructor's `grade` would, and record progress."""

from __future__ import annotations

import argparse
import json

from lambdalab.commands import add_workspace_argument, exercise_named, workspace_from
from lambdalab.course.progress import ProgressStore
from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.exports import learner_json
from lambdalab.grading.feedback import exercise_lines
from lambdalab.grading.grader import grade_exercise
from lambdalab.grading.results import PASS, WorkspaceResult

NAME = "check"
HELP = "check your exercises (one, or all in the workspace) and record your progress"
EXAMPLES = """\
  lambdalab check                  every exercise in the workspace
  lambdalab check proxy-response   one exercise (by id, folder name or number)
  lambdalab check 3 --json         the result as JSON (shared/spec/cli.md)

exit status: 0 when every check passes, 1 when one does not, 2 outside a workspace"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("exercise", nargs="?", metavar="EXERCISE", help="an exercise id, folder name or number")
    add_workspace_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    workspace = workspace_from(args)
    exercises = (
        [exercise_named(args.exercise)]
        if args.exercise
        else [e for e in load_catalogue().exercises if (workspace / e.folder.name).is_dir()]
    )
    store = ProgressStore()
    results = []
    for exercise in exercises:
        result = grade_exercise(exercise, workspace / exercise.folder.name)
        results.append(result)
        result.record_in(store)
        if not args.json:
            print("\n".join(exercise_lines(result)) + "\n", flush=True)
    for note in store.notes:
        print(note)
    outcome = WorkspaceResult(str(workspace), results)
    if args.json:
        print(json.dumps(learner_json(outcome), indent=2))
    elif len(results) > 1:
        passed = sum(r.status == PASS for r in results)
        print(f"{passed} of {len(results)} exercises pass: {outcome.score:g}/{outcome.max_score:g} points.")
    return 0 if results and all(r.status == PASS for r in results) else 1
