"""`lambdalab validate [PATH]`: check course content against the schemas, the Lambda limits and the course rules."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, replace
from pathlib import Path

from lambdalab import content
from lambdalab.commands import UsageError
from lambdalab.course.loader import LESSON_FILE, lessons_dir, load_course
from lambdalab.course.rules import Findings, ScenarioChecker, check_course
from lambdalab.grading.exercises import EXERCISE_FILE, exercises_dir
from lambdalab.grading.validation import check_exercises
from lambdalab.inputs import InputError

NAME = "validate"
HELP = "check lessons, exercises and scenarios against the schemas, the Lambda limits and the course rules"
EXAMPLES = """\
  lambdalab validate                                   the whole shipped course and its scenarios
  lambdalab validate lessons/03-concurrency-and-throttling   one lesson (links resolve against its siblings)
  lambdalab validate lessons                           every lesson in a folder
  lambdalab validate my-scenario.yaml                  one scenario
  lambdalab validate exercises/01-proxy-response       one exercise: its reference solution must pass, its starter fail
  lambdalab validate --json                            the findings as JSON, for CI

exit status: 0 when nothing is wrong (demos that wait for an engine feature are notes, not errors),
1 when something is, 2 when PATH does not exist"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="a lesson folder, a folder of lessons or scenarios, or one YAML file (default: everything shipped)",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as one JSON object")


def run(args: argparse.Namespace) -> int:
    checked, found = validate(Path(args.path) if args.path else None)
    found.errors = [_relative(e) for e in found.errors]
    found.notices = [_relative(e) for e in found.notices]
    if args.json:
        print(
            json.dumps(
                {
                    "checked": checked,
                    "errors": [asdict(e) for e in found.errors],
                    "notes": [asdict(e) for e in found.notices],
                },
                indent=2,
            )
        )
    else:
        for error in found.errors:
            print(error)
        waiting: dict[tuple[str, str], list[InputError]] = {}
        for notice in found.notices:
            waiting.setdefault((notice.file, notice.waits_for), []).append(notice)
        for (file, feature), notices in waiting.items():
            first = notices[0]
            keys = ", ".join(n.path for n in notices)
            print(f"note: {file}:{first.line}:{first.column}: waits for {feature}, not simulated yet ({keys})")
        what = ", ".join(f"{n} {kind}" for kind, n in checked.items() if n) or "nothing"
        verdict = f"{len(found.errors)} problem(s)" if found.errors else "no problems"
        tail = f"; {len(waiting)} demo scenario feature(s) not simulated yet (see the notes)" if waiting else ""
        print(f"checked {what}: {verdict}{tail}")
    return 1 if found.errors else 0


def _relative(error: InputError) -> InputError:
    """Name files as the user would type them: relative to the current folder when they are under it."""
    path = Path(error.file)
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        return replace(error, file=os.path.relpath(path))
    return error


def validate(path: Path | None) -> tuple[dict[str, int], Findings]:
    """What was checked (a count per kind) and what was found."""
    courses: list[tuple[Path, Path | None]] = []  # (lessons root, the one lesson folder to check or None for all)
    scenario_files: list[Path] = []
    exercise_sets: list[tuple[Path, Path | None]] = []  # (exercises root, the one exercise folder or None for all)
    if path is not None and path.exists():
        folder = (path.parent if path.is_file() else path).resolve()
        if (folder / EXERCISE_FILE).is_file():
            exercise_sets = [(folder.parent, folder)]
        elif any(folder.glob(f"*/{EXERCISE_FILE}")):
            exercise_sets = [(folder, None)]
    if path is None:
        courses, scenario_files = [(lessons_dir(), None)], list(content.shipped_scenarios().values())
        exercise_sets = [(exercises_dir(), None)]
    elif not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    elif exercise_sets:
        pass  # an exercise folder, or a folder of them: nothing else to check there
    elif path.is_file() and path.name != LESSON_FILE:
        scenario_files = [path]
    else:
        folder = (path.parent if path.is_file() else path).resolve()
        if (folder / LESSON_FILE).is_file():
            courses = [(folder.parent, folder)]  # one lesson; its links resolve against the lessons beside it
        else:
            courses, scenario_files = [(folder, None)], sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])

    scenarios, found = ScenarioChecker(), Findings()
    checked = {"lessons": 0, "scenarios": 0, "exercises": 0}
    for root, only in courses:
        course = load_course(root)
        checked["lessons"] += sum(only is None or lesson.folder == only for lesson in course.lessons)
        checked["lessons"] += len({e.file for e in course.errors if only is None or Path(e.file).parent == only})
        found.extend(check_course(course, scenarios, only))
    for scenario in scenario_files:
        checked["scenarios"] += 1
        found.extend(scenarios.check(scenario))
    for root, only in exercise_sets:
        count, errors = check_exercises(root, only)
        checked["exercises"] += count
        found.errors.extend(errors)
    return checked, found
