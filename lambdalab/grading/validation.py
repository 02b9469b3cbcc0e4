"""Course rules for exercises, for `lambdalab validate`: the schema, each `expect` item, the lesson it
belongs to, each check's `task` (a step the instructions number), and the proof that the checks mean
something: the reference solution passes every check (hidden ones too) and the starter fails at least one."""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from lambdalab.course.loader import load_course
from lambdalab.grading import assertions, variation
from lambdalab.grading.exercises import Exercise, load_catalogue
from lambdalab.grading.grader import grade_exercise, run_check
from lambdalab.grading.results import PASS
from lambdalab.inputs import Document, InputError, load_yaml


def check_exercises(root: Path | None = None, only: Path | None = None) -> tuple[int, list[InputError]]:
    """(exercises checked, problems found)."""
    catalogue = load_catalogue(root)
    errors = [e for e in catalogue.errors if only is None or Path(e.file).parent == only]
    lessons = {lesson.id for lesson in load_course().lessons}
    exercises = [e for e in catalogue.exercises if only is None or e.folder == only]
    ids: dict[str, Path] = {}
    for exercise in exercises:
        doc = load_yaml(exercise.folder / "exercise.yaml")
        if exercise.id in ids:
            errors.append(doc.error(("id",), f"{ids[exercise.id].name} has the same id"))
        ids[exercise.id] = exercise.folder
        if exercise.lesson not in lessons:
            errors.append(doc.error(("lesson",), f"no lesson with the id {exercise.lesson!r}"))
        for check in exercise.checks:
            if check.task is not None and check.task > exercise.tasks:
                errors.append(
                    doc.error(
                        ("checks", check.order - 1, "task"),
                        f"task {check.task}, but the instructions number {exercise.tasks} step(s) "
                        "(top-level `1.` items or `## 1.` headings)",
                    )
                )
            for index, item in enumerate(check.expect):
                for problem in _expect_problems(check.kind, item):
                    errors.append(doc.error(("checks", check.order - 1, "expect", index), problem))
            for where, problem in variation.problems(check):
                errors.append(doc.error(("checks", check.order - 1, *where), problem))
        errors.extend(proof_problems(exercise, doc))
    return len(exercises) + len({e.file for e in errors if e in catalogue.errors}), errors


def _expect_problems(kind: str, item: dict[str, Any]) -> list[str]:
    if kind in ("handler", "edge"):
        return assertions.problems(item)
    if kind == "policy":
        wanted = [k for k in ("allow", "deny") if k in item]
        if len(wanted) != 1 or not isinstance(item[wanted[0]], dict) or "action" not in item[wanted[0]]:
            return ["a policy expectation is {allow: {action, resource, ...}} or {deny: {...}}"]
        return []
    return (
        []
        if "metric" in item and "op" in item and "value" in item
        else ["a scenario expectation is {metric, function|queue|stream, op, value} as in a scenario's expect"]
    )


DRAWS_PROVED = 2  # draws of each `vary` the reference must pass, besides what `classroom init` draws


def _draw_problems(exercise: Exercise, folder: Path, seed: int, doc: Document) -> list[InputError]:
    """A hidden check's draws must stay solvable: the reference passes a few of them."""
    problems = []
    for check in (c for c in exercise.checks if c.vary):
        for number in range(1, DRAWS_PROVED + 1):
            outcome = run_check(variation.drawn(check, random.Random(number)), folder, seed)
            if outcome.status != PASS:
                first = outcome.message.splitlines()[0] if outcome.message else outcome.status
                problems.append(
                    doc.error(
                        ("checks", check.order - 1, "vary"),
                        f"the reference solution fails draw {number} of {check.id!r}: {first}",
                    )
                )
                break
    return problems


def proof_problems(exercise: Exercise, doc: Document) -> list[InputError]:
    problems = []
    with tempfile.TemporaryDirectory(prefix="lambdalab-proof-") as scratch:
        for role in ("starter", "solution"):
            folder = Path(scratch) / role / exercise.folder.name
            folder.mkdir(parents=True)
            for name in exercise.starter:
                source = exercise.starter_path(name) if role == "starter" else exercise.solution_path(name)
                shutil.copyfile(source, folder / name)
            result = grade_exercise(exercise, folder, earned_only=False)
            if role == "starter":
                for check, outcome in zip(exercise.checks, result.checks):
                    if (outcome.status == PASS) != check.guard:
                        said = (
                            (f"{check.id!r} is a guard but fails on the starter: a guard is a check the starter passes")
                            if check.guard
                            else (
                                f"{check.id!r} passes on the untouched starter: mark it "
                                "`guard: true`, so a blank submission does not score it"
                            )
                        )
                        problems.append(doc.error(("checks", check.order - 1), said))
            if role == "solution":
                problems.extend(_draw_problems(exercise, folder, result.seed, doc))
            if role == "solution" and result.status != PASS:
                failed = [c for c in result.checks if c.status != PASS]
                for failure in failed:
                    problems.append(
                        doc.error(
                            ("checks", failure.order - 1),
                            f"the reference solution does not pass {failure.id!r}: "
                            f"{failure.message.splitlines()[0] if failure.message else failure.status}",
                        )
                    )
            if role == "starter" and result.status == PASS:
                problems.append(
                    doc.error(("starter",), "the starter already passes every check: the exercise teaches nothing")
                )
    return problems
