"""What the instructor sees of a room: each learner's place in the course, quiz scores, exercises passed and
the check they are stuck on, and the class's pass rate per exercise. Read from the learners' own progress
files under the server's data folder (`DATA/learners/NAME/progress.json`, room.py), so the live page of
`lambdalab serve` and `lambdalab classroom report DATA` afterwards show the same thing. No aiohttp here.

A progress file is the learner's and may be damaged or from another version: whatever cannot be read (as the
class report reads collected progress files) is shown as nothing done, with a note, never an error that hides
the rest of the room.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lambdalab.course.loader import Course, load_course
from lambdalab.course.progress import FILE_NAME
from lambdalab.grading.class_report import BadInput, read_progress_file
from lambdalab.grading.exercises import Exercise
from lambdalab.serving.room import joined


@dataclass(frozen=True)
class QuizScore:
    lesson: int  # the lesson's number
    quiz: str  # the quiz step's title
    best: int
    total: int
    passed: bool


@dataclass(frozen=True)
class Stuck:
    exercise: str  # its id
    check: str  # the check the last attempt failed first (or why none ran)
    attempts: int


@dataclass(frozen=True)
class LearnerRow:
    name: str
    connected: bool
    lesson: str  # "3. Concurrency and throttling", or "" before any
    step: str  # the step's title, or ""
    quizzes: tuple[QuizScore, ...]
    passed: tuple[str, ...]  # exercise ids, in course order
    stuck: tuple[Stuck, ...]  # attempted, not passed
    active: str  # when their progress last changed (UTC, ISO 8601), or ""


@dataclass(frozen=True)
class ExerciseRate:
    id: str
    number: int
    title: str
    attempted: int  # learners who checked it at least once
    passed: int


@dataclass(frozen=True)
class RoomView:
    learners: tuple[LearnerRow, ...]
    exercises: tuple[ExerciseRate, ...]  # every exercise of the course, in course order
    notes: tuple[str, ...]  # progress files that could not be read

    @property
    def connected(self) -> int:
        return sum(row.connected for row in self.learners)

    def numbers(self) -> dict[str, int]:
        """Exercise id -> its number in the course, as learners know it."""
        return {rate.id: rate.number for rate in self.exercises}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "connected": self.connected}


@functools.cache
def shared_course() -> Course:
    """The course, loaded once per server for the instructor's view (its lesson and step titles)."""
    return load_course()


def read_room(data: Path, course: Course, exercises: Sequence[Exercise], connected: Collection[str] = ()) -> RoomView:
    """The room as its data folder holds it now; `connected` names the learners with a session open."""
    notes: list[str] = []
    progress = {name: _progress(data / "learners" / name / FILE_NAME, notes) for name in joined(data)}
    rows = tuple(_row(name, name in connected, found, course, exercises) for name, found in progress.items())
    rates = tuple(
        ExerciseRate(
            exercise.id,
            exercise.number,
            exercise.title,
            attempted=sum(
                exercise.id in row.passed or any(s.exercise == exercise.id for s in row.stuck) for row in rows
            ),
            passed=sum(exercise.id in row.passed for row in rows),
        )
        for exercise in exercises
    )
    return RoomView(rows, rates, tuple(notes))


def _progress(path: Path, notes: list[str]) -> tuple[dict[str, Any], str]:
    """(the learner's progress, when it last changed) or ({}, "") for none yet or one that cannot be read."""
    if not path.exists():
        return {}, ""
    try:
        data, changed = read_progress_file(path), path.stat().st_mtime
    except (BadInput, OSError) as exc:
        notes.append(f"skipped {exc}")
        return {}, ""
    return data, datetime.fromtimestamp(changed, timezone.utc).isoformat(timespec="seconds")


def _row(
    name: str, connected: bool, found: tuple[dict[str, Any], str], course: Course, exercises: Sequence[Exercise]
) -> LearnerRow:
    data, active = found
    lessons = {lesson.id: lesson for lesson in course.lessons}
    lesson = lessons.get(str(data.get("last_lesson")))
    step = lesson.step(str(data.get("last_step"))) if lesson else None
    quizzes = []
    for done_lesson in course.lessons:  # read_progress_file checked the quizzes' shape: best and total are there
        done = data.get("lessons", {}).get(done_lesson.id, {}).get("quizzes", {})
        for quiz in done_lesson.quizzes:
            if record := done.get(quiz.id):
                passed_quiz = record.get("passed") is True
                quizzes.append(QuizScore(done_lesson.number, quiz.title, record["best"], record["total"], passed_quiz))
    records = data.get("exercises", {})
    passed, stuck = [], []
    for exercise in exercises:
        record = records.get(exercise.id, {})
        if record.get("passed") is True:
            passed.append(exercise.id)
        elif attempts := _count(record.get("attempts"), 0):  # hints alone are not an attempt
            why = record.get("stuck_on")
            stuck.append(Stuck(exercise.id, why if isinstance(why, str) else "", attempts))
    return LearnerRow(
        name,
        connected,
        f"{lesson.number}. {lesson.title}" if lesson else "",
        step.title if step else "",
        tuple(quizzes),
        tuple(passed),
        tuple(stuck),
        active,
    )


def _count(value: Any, otherwise: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else otherwise
